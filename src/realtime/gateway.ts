import { Elysia, t } from 'elysia'
import type { Store } from '../db/store'
import { AppError, errorBody } from '../http/errors'
import { errorResponse } from '../http/responses'
import type { Directory } from '../messages/directory'
import type { Logger } from '../observability/logger'
import type { MessagingService } from '../messages/service'
import { unavailable } from '../messages/service'
import { isoTime } from '../protocol/views'
import { createCatchUp } from './catch-up'
import { CloseCode } from '../protocol/close-codes'
import { newConfirmState } from './confirmations'
import { decodeFrame, negotiateFormat } from '../protocol/codec'
import { originOf, type ConnState, type Socket } from './connection'
import type { LocalConnections } from './connections'
import type { Delivery } from './delivery'
import type { FrameKind, GatewayHooks } from './hooks'
import { clientFrameCheckers, type ClientFrame, type Format } from '../protocol/frames'
import { groupTarget, presenceTarget, replyTopic, topicOf, userTarget } from '../protocol/topics'

export interface GatewayDeps {
  store: Store
  directory: Directory
  messaging: MessagingService
  delivery: Delivery
  connections: LocalConnections
  maxMessageLength: number
  logger: Logger
  /** Limits, token expiry, metrics and logs (src/limits/socket-guard.ts). */
  hooks?: GatewayHooks
  /** Catch-up waits for Bun to send what is queued beyond this, so a long backlog never looks like a slow consumer. */
  catchUpPauseBytes?: number
}

const now = () => new Date().toISOString()

/**
 * The WebSocket gateway: the upgrade at /ws/{user_id} and the socket callbacks.
 *
 * The upgrade is an ordinary Elysia route calling `server.upgrade` with our own per-connection
 * state. Elysia's Bun adapter dispatches each socket event to `ws.data.open/message/close/drain`;
 * handling them directly gives the codec the raw frame (Elysia's `.ws()` would JSON-parse text
 * itself and wrap every message in a new object) and keeps per-connection memory small. That
 * dispatch is Elysia's, not a documented API: package.json pins Elysia's version, and the tests in
 * test/realtime fail if an upgrade stops reaching these callbacks.
 */
