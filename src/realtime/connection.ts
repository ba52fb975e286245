import type { ServerWebSocket } from 'bun'
import type { Origin } from '../protocol/topics'
import type { ConfirmState } from './confirmations'
import type { ClientFrame, Format } from '../protocol/frames'

/** What the server keeps for one WebSocket connection (Bun's `ws.data`). */
export interface ConnState {
  userId: number
  format: Format
  /** Resume point from `?since=`; undefined means "what was stored while I was away". */
  since: number | undefined
  wantsPresence: boolean
  /** Groups whose topics this connection is (or will be, once synced) subscribed to. */
  groups: Set<number>
  /**
   * A topic only this connection subscribes to (from open), for a lone reply written after a commit:
   * see `Delivery.batched`.
   */
  replyTopic: string
  /** False until the backlog has been sent and the topics subscribed. */
  synced: boolean
  /** What the device was sent and has yet to confirm (src/realtime/confirmations.ts). */
  confirm: ConfirmState
  /** Frames wait here while an earlier frame of this connection awaits the database. */
  pending: Promise<void> | null
  /** Limits, token expiry and logging state (src/limits/socket-guard.ts); absent without hooks. */
  guard?: ConnGuardState
  /** Resolves a catch-up paused until Bun has sent what is queued. */
  drained?: (() => void) | null
  // Elysia's Bun adapter dispatches the socket callbacks to these (see gateway.ts).
  open(ws: Socket): void
  message(ws: Socket, raw: string | Buffer): void
  close(ws: Socket, code: number, reason: string): void
  drain(ws: Socket): void
  pong(ws: Socket, data: Buffer): void
}

export type Socket = ServerWebSocket<ConnState>

/** Per-connection state owned by the guard (src/limits/socket-guard.ts); the gateway only carries it in `ws.data.guard`. */
export interface ConnGuardState {
  id: number
  openedAt: number
  expiresAt: number | null
  expiryTimer: ReturnType<typeof setTimeout> | null
  /** Consecutive rate-limited frames. */
  strikes: number
  /** The latest typing frame per target, held back by the typing rate and sent when it allows. */
  pendingTyping: Map<string, ClientFrame & { type: 'typing' }> | null
  typingTimer: ReturnType<typeof setTimeout> | null
  /** Why the server closed it, once it did. */
  closing: string | null
}

/** A socket as the messaging rules carry it: an opaque origin that the hub skips when it publishes. */
export const originOf = (ws: Socket): Origin => ws as unknown as Origin
