// HEAD runs a GET route's handler (RFC 9110 §9.3.2: the same answer without its body), so it must
// pass the same authorization: a HEAD that answers 200 where GET answers 403 leaks the length of
// what GET refuses to show. Walks every registered GET route, so a new one cannot be left out.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { ADMIN_TOKEN } from '../helpers/admin'
import { startServer, type TestServer } from '../helpers/server'
import { mintToken, SECRET } from './fixtures'

let server: TestServer
let carol: string // user 3, the wrong user for everything below
let group2: number // alice and bob only
let attachment: string // alice's upload, sent to bob only

beforeAll(async () => {
  server = await startServer({ config: { auth: 'jwt', jwtSecret: SECRET, adminToken: ADMIN_TOKEN } })
  const alice = await mintToken(SECRET, { sub: '1' })
  carol = await mintToken(SECRET, { sub: '3' })
  const g = await fetch(`${server.url}/groups`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'a+b', member_ids: [1, 2] }),
  })
  group2 = ((await g.json()) as { id: number }).id
  const m = await fetch(`${server.url}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sender_id: 1, recipient_id: 2, message: 'for bob only' }),
  })
  expect(m.status).toBe(201)
  const form = new FormData()
  form.append('file', new Blob(['for bob only']), 'note.txt')
  const up = await fetch(`${server.url}/attachments`, { method: 'POST', body: form, headers: { authorization: `Bearer ${alice}` } })
  attachment = ((await up.json()) as { id: string }).id
  const sent = await fetch(`${server.url}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sender_id: 1, recipient_id: 2, message: '', attachment_ids: [attachment] }),
  })
  expect(sent.status).toBe(201)
})
afterAll(() => server?.[Symbol.asyncDispose]())


/** Each registered GET route: a path that carol may not read (where the route has a rule), and what GET answers her. */
const asCarol: Record<string, { path: () => string; status: number }> = {
  '/messages': { path: () => '/messages?user_id=1&other_user_id=2', status: 403 },
  '/messages/conversations/:user_id': { path: () => '/messages/conversations/1', status: 403 },
  '/messages/:id/replies': { path: () => '/messages/1/replies?user_id=1', status: 403 },
  '/messages/search': { path: () => '/messages/search?user_id=1&q=bob', status: 403 },
  '/groups/:id': { path: () => `/groups/${group2}`, status: 403 },
  // Not hers to see: the same answer as an attachment that does not exist.
  '/attachments/:id': { path: () => `/attachments/${attachment}`, status: 404 },
  '/attachments/:id/thumbnail': { path: () => `/attachments/${attachment}/thumbnail`, status: 404 },
  '/ws/:user_id': { path: () => '/ws/1', status: 403 },
  '/users': { path: () => '/users', status: 200 },
  '/users/:id': { path: () => '/users/1', status: 200 },
  '/ws/online-users': { path: () => '/ws/online-users', status: 200 },
  '/health': { path: () => '/health', status: 200 },
  '/ready': { path: () => '/ready', status: 200 },
  '/metrics': { path: () => '/metrics', status: 200 },
  '/': { path: () => '/', status: 200 },
  '/public/*': { path: () => '/public/style.css', status: 200 },
  '/public/app.js': { path: () => '/public/app.js', status: 200 },
  '/public/client.js': { path: () => '/public/client.js', status: 200 },
  '/sw.js': { path: () => '/sw.js', status: 200 },
  // Push is off on this server (no VAPID keys).
  '/push/vapid-public-key': { path: () => '/push/vapid-public-key', status: 503 },
  '/docs': { path: () => '/docs', status: 200 },
  '/docs/scalar.js': { path: () => '/docs/scalar.js', status: 200 },
  '/docs/json': { path: () => '/docs/json', status: 200 },
  // The admin page holds no data; its API wants the admin token, which a user's token is not.
  '/admin': { path: () => '/admin', status: 200 },
  '/admin/admin.js': { path: () => '/admin/admin.js', status: 200 },
  '/admin/admin.css': { path: () => '/admin/admin.css', status: 200 },
  '/admin/api/overview': { path: () => '/admin/api/overview', status: 401 },
  '/admin/api/connections': { path: () => '/admin/api/connections', status: 401 },
  '/admin/api/traffic': { path: () => '/admin/api/traffic', status: 401 },
  '/admin/api/slow-consumers': { path: () => '/admin/api/slow-consumers', status: 401 },
  '/admin/api/rate-limited': { path: () => '/admin/api/rate-limited', status: 401 },
  '/admin/api/webhooks': { path: () => '/admin/api/webhooks', status: 401 },
}

const getRoutes = () => (server.switchboard.app.routes as { method: string; path: string }[]).filter((r) => r.method === 'GET').map((r) => r.path)

/** The status of GET and of HEAD on every registered GET route, with these headers; HEAD must have no body. */
async function getAndHead(headers: Record<string, string>): Promise<Record<string, { get: number; head: number }>> {
  const seen: Record<string, { get: number; head: number }> = {}
  for (const route of getRoutes()) {
    const path = asCarol[route]?.path() ?? route
    const get = await fetch(server.url + path, { headers })
    await get.arrayBuffer()
    const head = await fetch(server.url + path, { method: 'HEAD', headers })
    expect(await head.text()).toBe('')
    seen[route] = { get: get.status, head: head.status }
  }
  return seen
}

test('the table above names every registered GET route', () => {
  expect(getRoutes().sort()).toEqual(Object.keys(asCarol).sort())
})

test('HEAD as the wrong user gets what GET gets: 403 where a rule refuses', async () => {
  const seen = await getAndHead({ authorization: `Bearer ${carol}` })
  const expected = Object.fromEntries(Object.keys(seen).map((route) => [route, { get: asCarol[route]?.status, head: asCarol[route]?.status }]))
  expect(seen).toEqual(expected)
})

test('HEAD without a token is refused wherever GET is', async () => {
  const seen = await getAndHead({})
  const expected = Object.fromEntries(Object.entries(seen).map(([route, { get }]) => [route, { get, head: get }]))
  expect(seen).toEqual(expected)
  // The routes that need a token do refuse, so the comparison above is not between two 200s.
  expect(seen['/messages']).toEqual({ get: 401, head: 401 })
  expect(seen['/admin/api/overview']).toEqual({ get: 401, head: 401 })
})

test('HEAD with the admin token gets what GET gets on the admin API: 200, no body', async () => {
  for (const route of getRoutes().filter((r) => r.startsWith('/admin/api/'))) {
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}` }
    const get = await fetch(server.url + route, { headers })
    expect(((await get.json()) as object) !== null).toBe(true)
    const head = await fetch(server.url + route, { method: 'HEAD', headers })
    expect({ route, get: get.status, head: head.status, body: await head.text() }).toEqual({ route, get: 200, head: 200, body: '' })
  }
})
