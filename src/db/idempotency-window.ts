/**
 * The SQLite store's idempotency window: which message each (sender, client_id) stored in the
 * last `windowMs` became, at most `maxKeys` of them, in memory.
 *
 * Why not a unique index on (sender_id, client_id): every live insert then updates one index page
 * per sender and commit, about 6 µs of CPU per message (`bun bench/micro/indexes.ts`: 17.5 µs a
 * row with it, 11.3 without, at 200 rows a commit; the relay baseline's whole message is 11 to 13),
 * to guard against resends that come seconds after the original (a client resends what was
 * unconfirmed when its connection dropped).
 * Chat services bound the same guarantee in time (Discord's nonce: a few minutes; Mattermost's
 * pending post id: 30 s); this window is rebuilt from the messages table at start-up, so it holds
 * across restarts and crashes too.
 *
 * It holds no JavaScript value per key, only numbers in typed arrays: a 53-bit hash of (sender,
 * client_id) and the message id, in a hash table and a queue. The garbage collector never walks
 * them: string keys in a Map cost 3 µs more a message (25.6 against 22.4 in bench/run.ts), a Map
 * of these numbers 0.35 µs more than the typed arrays (window adds amid message-like garbage).
 * A hash names a candidate; the store checks the candidate message's sender and client_id before
 * calling a send a resend.
 */
export const IDEMPOTENCY_DEFAULTS = { windowMs: 10 * 60_000, maxKeys: 500_000 }

export class IdempotencyWindow {
  /** hash of (sender, client_id) → message id. */
  private readonly ids = new NumberTable()
  /** [hash, id] pairs in the order they were added, from `head` to `tail` (pair indices). */
  private queue = new Float64Array(2 * 1024)
  private head = 0
  private tail = 0
  /** [time, highest id added by then], at most one a second: which ids are older than the window. */
  private readonly marks: { at: number; id: number }[] = []
  private lastWarnedAt = -Infinity

  constructor(
    readonly windowMs: number,
    readonly maxKeys: number,
    private readonly warn: (message: string) => void = (message) => console.warn(message),
  ) {}

  get size(): number {
    return this.ids.size
  }

  /** The id of the message that may have been stored with this (sender, client_id): check it. */
  candidate(senderId: number, clientId: string): number | undefined {
    return this.ids.get(keyHash(senderId, clientId))
  }

  /** Remembers a stored message; `at` is when it was stored (ms since the epoch). */
  add(senderId: number, clientId: string, id: number, at: number): void {
    const hash = keyHash(senderId, clientId)
    this.ids.set(hash, id)
    if (2 * (this.tail + 1) > this.queue.length) this.makeRoom()
    this.queue[2 * this.tail] = hash
    this.queue[2 * this.tail + 1] = id
    this.tail++
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
    let early = 0
    while (this.head < this.tail) {
      const hash = this.queue[2 * this.head]
      const id = this.queue[2 * this.head + 1]
      if (id > upToId && this.ids.size <= this.maxKeys) break
      if (id > upToId) early++
      // Unless the key was stored again since (under a newer id, after a rollback).
      if (this.ids.get(hash) === id) this.ids.delete(hash)
      this.head++
    }
    if (early && now - this.lastWarnedAt > 60_000) {
      this.lastWarnedAt = now
      this.warn(
        `IDEMPOTENCY_MAX_KEYS (${this.maxKeys}) reached: resends are recognised for less than IDEMPOTENCY_WINDOW_SECONDS ` +
          `(${this.windowMs / 1000}) at this message rate; raise IDEMPOTENCY_MAX_KEYS (about 100 bytes a key)`,
      )
    }
  }

  /** Moves the live pairs to the front, growing the queue when they fill more than half of it. */
  private makeRoom(): void {
    const live = this.tail - this.head
    const next = 2 * live > this.queue.length / 2 ? new Float64Array(this.queue.length * 2) : this.queue
    if (next === this.queue) this.queue.copyWithin(0, 2 * this.head, 2 * this.tail)
    else next.set(this.queue.subarray(2 * this.head, 2 * this.tail))
    this.queue = next
    this.head = 0
    this.tail = live
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
const DELETED = -1

/**
 * A hash table from positive integer keys (below 2^53) to numbers, with open addressing and linear
 * probing in one Float64Array of [key, value] slots: no per-entry object for the collector to visit,
 * and a probe reads one cache line. Kept at most half full, so probes stay short and the table small
 * (half a million keys: 32 MB); its size is what each message's lookup pays for in cache misses.
 */
export class NumberTable {
  private slots = new Float64Array(2 * 1024)
  /** Slots not EMPTY: live entries and DELETED ones (which probing must step over). */
  private used = 0
  size = 0

  private get capacity(): number {
    return this.slots.length / 2
  }

  get(key: number): number | undefined {
    const mask = this.capacity - 1
    for (let i = (key >>> 0) & mask; ; i = (i + 1) & mask) {
      const k = this.slots[2 * i]
      if (k === key) return this.slots[2 * i + 1]
      if (k === EMPTY) return undefined
    }
  }

  set(key: number, value: number): void {
    if (2 * (this.used + 1) > this.capacity) this.rehash()
    const mask = this.capacity - 1
    let reuse = -1
    for (let i = (key >>> 0) & mask; ; i = (i + 1) & mask) {
      const k = this.slots[2 * i]
      if (k === key) {
        this.slots[2 * i + 1] = value
        return
      }
      if (k === DELETED && reuse < 0) reuse = i
      if (k === EMPTY) {
        const at = reuse >= 0 ? reuse : i
        if (at === i) this.used++
        this.slots[2 * at] = key
        this.slots[2 * at + 1] = value
        this.size++
        return
      }
    }
  }

  delete(key: number): void {
    const mask = this.capacity - 1
    for (let i = (key >>> 0) & mask; ; i = (i + 1) & mask) {
      const k = this.slots[2 * i]
      if (k === EMPTY) return
      if (k === key) {
        this.slots[2 * i] = DELETED
        this.size--
        return
      }
    }
  }

  /** Without its DELETED slots, into a table a third full at most (twice as large when it grows). */
  private rehash(): void {
    const old = this.slots
    let capacity = this.capacity
    while (3 * (this.size + 1) > capacity) capacity *= 2
    this.slots = new Float64Array(2 * capacity)
    this.used = 0
    this.size = 0
    for (let i = 0; i < old.length; i += 2) if (old[i] > 0) this.set(old[i], old[i + 1])
  }
}
