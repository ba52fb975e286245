import { Elysia, t } from 'elysia'
import type { Store } from '../db/store'
import { errorBody } from '../http/errors'
import { errorResponse } from '../http/responses'
import type { Directory } from '../messages/directory'
import type { MessageLifecycle } from '../messages/lifecycle'
import type { MessagingService } from '../messages/service'
import type { Logger } from '../observability/logger'
import { CloseCode } from '../protocol/close-codes'
import { negotiateFormat } from '../protocol/codec'
import { groupTarget, presenceTarget, replyTopic, topicOf, userTarget } from '../protocol/topics'
import { createCatchUp } from './catch-up'
import { createClientFrames } from './client-frames'
import { newConfirmState } from './confirmations'
import type { ConnState, Socket } from './connection'
import type { LocalConnections } from './connections'
import type { Delivery } from './delivery'
import type { GatewayHooks } from './hooks'

export interface GatewayDeps {
  store: Store
  directory: Directory
  messaging: MessagingService
  lifecycle: MessageLifecycle
  delivery: Delivery
  connections: LocalConnections
  maxMessageLength: number
  logger: Logger
  /** Limits, token expiry, metrics and logs (src/limits/socket-guard.ts). */
  hooks?: GatewayHooks
  /** Catch-up waits for Bun to send what is queued beyond this, so a long backlog never looks like a slow consumer. */
  catchUpPauseBytes?: number
  /** A user's first connection here opened, or their last one closed (webhooks hear of it). */
  onPresence?: (userId: number, online: boolean, timestamp: string) => void
}

const now = () => new Date().toISOString()

/**
 * The WebSocket gateway: the upgrade at /ws/{user_id} and each connection's life (open, close,
 * drain, pong; its subscriptions and the membership changes applied to them). What its frames do
 * is src/realtime/client-frames.ts.
 *
 * The upgrade is an ordinary Elysia route calling `server.upgrade` with our own per-connection
 * state. Elysia's Bun adapter dispatches each socket event to `ws.data.open/message/close/drain`;
 * handling them directly gives the codec the raw frame (Elysia's `.ws()` would JSON-parse text
 * itself and wrap every message in a new object) and keeps per-connection memory small. That
 * dispatch is Elysia's, not a documented API: package.json pins Elysia's version, and the tests in
 * test/realtime fail if an upgrade stops reaching these callbacks.
 */
export function createGateway(deps: GatewayDeps) {
  const { store, directory, messaging, lifecycle, delivery, connections, hooks, logger } = deps
  const catchUpPauseBytes = deps.catchUpPauseBytes ?? 256 * 1024
  /** Numbers this gateway's connections for their reply topics (topics are per server). */
  let connectionSeq = 0
  const frames = createClientFrames({ messaging, lifecycle, delivery, hooks, logger })

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
    if (first) {
      const timestamp = now()
      delivery.publish([presenceTarget], { type: 'presence', user_id: userId, online: true, timestamp })
      deps.onPresence?.(userId, true, timestamp)
    }
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
    const timestamp = now()
    delivery.publish([presenceTarget], { type: 'presence', user_id: userId, online: false, timestamp })
    deps.onPresence?.(userId, false, timestamp)
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
  const messageSafely = fenced('message', frames.receive)
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
