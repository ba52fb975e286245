import type { Principal } from '../auth/verifier'
import type { Config } from '../config'
import type { Logger } from '../observability/logger'
import type { Metrics } from '../observability/metrics'
import { CloseCode } from '../protocol/close-codes'
import type { ConnGuardState, Socket } from '../realtime/connection'
import type { LocalConnections } from '../realtime/connections'
import type { Delivery } from '../realtime/delivery'
import type { FrameKind, GatewayHooks } from '../realtime/hooks'
import type { ClientFrame } from '../protocol/frames'
import { RateLimiter } from './rate-limiter'
import type { RecentRefusals } from './refusals'

type TypingFrame = ClientFrame & { type: 'typing' }

/** setTimeout's longest delay; a token valid for longer is re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1
/** Typing targets remembered per connection while the typing rate holds them back. */
const MAX_PENDING_TYPING = 32
/** After a 4002 close frame is queued behind the backlog, how long the client gets to read it. */
const SLOW_CONSUMER_GRACE_MS = 2000
/** Longest a flooder's close waits for its accepted messages to be confirmed. */
const FLOOD_CLOSE_WAIT_MS = 1000
/**
 * Typing over its budget is coalesced, never refused, so it earns no strikes; instead a connection
 * may go beyond the typing rate by this factor (and save up this factor times FLOOD_CLOSE_AFTER
 * coalesced frames) before it is closed as a flooder. A person typing, even with a client that
 * sends a frame a keystroke, stays far below it.
 */
const TYPING_FLOOD_FACTOR = 10

export interface SocketGuardDeps {
  config: Config
  metrics: Metrics
  logger: Logger
  connections: LocalConnections
  delivery: Delivery
  principalOf(request: Request): Principal | undefined
  /** Relays a typing frame that the typing rate held back. */
  sendTyping(ws: Socket, frame: TypingFrame): void
  /** Resolves once the messages submitted so far are committed (so their confirmations go out before a close). */
  committed(): Promise<void>
  /** Who was refused lately, for the admin view. */
  refusals: RecentRefusals
}

/**
 * Everything a connection is held to beyond the protocol: its token's expiry (close 4001), the
 * per-user token buckets (rate_limited errors, typing coalesced, 1008 for a persistent flooder),
 * the slow-consumer check (close 4002), and one log line per open and close.
 */
