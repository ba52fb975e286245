// Nobody can fill other people's accounts with groups: each group a user is in is work at every
// one of their connects. Caps always hold; rates hold with rate limiting on.
import { expect, test } from 'bun:test'
import { api, startServer } from '../helpers/server'

async function users(server: { url: string }, n: number): Promise<number[]> {
  const ids: number[] = []
  for (let i = 0; i < n; i++) ids.push((await api(server, 'POST', '/users', { username: `user-${i}-${Math.random()}` })).body.id)
  return ids
}

test('a user can be put into only so many groups a day by others, and creates only so many an hour', async () => {
  await using server = await startServer({ config: { rateLimit: true, groupsPerHour: 4, groupAddsPerDay: 3 } })
  // alice (1) puts carol (3) into groups: three are fine, the fourth is refused.
  for (let i = 0; i < 3; i++) expect((await api(server, 'POST', '/groups', { name: `g${i}`, member_ids: [1, 3], created_by: 1 })).status).toBe(201)
  const fourth = await api(server, 'POST', '/groups', { name: 'g3', member_ids: [1, 3], created_by: 1 })
  expect(fourth.status).toBe(429)
  expect(fourth.body.error.code).toBe('too_many_group_adds')
  // Adding her to an existing group counts the same.
  const bobs = await api(server, 'POST', '/groups', { name: 'bob', member_ids: [2], created_by: 2 })
  const added = await api(server, 'POST', `/groups/${bobs.body.id}/members`, { user_id: 3 })
  expect(added.status).toBe(429)
  expect(added.body.error.code).toBe('too_many_group_adds')
  // Carol creating her own groups is not "being added by others"; the creation rate still holds.
  for (let i = 0; i < 4; i++) expect((await api(server, 'POST', '/groups', { name: `mine${i}`, member_ids: [3], created_by: 3 })).status).toBe(201)
  const fifth = await api(server, 'POST', '/groups', { name: 'mine4', member_ids: [3], created_by: 3 })
  expect(fifth.status).toBe(429)
  expect(fifth.body.error.code).toBe('rate_limited')
})

test('a user is in at most MAX_GROUPS_PER_USER groups, and a group has at most MAX_GROUP_MEMBERS members', async () => {
  await using server = await startServer({ config: { maxGroupsPerUser: 3, maxGroupMembers: 5 } })
  // Seeded: everyone is in group 1 already.
  for (let i = 0; i < 2; i++) expect((await api(server, 'POST', '/groups', { name: `g${i}`, member_ids: [1, 2] })).status).toBe(201)
  const full = await api(server, 'POST', '/groups', { name: 'one too many', member_ids: [1, 2] })
  expect(full.status).toBe(409)
  expect(full.body.error.code).toBe('too_many_groups')
  const others = await users(server, 4)
  expect((await api(server, 'POST', '/groups', { name: 'six', member_ids: [3, ...others.slice(0, 4), 2] })).body.error.code).toBe('group_full')
  const five = await api(server, 'POST', '/groups', { name: 'five', member_ids: [3, ...others] })
  expect(five.status).toBe(201)
  const sixth = await users(server, 1)
  const refused = await api(server, 'POST', `/groups/${five.body.id}/members`, { user_id: sixth[0] })
  expect(refused.status).toBe(409)
  expect(refused.body.error.code).toBe('group_full')
})

test('the conversation list has a bucket of its own: a burst of listings is refused, other routes are not', async () => {
  await using server = await startServer({ config: { rateLimit: true, conversationsPerSecond: 1, conversationsBurst: 3 } })
  const statuses: number[] = []
  for (let i = 0; i < 6; i++) statuses.push((await api(server, 'GET', '/messages/conversations/1')).status)
  expect(statuses.slice(0, 3)).toEqual([200, 200, 200])
  expect(statuses.slice(3)).toContain(429)
  const refused = await api(server, 'GET', '/messages/conversations/1')
  expect(refused.status).toBe(429)
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
  expect((await api(server, 'GET', '/messages?user_id=1&other_user_id=2')).status).toBe(200)
})
