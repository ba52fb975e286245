// Every REST route tried as the wrong user under AUTH=jwt: refused with 401/403 and a JSON error,
// and nothing changes. The right user doing the same thing succeeds, so the refusals mean something.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startServer, type TestServer, storedMessages } from '../helpers/server'
import { isAdminRoute, isPublicRoute, restRules } from '../../src/auth/policy'
import { call, mintToken, SECRET } from './fixtures'

let server: TestServer
const token: Record<'alice' | 'bob' | 'carol', string> = { alice: '', bob: '', carol: '' }
let direct: number // alice -> bob
let group2: number // alice and bob, created by alice

beforeAll(async () => {
  server = await startServer({ config: { auth: 'jwt', jwtSecret: SECRET } })
  token.alice = await mintToken(SECRET, { sub: '1' })
  token.bob = await mintToken(SECRET, { sub: '2' })
  token.carol = await mintToken(SECRET, { sub: '3' })
  const g = await call(server, 'POST', '/groups', token.alice, { name: 'a+b', member_ids: [1, 2], created_by: 1 })
  expect(g.status).toBe(201)
  group2 = g.body.id
  const m = await call(server, 'POST', '/messages', token.alice, { sender_id: 1, recipient_id: 2, message: 'for bob only' })
  expect(m.status).toBe(201)
  direct = m.body.id
})
afterAll(() => server?.[Symbol.asyncDispose]())

test('every route but the public ones needs a token', async () => {
  const publicRoutes = ['/health', '/ready', '/metrics', '/', '/docs', '/docs/json', '/docs/scalar.js', '/public/*', '/public/app.js', '/public/client.js', '/sw.js']
  // /admin takes no user token at all: see the test below and test/admin/.
  const routes = server.switchboard.app.routes.filter((r: any) => !publicRoutes.includes(r.path) && r.method !== 'WS' && !isAdminRoute(r.path))
  expect(routes.length).toBeGreaterThanOrEqual(10)
  for (const r of routes as { method: string; path: string }[]) {
    const path = r.path.replace(/:[a-z_]+/g, '1')
    const res = await call(server, r.method, path, null, r.method === 'GET' || r.method === 'DELETE' ? undefined : {})
    expect({ route: `${r.method} ${r.path}`, status: res.status, code: res.body?.error?.code }).toEqual({ route: `${r.method} ${r.path}`, status: 401, code: 'missing_token' })
  }
  for (const path of ['/health', '/ready', '/metrics']) expect((await call(server, 'GET', path)).status).toBe(200)
})

test('the /admin routes are not user routes: without ADMIN_TOKEN, a user token gets 404 admin_disabled on each, not 401 or 200', async () => {
  const routes = (server.switchboard.app.routes as { method: string; path: string }[]).filter((r) => isAdminRoute(r.path))
  expect(routes.length).toBeGreaterThanOrEqual(7)
  for (const r of routes) {
    const path = r.path.replace(/:[a-z_]+/g, '1')
    for (const who of [null, token.alice]) {
      const res = await call(server, r.method, path, who)
      expect({ route: `${r.method} ${r.path}`, status: res.status, code: res.body?.error?.code }).toEqual({ route: `${r.method} ${r.path}`, status: 404, code: 'admin_disabled' })
    }
  }
})

test('every non-public route has an explicit rule in src/auth/policy.ts (a new route must say who may call it)', () => {
  const missing = (server.switchboard.app.routes as { method: string; path: string }[])
    .filter((r) => r.method !== 'WS' && !isPublicRoute(r.method, r.path) && !isAdminRoute(r.path))
    .map((r) => `${r.method} ${r.path}`)
    .filter((key) => !(key in restRules))
  expect(missing).toEqual([])
})

