import type { Socket } from './connection'

/**
 * The live sockets of each user on this instance. It answers presence, and lets a membership
 * change (un)subscribe a user's sockets to a group topic: Bun cannot subscribe a topic's
 * subscribers to another topic. Delivery reads how many sockets a user has here, to skip a topic
 * that cannot have a subscriber, and which sockets a message reached, to ask them to confirm it;
 * every event goes through Bun topics.
 */
export class LocalConnections {
  private readonly byUser = new Map<number, Set<Socket>>()
  /** The synced sockets subscribed to each group's topic. */
  private readonly byGroup = new Map<number, Set<Socket>>()

  /** Registers a socket; true when it is the user's first on this instance. */
  add(ws: Socket): boolean {
    const userId = ws.data.userId
    let sockets = this.byUser.get(userId)
    if (!sockets) this.byUser.set(userId, (sockets = new Set()))
    sockets.add(ws)
    return sockets.size === 1
  }

  /** The socket now receives the group's live messages (it synced, or joined the group). */
  joinGroup(ws: Socket, groupId: number): void {
    let sockets = this.byGroup.get(groupId)
    if (!sockets) this.byGroup.set(groupId, (sockets = new Set()))
    sockets.add(ws)
  }

  leaveGroup(ws: Socket, groupId: number): void {
    const sockets = this.byGroup.get(groupId)
    if (!sockets?.delete(ws)) return
    if (!sockets.size) this.byGroup.delete(groupId)
  }

  socketsInGroup(groupId: number): Iterable<Socket> {
    return this.byGroup.get(groupId) ?? []
  }

  /** Forgets a socket; true when it was the user's last on this instance. */
  remove(ws: Socket): boolean {
    for (const groupId of ws.data.groups) this.leaveGroup(ws, groupId)
    const userId = ws.data.userId
    const sockets = this.byUser.get(userId)
    if (!sockets || !sockets.delete(ws)) return false
    if (sockets.size > 0) return false
    this.byUser.delete(userId)
    return true
  }

  isOnline(userId: number): boolean {
    return this.byUser.has(userId)
  }

  countOf(userId: number): number {
    return this.byUser.get(userId)?.size ?? 0
  }

  onlineUserIds(): number[] {
    return [...this.byUser.keys()].sort((a, b) => a - b)
  }

  /** Every live socket on this instance (for periodic checks; never for delivery). */
  *all(): Iterable<Socket> {
    for (const sockets of this.byUser.values()) yield* sockets
  }

  socketsOf(userId: number): Iterable<Socket> {
    return this.byUser.get(userId) ?? []
  }

  get size(): number {
    let n = 0
    for (const sockets of this.byUser.values()) n += sockets.size
    return n
  }
}
