import type { Store } from '../db/store'

/**
 * Caches what the hot path asks on every message: does this user exist, who is in this group.
 * Users are never deleted, so a user once seen stays known; group membership is kept current by
 * the routes that change it. A miss is one database read, then cached.
 */
export class Directory {
  private readonly knownUsers = new Set<number>()
  private readonly members = new Map<number, Set<number>>()

  constructor(private readonly store: Store) {}

  /** True or false when cached, a promise when the database must be asked. */
  userExists(id: number): boolean | Promise<boolean> {
    if (this.knownUsers.has(id)) return true
    return this.store.getUser(id).then((user) => {
      if (user) this.knownUsers.add(id)
      return user !== undefined
    })
  }

  rememberUser(id: number): void {
    this.knownUsers.add(id)
  }

  /** The members of a group (undefined: no such group), from cache or a promise. */
  membersOf(groupId: number): Set<number> | undefined | Promise<Set<number> | undefined> {
    const cached = this.members.get(groupId)
    if (cached) return cached
    return this.store.getGroup(groupId).then((group) => {
      if (!group) return undefined
      const set = new Set(group.memberIds)
      this.members.set(groupId, set)
      return set
    })
  }

  /** Records a membership change made by this instance or reported by another. */
  setMember(groupId: number, userId: number, isMember: boolean): void {
    const set = this.members.get(groupId)
    if (!set) return
    if (isMember) set.add(userId)
    else set.delete(userId)
  }

  rememberGroup(groupId: number, memberIds: number[]): void {
    this.members.set(groupId, new Set(memberIds))
  }
}
