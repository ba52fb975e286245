import type { Config } from '../config'
import type { Store } from '../db/store'
import { AppError } from '../http/errors'
import { RateLimiter } from './rate-limiter'

/**
 * What keeps anyone from filling other people's accounts with groups (each group a user is in is
 * work at every one of their connects): at most MAX_GROUPS_PER_USER groups per user and
 * MAX_GROUP_MEMBERS members per group, always; with rate limiting on, at most
 * RATE_GROUPS_PER_HOUR groups created per user, and at most RATE_GROUP_ADDS_PER_DAY groups a user
 * can be put into by someone else (adding oneself, or being the creator, does not count).
 * The buckets are per instance, like every rate limit.
 */
export function createGroupLimits(deps: { config: Config; store: Store }) {
  const { config, store } = deps
  const creations = new RateLimiter<string | number>(config.groupsPerHour / 3600, config.groupsPerHour)
  const additions = new RateLimiter<number>(config.groupAddsPerDay / 86_400, config.groupAddsPerDay)

  return {
    /** Before a group is created by `creator` (a user id, or the client's address when none is known). */
    admitCreation(creator: string | number): void {
      if (!config.rateLimit) return
      const wait = creations.take(creator)
      if (wait > 0)
        throw new AppError(429, 'rate_limited', `at most ${config.groupsPerHour} groups an hour may be created; retry in ${Math.ceil(wait / 1000)} s`)
    },

    /** Before `userIds` join `groupId` (undefined: a new group) at `actor`'s hands. */
    async admitMembers(userIds: number[], actor: number | undefined, currentMembers = 0): Promise<void> {
      if (currentMembers + userIds.length > config.maxGroupMembers)
        throw new AppError(409, 'group_full', `a group has at most ${config.maxGroupMembers} members`)
      const counts = await store.groupCounts(userIds)
      for (const userId of userIds)
        if ((counts.get(userId) ?? 0) >= config.maxGroupsPerUser)
          throw new AppError(409, 'too_many_groups', `user ${userId} is already in ${config.maxGroupsPerUser} groups, the most a user may be in`)
      if (!config.rateLimit) return
      const others = userIds.filter((id) => id !== actor)
      for (const userId of others)
        if (!additions.allows(userId))
          throw new AppError(429, 'too_many_group_adds', `user ${userId} was added to ${config.groupAddsPerDay} groups by others in the last day`)
      for (const userId of others) additions.take(userId)
    },
  }
}

export type GroupLimits = ReturnType<typeof createGroupLimits>
