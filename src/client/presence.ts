import type { Presence } from './types'

/**
 * Who is online: a snapshot from GET /ws/online-users plus presence frames. Frames that arrive
 * while the snapshot is in flight are replayed on top of it: each sets one user's state, so the
 * newest word on every user wins whichever came first.
 */
export class OnlineUsers {
  private online = new Set<number>()
  private inFlight: Presence[] | null = null

  get list(): number[] {
    return [...this.online].sort((a, b) => a - b)
  }

  /** A presence frame. */
  apply(frame: Presence): void {
    this.inFlight?.push(frame)
    this.set(frame)
  }

  private set(frame: Presence): void {
    if (frame.online) this.online.add(frame.user_id)
    else this.online.delete(frame.user_id)
  }

  /**
   * Replaces the list with the server's snapshot; false when it could not be fetched (the frames
   * keep the list current meanwhile, and the next connection tries again).
   */
  async refresh(fetchSnapshot: () => Promise<number[]>): Promise<boolean> {
    const buffered: Presence[] = []
    this.inFlight = buffered
    try {
      const ids = await fetchSnapshot()
      this.online = new Set(ids)
      // Not `apply`: it would push each frame onto the list being replayed, for ever.
      for (const frame of buffered) this.set(frame)
      return true
    } catch {
      return false
    } finally {
      if (this.inFlight === buffered) this.inFlight = null
    }
  }
}
