/** Reconnect delays: exponential, capped, with "equal jitter" so clients spread out after an outage. */
export interface BackoffOptions {
  initialDelayMs: number
  maxDelayMs: number
}

/**
 * The delay before reconnect attempt `attempt` (1-based): half of min(max, initial * 2^(attempt-1))
 * plus a random share of the other half. Never below half the step, never above the cap.
 */
export function backoffDelay(attempt: number, { initialDelayMs, maxDelayMs }: BackoffOptions, random: () => number = Math.random): number {
  const step = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)))
  return Math.round(step / 2 + random() * (step / 2))
}
