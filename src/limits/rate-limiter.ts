/** How often `take` drops idle buckets (no timer: the sweep rides on the traffic). */
const SWEEP_EVERY_MS = 10_000

/**
 * Token buckets keyed by user id or IP: `rate` tokens a second, at most `burst` saved up. A key whose
 * bucket has filled up again holds no information and is forgotten by `sweep`, so memory follows
 * the number of recently active keys, not of all keys ever seen.
 */
export class RateLimiter<K = number | string> {
  private readonly buckets = new Map<K, { tokens: number; at: number }>()
  private sweptAt = performance.now()

  constructor(
    readonly rate: number,
    readonly burst: number,
  ) {}

  /** Takes one token: 0 when allowed, else the milliseconds until one is available. */
  take(key: K, now = performance.now()): number {
    if (now - this.sweptAt > SWEEP_EVERY_MS) this.sweep(now)
    let bucket = this.buckets.get(key)
    if (!bucket) this.buckets.set(key, (bucket = { tokens: this.burst, at: now }))
    else {
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) * this.rate) / 1000)
      bucket.at = now
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    return Math.ceil(((1 - bucket.tokens) * 1000) / this.rate)
  }

  /** Whether `take` would allow one now, without taking it. */
  allows(key: K, now = performance.now()): boolean {
    const bucket = this.buckets.get(key)
    return !bucket || Math.min(this.burst, bucket.tokens + ((now - bucket.at) * this.rate) / 1000) >= 1
  }

  /** Forgets buckets that are full again. */
  sweep(now = performance.now()): void {
    this.sweptAt = now
    for (const [key, bucket] of this.buckets)
      if (bucket.tokens + ((now - bucket.at) * this.rate) / 1000 >= this.burst) this.buckets.delete(key)
  }

  get size(): number {
    return this.buckets.size
  }
}
