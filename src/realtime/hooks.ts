import type { ClientFrame } from '../protocol/frames'
import type { ConnGuardState, Socket } from './connection'

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