/** [what, as whom, method, path, body, expected status, expected code] */
const wrongUser: [string, keyof typeof token, string, () => string, unknown, number, string][] = [
  ['send as someone else', 'carol', 'POST', () => '/messages', { sender_id: 1, recipient_id: 2, message: 'forged' }, 403, 'forbidden'],
  ['send to a group one is not in', 'carol', 'POST', () => '/messages', () => ({ sender_id: 3, group_id: group2, message: 'gatecrash' }), 403, 'not_a_member'],
  ["read someone else's direct history", 'carol', 'GET', () => '/messages?user_id=1&other_user_id=2', undefined, 403, 'forbidden'],
  ["read a group's history as a non-member", 'carol', 'GET', () => `/messages?user_id=3&group_id=${group2}`, undefined, 403, 'not_a_member'],
  ["search someone else's messages", 'carol', 'GET', () => '/messages/search?user_id=1&q=bob', undefined, 403, 'forbidden'],
  ['search a group one is not in', 'carol', 'GET', () => `/messages/search?user_id=3&q=bob&group_id=${group2}`, undefined, 403, 'not_a_member'],
  ["list someone else's conversations", 'carol', 'GET', () => '/messages/conversations/1', undefined, 403, 'forbidden'],
  // 404 as for no message at all: whether it exists is not theirs to know (oracles.test.ts).
  ['mark read a message addressed to someone else', 'carol', 'PUT', () => `/messages/${direct}/read`, undefined, 404, 'message_not_found'],
  ['mark read naming its recipient', 'carol', 'PUT', () => `/messages/${direct}/read?user_id=2`, undefined, 403, 'forbidden'],
  ['the sender marks their own direct message read', 'alice', 'PUT', () => `/messages/${direct}/read`, undefined, 403, 'not_recipient'],
  ['see a group one is not in', 'carol', 'GET', () => `/groups/${group2}`, undefined, 403, 'not_a_member'],
  ['add oneself to a group one is not in', 'carol', 'POST', () => `/groups/${group2}/members`, { user_id: 3 }, 403, 'not_a_member'],
  ['remove a member of a group one is not in', 'carol', 'DELETE', () => `/groups/${group2}/members/2`, undefined, 403, 'not_a_member'],
  ['a member (not the creator) removes another', 'bob', 'DELETE', () => `/groups/${group2}/members/1`, undefined, 403, 'forbidden'],
  ['create a group in someone else\'s name', 'carol', 'POST', () => '/groups', { name: 'x', member_ids: [1, 3], created_by: 1 }, 403, 'forbidden'],
  ['create a group without oneself', 'carol', 'POST', () => '/groups', { name: 'x', member_ids: [1, 2] }, 403, 'not_a_member'],
  ['open the WebSocket of someone else', 'carol', 'GET', () => '/ws/1', undefined, 403, 'forbidden'],
]

for (const [what, who, method, path, body, status, code] of wrongUser) {
  test(`refused: ${what}`, async () => {
    const before = { maxId: await storedMessages(server.store), group: await server.store.getGroup(group2), message: await server.store.getMessage(direct) }
    const res = await call(server, method, path(), token[who], typeof body === 'function' ? body() : body)
    expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code })
    expect(typeof res.body.error.message).toBe('string')
    // Nothing changed.
    expect(await storedMessages(server.store)).toBe(before.maxId)
    expect(await server.store.getGroup(group2)).toEqual(before.group)
    expect(await server.store.getMessage(direct)).toEqual(before.message)
  })
}

test('the right user can do each of those things', async () => {
  expect((await call(server, 'GET', '/messages?user_id=2&other_user_id=1', token.bob)).body.messages.map((m: any) => m.id)).toEqual([direct])
  expect((await call(server, 'GET', `/messages?user_id=1&group_id=${group2}`, token.alice)).status).toBe(200)
  expect((await call(server, 'GET', '/messages/search?user_id=2&q=bob', token.bob)).body.results.map((r: any) => r.message.id)).toEqual([direct])
  // carol's own search finds nothing of alice and bob's.
  expect((await call(server, 'GET', '/messages/search?user_id=3&q=bob', token.carol)).body.results).toEqual([])
  expect((await call(server, 'GET', '/messages/conversations/2', token.bob)).status).toBe(200)
  expect((await call(server, 'GET', `/groups/${group2}`, token.bob)).status).toBe(200)
  // Any user may look others up, to find whom to write to.
  expect((await call(server, 'GET', '/users?q=bo', token.carol)).body.users.map((u: any) => u.username)).toEqual(['bob'])
  // Without user_id, the reader is the token's subject.
  const read = await call(server, 'PUT', `/messages/${direct}/read`, token.bob)
  expect(read.status).toBe(200)
  expect(read.body).toMatchObject({ reader_id: 2, changed: true })
  expect((await call(server, 'POST', '/groups', token.carol, { name: 'c', member_ids: [3, 1], created_by: 3 })).status).toBe(201)
  expect((await call(server, 'POST', `/groups/${group2}/members`, token.bob, { user_id: 3 })).status).toBe(201)
  // A member may leave; the creator may remove anyone.
  expect((await call(server, 'DELETE', `/groups/${group2}/members/3`, token.carol)).status).toBe(200)
  expect((await call(server, 'DELETE', `/groups/${group2}/members/2`, token.alice)).status).toBe(200)
  expect((await call(server, 'POST', '/messages', token.carol, { sender_id: 3, recipient_id: 1, message: 'hi' })).status).toBe(201)
})