export function createSocketGuard(deps: SocketGuardDeps): GatewayHooks & { start(): void; stop(): void } {
  const { config, metrics, logger, connections, delivery } = deps
  const limiters = {
    message: new RateLimiter<number>(config.messagesPerSecond, config.messagesBurst),
    typing: new RateLimiter<number>(config.typingPerSecond, config.typingBurst),
    frame: new RateLimiter<number>(config.framesPerSecond, config.framesBurst),
    /** Per connection (by guard id): coalesced typing frames. */
    typingFlood: new RateLimiter<number>(config.typingPerSecond * TYPING_FLOOD_FACTOR, config.floodCloseAfter * TYPING_FLOOD_FACTOR),
  }
  let nextId = 0
  let slowTimer: ReturnType<typeof setInterval> | null = null

  function armExpiry(ws: Socket): void {
    const guard = ws.data.guard!
    if (guard.expiresAt === null) return
    const left = guard.expiresAt - Date.now()
    if (left <= 0) {
      guard.closing = 'token_expired'
      ws.close(CloseCode.tokenExpired, 'token expired')
      return
    }
    guard.expiryTimer = setTimeout(() => armExpiry(ws), Math.min(left, MAX_TIMER_MS))
  }

  function flushTyping(ws: Socket): void {
    const guard = ws.data.guard!
    guard.typingTimer = null
    if (ws.readyState !== 1 || !guard.pendingTyping) return
    for (const [key, frame] of guard.pendingTyping) {
      const wait = limiters.typing.take(ws.data.userId)
      if (wait > 0) {
        guard.typingTimer = setTimeout(() => flushTyping(ws), wait)
        return
      }
      guard.pendingTyping.delete(key)
      deps.sendTyping(ws, frame)
    }
  }

  /** Holds the latest typing state per target instead of refusing it: only the last one matters. */
  function deferTyping(ws: Socket, frame: TypingFrame, wait: number): void {
    const guard = ws.data.guard!
    const pending = (guard.pendingTyping ??= new Map())
    const key = frame.group_id !== undefined ? `g${frame.group_id}` : `u${frame.recipient_id}`
    pending.delete(key)
    if (pending.size >= MAX_PENDING_TYPING) pending.delete(pending.keys().next().value!)
    pending.set(key, frame)
    guard.typingTimer ??= setTimeout(() => flushTyping(ws), wait)
  }

  /** Closes a flooder with 1008 once the messages it had accepted are stored and confirmed. */
  function closeFlooder(ws: Socket): void {
    ws.data.guard!.closing = 'flooding'
    const waited = Promise.race([deps.committed(), new Promise((resolve) => setTimeout(resolve, FLOOD_CLOSE_WAIT_MS))])
    waited.then(() => ws.readyState === 1 && ws.close(CloseCode.policyViolation, 'rate limit exceeded repeatedly'))
  }

  function checkSlowConsumers(): void {
    for (const ws of connections.all()) {
      const guard = ws.data.guard
      if (!guard || guard.closing || ws.readyState !== 1) continue
      const queued = ws.getBufferedAmount()
      if (queued <= config.slowConsumerBytes) continue
      guard.closing = 'slow_consumer'
      metrics.slowConsumerCloses.inc()
      logger.warn({ conn: guard.id, user: ws.data.userId, queued_bytes: queued }, 'slow consumer closed')
      // The close frame is queued behind what the client has not read; if it does not read even
      // that, the socket is dropped so its queue is freed. Either way it reconnects with `since`.
      ws.close(CloseCode.slowConsumer, 'slow consumer: reconnect with since')
      setTimeout(() => {
        if (ws.readyState !== 3) ws.terminate()
      }, SLOW_CONSUMER_GRACE_MS).unref()
    }
  }

  return {
    upgrade(request) {
      return {
        id: ++nextId,
        openedAt: performance.now(),
        expiresAt: deps.principalOf(request)?.expiresAt ?? null,
        expiryTimer: null,
        strikes: 0,
        pendingTyping: null,
        typingTimer: null,
        closing: null,
      } satisfies ConnGuardState
    },

    opened(ws) {
      const guard = ws.data.guard!
      metrics.connectionsOpened.inc()
      logger.info({ conn: guard.id, user: ws.data.userId, format: ws.data.format, since: ws.data.since ?? null }, 'connection open')
      armExpiry(ws)
    },

    closed(ws, code, reason) {
      const guard = ws.data.guard
      if (!guard) return
      if (guard.expiryTimer) clearTimeout(guard.expiryTimer)
      if (guard.typingTimer) clearTimeout(guard.typingTimer)
      guard.pendingTyping = null
      metrics.connectionsClosed.inc({ code: String(code) })
      const line = { conn: guard.id, user: ws.data.userId, code, reason: guard.closing ?? (reason || null), seconds: Math.round(performance.now() - guard.openedAt) / 1000 }
      if (guard.closing === 'flooding' || guard.closing === 'slow_consumer') logger.warn(line, 'connection closed')
      else logger.info(line, 'connection closed')
    },

    admit(ws, kind: FrameKind, frame, ref) {
      metrics.framesIn.inc(kind === 'invalid' ? 'invalid' : frame!.type)
      if (!config.rateLimit) return true
      const guard = ws.data.guard!
      // Closing a flooder: whatever else it sends is dropped without a word.
      if (guard.closing) return false
      const limiter = kind === 'message' ? limiters.message : kind === 'typing' ? limiters.typing : limiters.frame
      const wait = limiter.take(ws.data.userId)
      if (wait === 0) {
        guard.strikes = 0
        return true
      }
      metrics.rateLimited.inc({ kind: kind === 'invalid' ? 'frame' : kind })
      deps.refusals.record(ws.data.userId, kind === 'invalid' ? 'frame' : kind)
      if (kind === 'typing') {
        if (limiters.typingFlood.take(guard.id) > 0) closeFlooder(ws)
        else deferTyping(ws, frame as TypingFrame, wait)
        return false
      }
      if (++guard.strikes >= config.floodCloseAfter) {
        closeFlooder(ws)
        return false
      }
      delivery.sendTo(ws, {
        type: 'error',
        code: 'rate_limited',
        message: kind === 'message' ? 'too many messages: wait retry_after seconds and resend' : 'too many frames: wait retry_after seconds',
        ref,
        retry_after: wait / 1000,
      })
      return false
    },

    errorSent(ws, code) {
      metrics.errors.inc({ code, transport: 'ws' })
      if (code === 'internal' || code === 'unavailable') logger.error({ conn: ws.data.guard?.id, user: ws.data.userId, code }, 'frame failed')
      else logger.debug({ conn: ws.data.guard?.id, user: ws.data.userId, code }, 'frame refused')
    },

    messageStored(ms) {
      metrics.deliveryLatency.observe(ms / 1000)
    },

    start() {
      slowTimer = setInterval(checkSlowConsumers, config.slowConsumerCheckMs)
      slowTimer.unref()
    },

    stop() {
      if (slowTimer) clearInterval(slowTimer)
      for (const ws of connections.all()) {
        const guard = ws.data.guard
        if (guard?.expiryTimer) clearTimeout(guard.expiryTimer)
        if (guard?.typingTimer) clearTimeout(guard.typingTimer)
      }
    },
  }
}
