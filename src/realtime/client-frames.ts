import { AppError } from '../http/errors'
import type { MessageLifecycle } from '../messages/lifecycle'
import type { MessagingService } from '../messages/service'
import { unavailable } from '../messages/service'
import type { Logger } from '../observability/logger'
import { decodeFrame } from '../protocol/codec'
import { clientFrameCheckers, type ClientFrame } from '../protocol/frames'
import { isoTime } from '../protocol/views'
import { originOf, type Socket } from './connection'
import type { Delivery } from './delivery'
import type { FrameKind, GatewayHooks } from './hooks'

export interface ClientFramesDeps {
  messaging: MessagingService
  lifecycle: MessageLifecycle
  delivery: Delivery
  logger: Logger
  /** Rate limits, and the metrics and logs of errors (src/limits/socket-guard.ts). */
  hooks?: GatewayHooks
}

const now = () => new Date().toISOString()

/**
 * What a connection's frames do: each is decoded, checked against its schema, admitted by the
 * hooks and dispatched to the messaging rules, in the order the connection sent them. A refusal or
 * a failure is answered with an `error` frame on that connection.
 */
export function createClientFrames(deps: ClientFramesDeps) {
  const { messaging, lifecycle, delivery, hooks, logger } = deps

  function sendError(ws: Socket, error: AppError, ref: string | null): void {
    delivery.sendTo(ws, { type: 'error', code: error.code, message: error.message, ref })
    hooks?.errorSent(ws, error.code)
  }

  /** A frame that could not be decoded or checked: it counts against the frame rate too. */
  function refuseFrame(ws: Socket, error: AppError, ref: string | null): void {
    if (hooks && !hooks.admit(ws, 'invalid', null, ref)) return
    sendError(ws, error, ref)
  }

  /** Takes one frame as Bun hands it over. */
  function receive(ws: Socket, raw: string | Buffer): void {
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
      // Answered by the change's event, which reaches this connection like every member's; a
      // retry that changes nothing is answered with nothing (the event is in the stream already).
      case 'edit_message':
        return settle(ws, lifecycle.edit(ws.data.userId, f.message_id, f.message), ref)
      case 'delete_message':
        return settle(ws, lifecycle.delete(ws.data.userId, f.message_id), ref)
      case 'add_reaction':
        return settle(ws, lifecycle.react(ws.data.userId, f.message_id, f.emoji, true), ref)
      case 'remove_reaction':
        return settle(ws, lifecycle.react(ws.data.userId, f.message_id, f.emoji, false), ref)
    }
  }

  /** A lifecycle action's refusal as an error frame; a storage failure as `unavailable`. */
  function settle(ws: Socket, action: Promise<unknown>, ref: string | null): Promise<void> {
    return action.then(
      () => undefined,
      (error) => sendError(ws, error instanceof AppError ? error : unavailable(error, logger), ref),
    )
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

  return { receive }
}

/** Longest `ref` (or `client_id`) echoed in an error frame, as the frame schemas allow. */
const MAX_REF_LENGTH = 64

/** A frame's `ref` as an error may echo it: a short string, checked before the frame's schema is. */
function echoable(value: unknown): string | null {
  return typeof value === 'string' && value.length <= MAX_REF_LENGTH && value.isWellFormed() ? value : null
}

function kindOf(frame: ClientFrame): FrameKind {
  // An edit writes like a send, and counts as one.
  return frame.type === 'message' || frame.type === 'edit_message' ? 'message' : frame.type === 'typing' ? 'typing' : 'frame'
}
