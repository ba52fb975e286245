import type { Format } from './types'

export interface ClientOptions {
  /** The server: 'http://host:port', 'https://…', 'ws://…' or 'wss://…' (a path prefix is kept). */
  url: string
  userId: number
  /** Framing on the wire; both sides of a conversation may differ. Default 'json'. */
  format?: Format
  /**
   * Sent as `?token=` (browsers cannot set headers on a WebSocket) and as a Bearer header on fetch.
   * A function is asked again before every connection: the server closes a socket whose token
   * expires (4001), and the reconnect then carries a fresh one.
   */
  token?: string | (() => string | undefined | Promise<string | undefined>)
  /** Receive presence frames and keep the `online` list. */
  presence?: boolean
  /** Resume after this seq on the first connection (a message id is one: e.g. the newest message already shown). */
  since?: number
  reconnect?: {
    initialDelayMs?: number
    maxDelayMs?: number
    /** A connection that lasted this long was healthy: the backoff starts over. */
    healthyAfterMs?: number
    /** Give up on an attempt that has not reached connection_established by then. */
    connectTimeoutMs?: number
  }
  heartbeat?: {
    /** A ping every intervalMs while open. */
    intervalMs?: number
    /** No frame at all within timeoutMs after a ping: the connection is dead. */
    timeoutMs?: number
  }
  typing?: {
    /** Silence after which a stop is sent. */
    idleMs?: number
    /** While typing goes on, repeat the start this often. */
    refreshMs?: number
    /** A remote indicator not refreshed for this long is ended. */
    remoteExpiryMs?: number
  }
  /** Another WebSocket implementation (default: the global one). */
  WebSocket?: typeof WebSocket
  /** Another fetch (default: the global one). */
  fetch?: typeof fetch
}

/** A send or call refused by the server or by the client itself. */
export class SwitchboardError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'SwitchboardError'
  }
}

/** The timers with their defaults filled in. */
export function timerSettings(options: ClientOptions) {
  return {
    reconnect: { initialDelayMs: 500, maxDelayMs: 15_000, healthyAfterMs: 5_000, connectTimeoutMs: 10_000, ...options.reconnect },
    heartbeat: { intervalMs: 15_000, timeoutMs: 10_000, ...options.heartbeat },
    typing: { idleMs: 3_000, refreshMs: 3_000, remoteExpiryMs: 6_000, ...options.typing },
  }
}
