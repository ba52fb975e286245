/**
 * The WebSocket close codes this server sends (docs/PROTOCOL.md lists them for clients).
 * 1xxx are RFC 6455 §7.4.1 codes; 4xxx are ours (the range RFC 6455 §7.4.2 leaves to applications).
 */
export const CloseCode = {
  /** The server is shutting down: reconnect (with `since`), to this or another instance. */
  goingAway: 1001,
  /** The client kept sending after `rate_limited` errors. */
  policyViolation: 1008,
  /** A frame larger than MAX_FRAME_BYTES (Bun closes it). */
  tooBig: 1009,
  /** A server fault while serving this connection. */
  internalError: 1011,
  /** The token's `exp` has passed: reconnect with a fresh token. */
  tokenExpired: 4001,
  /** The client stopped reading and too much was queued for it: reconnect with `since`. */
  slowConsumer: 4002,
  /** An operator closed this user's connections from the admin API (POST /admin/api/users/{id}/disconnect). */
  byAdministrator: 4003,
} as const
