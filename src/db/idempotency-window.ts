import { fallbackLogger } from '../observability/logger'

/**
 * The SQLite store's idempotency window: which message each (sender, client_id) stored in the
 * last `windowMs` became, at most `maxKeys` of them, in memory.
 *
 * Why not a unique index on (sender_id, client_id): every live insert then updates one index page
 * per sender and commit, a cost about half of the relay baseline's whole message
 * (`bun bench/micro/indexes.ts`; docs/BENCHMARKS.md, second pass), to guard against resends that
 * come seconds after the original (a client resends what was unconfirmed when its connection
 * dropped).
 * Chat services bound the same guarantee in time (Discord's nonce: a few minutes; Mattermost's
 * pending post id: 30 s); this window is rebuilt from the messages table at start-up, so it holds
 * across restarts and crashes too.
 *
 * It holds no JavaScript value per key, only numbers in typed arrays: a 53-bit hash of (sender,
 * client_id) and the message id, in a hash table and a ring. The garbage collector never walks
 * them: string keys in a Map, and then a Map of these numbers, each cost measurably more CPU a
 * message (docs/BENCHMARKS.md, second pass).
 * A hash names a candidate; the store checks the candidate message's sender and client_id before
 * calling a send a resend.
 */
export const IDEMPOTENCY_DEFAULTS = { windowMs: 10 * 60_000, maxKeys: 500_000 }

/**
 * Keys a batch may add before the next prune brings the window back to maxKeys; beyond it the
 * oldest key goes at once.
 */
const SLACK_KEYS = 16_384

export class IdempotencyWindow {
  /** hash of (sender, client_id) → message id. */
  private readonly ids: NumberTable
  /** A ring of [hash, id] pairs, oldest first from `head`; `count` of them. */
  private readonly queue: Float64Array
  private head = 0
  private count = 0
  /** [time, highest id added by then], at most one a second: which ids are older than the window. */
  private readonly marks: { at: number; id: number }[] = []
  private lastWarnedAt = -Infinity
  private early = 0

  /**
   * Both structures are allocated once, at their full size: grown by doubling, each step faulted
   * in fresh pages and freed the old ones, which on this VM cost more than the lookups.
   */
  constructor(
    readonly windowMs: number,
    readonly maxKeys: number,
    private readonly warn: (message: string) => void = (message) => fallbackLogger().warn(message),
  ) {
    const ring = maxKeys + SLACK_KEYS
    this.queue = new Float64Array(2 * ring)
    this.ids = new NumberTable(2 * ring)
  }

  get size(): number {
    return this.ids.size
  }

  /** The id of the message that may have been stored with this (sender, client_id): check it. */
  candidate(senderId: number, clientId: string): number | undefined {
    return this.ids.get(keyHash(senderId, clientId))
  }

  /** Remembers a stored message; `at` is when it was stored (ms since the epoch). */
  add(senderId: number, clientId: string, id: number, at: number): void {
    const ring = this.queue.length / 2
    if (this.count === ring) {
      this.early++
      this.dropOldest()
    }
    const hash = keyHash(senderId, clientId)
    this.ids.set(hash, id)
    const slot = (this.head + this.count) % ring
    this.queue[2 * slot] = hash
    this.queue[2 * slot + 1] = id
    this.count++
    const last = this.marks[this.marks.length - 1]
    if (last && at - last.at < 1000) last.id = id
    else this.marks.push({ at, id })
  }

  /** Forgets a message whose transaction rolled back. */
  delete(senderId: number, clientId: string, id: number): void {
    const hash = keyHash(senderId, clientId)
    if (this.ids.get(hash) === id) this.ids.delete(hash)
  }