export function createGateway(deps: GatewayDeps) {
  const { store, directory, messaging, delivery, connections, hooks, logger } = deps
  const catchUpPauseBytes = deps.catchUpPauseBytes ?? 256 * 1024
  /** Numbers this gateway's connections for their reply topics (topics are per server). */
  let connectionSeq = 0

  function sendError(ws: Socket, error: AppError, ref: string | null): void {
    delivery.sendTo(ws, { type: 'error', code: error.code, message: error.message, ref })
    hooks?.errorSent(ws, error.code)
  }

  /** A frame that could not be decoded or checked: it counts against the frame rate too. */
  function refuseFrame(ws: Socket, error: AppError, ref: string | null): void {
    if (hooks && !hooks.admit(ws, 'invalid', null, ref)) return
    sendError(ws, error, ref)
  }

  function waitForDrain(ws: Socket): Promise<void> {
    return new Promise((resolve) => (ws.data.drained = resolve))
  }

  function subscribeAll(ws: Socket): void {
    const { userId, format, groups, wantsPresence } = ws.data
    ws.subscribe(topicOf(userTarget(userId), format))
    for (const groupId of groups) {
      ws.subscribe(topicOf(groupTarget(groupId), format))
      connections.joinGroup(ws, groupId)
    }
    if (wantsPresence) ws.subscribe(topicOf(presenceTarget, format))
  }

  const catchUp = createCatchUp({
    store,
    delivery,
    subscribe: subscribeAll,
    drained: waitForDrain,
    pauseBytes: catchUpPauseBytes,
  })

  function onOpen(ws: Socket): void {
    const { userId, format } = ws.data
    const first = connections.add(ws)
    ws.subscribe(ws.data.replyTopic)
    delivery.socketOpened(format)
    hooks?.opened(ws)
    delivery.sendTo(ws, {
      type: 'connection_established',
      user_id: userId,
      timestamp: now(),
      format,
      groups: [...ws.data.groups],
      max_message_length: deps.maxMessageLength,
    })
    if (first) delivery.publish([presenceTarget], { type: 'presence', user_id: userId, online: true, timestamp: now() })
    catchUp(ws).catch((error) => {
      logger.error({ err: error, user: userId }, 'catch-up failed')
      if (ws.readyState === 1) ws.close(CloseCode.internalError, 'catch-up failed')
    })
  }

  function onClose(ws: Socket, code: number, reason: string): void {
    const { userId } = ws.data
    ws.data.drained?.()
    delivery.socketClosed(ws.data.format)
    hooks?.closed(ws, code, reason)
    delivery.unwatchSocket(ws.data)
    // What the device did not confirm stays `sent`: it is sent again on the user's next connection.
    delivery.confirmations.closed(ws)
    if (!connections.remove(ws)) return
    delivery.publish([presenceTarget], { type: 'presence', user_id: userId, online: false, timestamp: now() })
  }

  function onMessage(ws: Socket, raw: string | Buffer): void {
    const conn = ws.data
    // A frame that waits on the database holds back the frames behind it, so each connection's
    // frames are handled, and its messages stored, in the order they arrived.
    if (conn.pending) {
      conn.pending = conn.pending.then(() => handleSafely(ws, raw))
      return
    }
    const result = handleSafely(ws, raw)
    if (result) {
      const chained: Promise<void> = result.finally(() => {
        if (conn.pending === chained) conn.pending = null
      })
      conn.pending = chained
    }
  }

  /** A bug in handling one frame answers that frame with `internal` and never stalls the ones behind it. */
  function handleSafely(ws: Socket, raw: string | Buffer): Promise<void> | void {
    const internal = (error: unknown) => {
      logger.error({ err: error, user: ws.data.userId }, 'frame handling failed')
      sendError(ws, new AppError(500, 'internal', 'internal error; the frame was not processed'), null)
    }
    try {
      const result = handleFrame(ws, raw)
      if (result) return result.catch(internal)
    } catch (error) {
      internal(error)
    }
  }

  function handleFrame(ws: Socket, raw: string | Buffer): Promise<void> | void {
    const decoded = decodeFrame(raw)
    if (!decoded.ok) return refuseFrame(ws, new AppError(400, decoded.code, decoded.message), null)
    const frame = decoded.value as Partial<ClientFrame> | null
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame))
      return refuseFrame(ws, new AppError(400, 'invalid_frame', 'a frame must be an object with a type'), null)
    const ref = echoable(frame.ref) ?? echoable((frame as { client_id?: unknown }).client_id)
    const type = frame.type
    const checker = typeof type === 'string' && Object.hasOwn(clientFrameCheckers, type) ? clientFrameCheckers[type as ClientFrame['type']] : undefined
    if (!checker) {
      if (typeof type !== 'string') return refuseFrame(ws, new AppError(400, 'invalid_frame', 'a frame must have a string type'), ref)
      return refuseFrame(ws, new AppError(400, 'unknown_type', `unknown frame type ${JSON.stringify(type.slice(0, 64))}`), ref)
    }
    if (!checker.Check(frame)) {
      const first = checker.Errors(frame).First()
      const where = first?.path ? `${first.path}: ` : ''
      return refuseFrame(ws, new AppError(400, 'invalid_frame', `${where}${first?.message ?? 'invalid frame'}`), ref)
    }
    const f = frame as ClientFrame
    if (hooks && !hooks.admit(ws, kindOf(f), f, ref)) return
    switch (f.type) {
      case 'message':
        return sendMessage(ws, f, ref)
      case 'typing': {
        const result = messaging.typing(ws.data.userId, f, f.is_typing, originOf(ws))
        if (result instanceof Promise) return result.then((e) => e && sendError(ws, e, ref))
        if (result) sendError(ws, result, ref)
        return
      }
      case 'read_receipt':
        // The seed's receipt names the original sender; a wrong one is an error, not ignored.
        return markRead(ws, f.message_id, f.sender_id, ref)
      case 'ping':
        return delivery.sendTo(ws, { type: 'pong', timestamp: now() })
    }
  }

  function markRead(ws: Socket, messageId: number, claimedSender: number | undefined, ref: string | null): Promise<void> {
    return messaging.markRead(ws.data.userId, messageId, claimedSender).then(
      () => undefined,
      (error) => sendError(ws, error instanceof AppError ? error : new AppError(500, 'internal', 'internal error'), ref),
    )
  }

  function sendMessage(ws: Socket, f: ClientFrame & { type: 'message' }, ref: string | null): Promise<void> | void {
    const receivedAt = performance.now()
    const prepared = messaging.prepare(ws.data.userId, f)
    const commit = (message: Exclude<Awaited<typeof prepared>, AppError>) =>
      messaging.commit(message, originOf(ws), (error, outcome) => {
        if (error) return sendError(ws, unavailable(error, logger), ref)
        const { message: stored, duplicate } = outcome!
        hooks?.messageStored(performance.now() - receivedAt)
        delivery.sendTo(ws, {
          type: 'message_sent',
          message_id: stored.id,
          client_id: stored.clientId,
          status: stored.status,
          timestamp: isoTime(stored.createdAt),
          duplicate,
        })
      })
    if (prepared instanceof Promise)
      return prepared.then(
        (p) => (p instanceof AppError ? sendError(ws, p, ref) : commit(p)),
        // The database could not answer a check (user, group): nothing stored, the client retries.
        (error) => sendError(ws, unavailable(error, logger), ref),
      )
    if (prepared instanceof AppError) return sendError(ws, prepared, ref)
    commit(prepared)
  }

  /**
   * Bun's socket callbacks, fenced: a fault in one connection's callback is logged and closes that
   * connection with 1011; it never reaches Bun, where an uncaught exception ends the process.
   */
  function fenced<A extends unknown[]>(name: string, callback: (ws: Socket, ...args: A) => void) {
    return (ws: Socket, ...args: A): void => {
      try {
        callback(ws, ...args)
      } catch (error) {
        logger.error({ err: error, user: ws.data.userId, callback: name }, 'socket callback failed')
        if (name !== 'close' && ws.readyState === 1) ws.close(CloseCode.internalError, 'internal error')
      }
    }
  }
  const openSafely = fenced('open', onOpen)
  const messageSafely = fenced('message', onMessage)
  const closeSafely = fenced('close', onClose)
  const drainSafely = fenced('drain', onDrain)
  const pongSafely = fenced('pong', (ws: Socket, data: Buffer) => delivery.confirmations.pong(ws, data))

  function onDrain(ws: Socket): void {
    const drained = ws.data.drained
    ws.data.drained = null
    drained?.()
  }

  /** Subscribes or unsubscribes a user's live sockets to a group after a membership change. */
  function applyMembership(groupId: number, userId: number, isMember: boolean): void {
    for (const ws of connections.socketsOf(userId)) {
      if (ws.data.groups.has(groupId) !== isMember) delivery.watchGroup(groupId, isMember)
      if (isMember) ws.data.groups.add(groupId)
      else ws.data.groups.delete(groupId)
      if (!ws.data.synced) continue
      const topic = topicOf(groupTarget(groupId), ws.data.format)
      if (isMember) {
        ws.subscribe(topic)
        connections.joinGroup(ws, groupId)
      } else {
        ws.unsubscribe(topic)
        connections.leaveGroup(ws, groupId)
      }
    }
  }

  const Params = t.Object({ user_id: t.Integer({ minimum: 1, description: 'The connecting user' }) })
  const Query = t.Object({
    format: t.Optional(t.String({ description: "'json' (default) or 'msgpack'" })),
    since: t.Optional(t.Integer({ minimum: 0, description: 'Resume after this seq (a message id is one): every event after it is replayed' })),
    presence: t.Optional(t.Union([t.Literal('1'), t.Literal('0'), t.Literal('true'), t.Literal('false')], { description: 'Receive presence frames' })),
    token: t.Optional(t.String({ description: 'AUTH=jwt: the bearer token, for clients that cannot set Authorization (browsers)' })),
  })

  const routes = new Elysia({ name: 'gateway' }).get(
    '/ws/:user_id',
    async ({ params, query, request, server, status }) => {
      const userId = params.user_id
      const negotiated = negotiateFormat(query.format, request.headers.get('sec-websocket-protocol'))
      if (!negotiated) return status(422, errorBody('invalid_format', "format must be 'json' or 'msgpack'"))
      if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket')
        return status(426, errorBody('upgrade_required', 'this endpoint speaks WebSocket'))
      if (!(await directory.userExists(userId))) return status(404, errorBody('unknown_user', `user ${userId} does not exist`))
      const groups = new Set(await store.groupIdsOf(userId))
      // A resume point beyond the stream's end is clamped to it: events after it must not be skipped.
      const since = query.since === undefined ? undefined : Math.min(query.since, await store.lastSeq())
      const data: ConnState = {
        userId,
        format: negotiated.format,
        since,
        wantsPresence: query.presence === '1' || query.presence === 'true',
        groups,
        replyTopic: replyTopic(++connectionSeq),
        synced: false,
        confirm: newConfirmState(),
        pending: null,
        open: openSafely,
        message: messageSafely,
        close: closeSafely,
        drain: drainSafely,
        pong: pongSafely,
        guard: hooks?.upgrade(request, userId),
      }
      const headers = negotiated.protocol ? { 'Sec-WebSocket-Protocol': negotiated.protocol } : undefined
      if (!server?.upgrade(request, { data, headers })) return status(400, errorBody('upgrade_failed', 'the WebSocket upgrade failed'))
    },
    {
      params: Params,
      query: Query,
      detail: {
        summary: 'Open the WebSocket',
        description: 'Upgrades to a WebSocket speaking the protocol in docs/PROTOCOL.md.',
        tags: ['realtime'],
      },
      response: {
        400: errorResponse('The upgrade failed', ['upgrade_failed', 'the WebSocket upgrade failed']),
        403: errorResponse('AUTH=jwt: the path user is not the token\'s; or a browser origin not in ALLOWED_ORIGINS', ['forbidden', 'the path user is 2, but the token is for user 1'], ['origin_not_allowed', 'origin https://elsewhere.example may not open a WebSocket here']),
        404: errorResponse('No such user', ['unknown_user', 'user 99 does not exist']),
        422: errorResponse('A format other than json or msgpack', ['invalid_format', "format must be 'json' or 'msgpack'"]),
        426: errorResponse('Not a WebSocket upgrade request', ['upgrade_required', 'this endpoint speaks WebSocket']),
        429: errorResponse('The user has MAX_CONNECTIONS_PER_USER connections open here already', ['too_many_connections', 'user 1 already has 10 connections open here']),
      },
    },
  )

  return { routes, applyMembership }
}

export type Gateway = ReturnType<typeof createGateway>

/** Longest `ref` (or `client_id`) echoed in an error frame, as the frame schemas allow. */
const MAX_REF_LENGTH = 64

/** A frame's `ref` as an error may echo it: a short string, checked before the frame's schema is. */
function echoable(value: unknown): string | null {
  return typeof value === 'string' && value.length <= MAX_REF_LENGTH && value.isWellFormed() ? value : null
}

function kindOf(frame: ClientFrame): FrameKind {
  return frame.type === 'message' ? 'message' : frame.type === 'typing' ? 'typing' : 'frame'
}
export type { Format }
