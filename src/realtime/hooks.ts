import type { Socket } from './connection'
import type { ClientFrame } from '../protocol/frames'

/** What a frame costs against the rate limits: chat messages, typing, and everything else. */
export type FrameKind = 'message' | 'typing' | 'frame' | 'invalid'

/**
 * The gateway's seam for cross-cutting concerns (authentication expiry, rate limits, slow
 * consumers, metrics, logs), implemented in src/limits/socket-guard.ts. The gateway calls these;
 * it stays ignorant of how they are done.
 */
export interface GatewayHooks {
  /** At upgrade, after the request passed the REST policy: the per-connection guard state. */
  upgrade(request: Request, userId: number): ConnGuardState
  opened(ws: Socket): void
  closed(ws: Socket, code: number, reason: string): void
  /** True: handle the frame. False: it was refused or deferred, and the client was told. */
  admit(ws: Socket, kind: FrameKind, frame: ClientFrame | null, ref: string | null): boolean
  /** An error frame was sent (metrics, logs). */
  errorSent(ws: Socket, code: string): void
  /** A chat message was committed and published `ms` after its frame arrived. */
  messageStored(ms: number): void
}

/** Per-connection state owned by the guard; the gateway only carries it in `ws.data.guard`. */
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
