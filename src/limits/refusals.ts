/** One user's recent refusals by a rate limit. */
export interface UserRefusals {
  userId: number
  refusals: number
  /** Refusals per limit: `message`, `typing` (coalesced), `frame`, `rest_user`, `rest_conversations`. */
  byKind: Record<string, number>
  /** Epoch ms of the first refusal since the user was last quiet for the window, and of the latest. */
  firstAt: number
  lastAt: number
}

/**
 * The users a rate limit refused lately, for the admin view. Bounded: at most `capacity` users
 * (the one refused longest ago makes room), each forgotten once quiet for `windowMs`, so a flood
 * from many ids cannot grow it. Written only where a limit refuses, never on an allowed frame.
 */
export class RecentRefusals {
  /** In order of each user's latest refusal, oldest first: the first key is the one to evict. */
  private readonly byUser = new Map<number, UserRefusals>()
  readonly capacity: number
  readonly windowMs: number

  constructor(options: { capacity?: number; windowMs?: number } = {}) {
    this.capacity = options.capacity ?? 1000
    this.windowMs = options.windowMs ?? 5 * 60_000
  }

  /** Counts one refusal of `userId` by the limit `kind`. */
  record(userId: number, kind: string, now = Date.now()): void {
    let entry = this.byUser.get(userId)
    if (entry) this.byUser.delete(userId)
    if (!entry || now - entry.lastAt > this.windowMs) {
      if (!entry && this.byUser.size >= this.capacity) this.byUser.delete(this.byUser.keys().next().value!)
      entry = { userId, refusals: 0, byKind: {}, firstAt: now, lastAt: now }
    }
    entry.refusals++
    entry.byKind[kind] = (entry.byKind[kind] ?? 0) + 1
    entry.lastAt = now
    this.byUser.set(userId, entry)
  }

  /** The `limit` users refused most within the window, most first (copies). */
  recent(limit: number, now = Date.now()): UserRefusals[] {
    const live: UserRefusals[] = []
    for (const entry of this.byUser.values()) if (now - entry.lastAt <= this.windowMs) live.push({ ...entry, byKind: { ...entry.byKind } })
    return live.sort((a, b) => b.refusals - a.refusals || b.lastAt - a.lastAt).slice(0, limit)
  }

  get size(): number {
    return this.byUser.size
  }
}