  /** Forgets what is older than the window, then the oldest beyond `maxKeys`. */
  prune(now: number): void {
    // A mark covers ids added within a second of its time: drop it once that whole second is old.
    let upToId = 0
    while (this.marks.length && this.marks[0].at + 1000 <= now - this.windowMs) upToId = this.marks.shift()!.id
    while (this.count > 0) {
      const id = this.queue[2 * this.head + 1]
      if (id > upToId && this.ids.size <= this.maxKeys) break
      if (id > upToId) this.early++
      this.dropOldest()
    }
    if (this.early && now - this.lastWarnedAt > 60_000) {
      this.lastWarnedAt = now
      this.warn(
        `IDEMPOTENCY_MAX_KEYS (${this.maxKeys}) reached: resends are recognised for less than IDEMPOTENCY_WINDOW_SECONDS ` +
          `(${this.windowMs / 1000}) at this message rate; raise IDEMPOTENCY_MAX_KEYS (about 50 bytes a key)`,
      )
    }
    this.early = 0
  }

  private dropOldest(): void {
    const hash = this.queue[2 * this.head]
    const id = this.queue[2 * this.head + 1]
    // Unless the key was stored again since (under a newer id, after a rollback).
    if (this.ids.get(hash) === id) this.ids.delete(hash)
    this.head = (this.head + 1) % (this.queue.length / 2)
    this.count--
  }
}

/**
 * 53 bits of two independent 32-bit string hashes (FNV-1a and a multiply-rotate one), seeded with
 * the sender: two keys collide with odds of about n² / 2^54 for n keys in the window.
 */
export function keyHash(senderId: number, clientId: string): number {
  let a = (0x811c9dc5 ^ senderId) >>> 0
  let b = (0x9e3779b9 ^ Math.imul(senderId, 0x85ebca6b)) >>> 0
  for (let i = 0; i < clientId.length; i++) {
    const c = clientId.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0xcc9e2d51)
    b = (b << 15) | (b >>> 17)
  }
  b = Math.imul(b ^ (b >>> 16), 0x85ebca6b)
  b ^= b >>> 13
  // Never 0, the table's empty slot.
  return (a >>> 0) * 0x200000 + (b >>> 11) || 1
}

const EMPTY = 0

/**
 * A hash table from positive integer keys (below 2^53) to numbers, of a fixed capacity: open
 * addressing with linear probing in one Float64Array of [key, value] slots. No per-entry object for
 * the collector to visit, a probe reads one cache line, and deletion shifts the entries behind back
 * (no tombstones), so it never has to be rebuilt. The caller keeps it at most half full.
 */
export class NumberTable {
  private readonly slots: Float64Array
  private readonly mask: number
  size = 0

  constructor(minimumCapacity: number) {
    let capacity = 1024
    while (capacity < minimumCapacity) capacity *= 2
    this.slots = new Float64Array(2 * capacity)
    this.mask = capacity - 1
  }

  get(key: number): number | undefined {
    for (let i = (key >>> 0) & this.mask; ; i = (i + 1) & this.mask) {
      const k = this.slots[2 * i]
      if (k === key) return this.slots[2 * i + 1]
      if (k === EMPTY) return undefined
    }
  }

  set(key: number, value: number): void {
    for (let i = (key >>> 0) & this.mask; ; i = (i + 1) & this.mask) {
      const k = this.slots[2 * i]
      if (k === key || k === EMPTY) {
        if (k === EMPTY) this.size++
        this.slots[2 * i] = key
        this.slots[2 * i + 1] = value
        return
      }
    }
  }

  delete(key: number): void {
    let i = (key >>> 0) & this.mask
    for (; ; i = (i + 1) & this.mask) {
      const k = this.slots[2 * i]
      if (k === EMPTY) return
      if (k === key) break
    }
    this.size--
    // Backward shift: move up each later entry of the run whose home slot is not between the hole
    // and itself, so that every key stays reachable from its home without a tombstone.
    for (let j = (i + 1) & this.mask; ; j = (j + 1) & this.mask) {
      const k = this.slots[2 * j]
      if (k === EMPTY) break
      const home = (k >>> 0) & this.mask
      const stays = i <= j ? i < home && home <= j : i < home || home <= j
      if (stays) continue
      this.slots[2 * i] = k
      this.slots[2 * i + 1] = this.slots[2 * j + 1]
      i = j
    }
    this.slots[2 * i] = EMPTY
    this.slots[2 * i + 1] = 0
  }
}
