// The operator's view as JSON (/admin/api/*): who may read it, and that its numbers follow real
// traffic — connections per format and user, messages a second, latency and commit time, a socket
// that stopped reading, users a rate limit refused — and that a user's devices can be disconnected.
import { describe, expect, test } from 'bun:test'
import { isLoopbackAddress } from '../../src/admin/access'
import { CloseCode } from '../../src/protocol/close-codes'
import { call, mintToken, SECRET } from '../hardening/fixtures'
import { RawWebSocket } from '../hardening/raw-socket'
import { ADMIN_TOKEN, adminApi as admin } from '../helpers/admin'
import { api, startServer, type TestServer } from '../helpers/server'
import { TestClient } from '../helpers/ws-client'

const API_GETS = ['/admin/api/overview', '/admin/api/connections', '/admin/api/traffic', '/admin/api/slow-consumers', '/admin/api/rate-limited']

/** Polls an admin GET until `check` holds; returns the last body. */
async function until(server: TestServer, path: string, check: (body: any) => boolean, ms = 5000): Promise<any> {
  const deadline = Date.now() + ms
  let body: any
  do {
    const res = await admin(server, 'GET', path)
    expect(res.status).toBe(200)
    body = res.body
    if (check(body)) return body
    await Bun.sleep(50)
  } while (Date.now() < deadline)
  return body
}

describe('who may see it', () => {
  test('with ADMIN_TOKEN: no token, a wrong one and a user JWT are refused; the admin token opens every API route', async () => {
    await using server = await startServer({ config: { auth: 'jwt', jwtSecret: SECRET, adminToken: ADMIN_TOKEN } })
    const alice = await mintToken(SECRET, { sub: '1' })
    const wrong = [
      ['missing_admin_token', null],
      ['invalid_admin_token', ADMIN_TOKEN.slice(0, -1) + 'X'],
      ['invalid_admin_token', 'short'],
      // A user's token is not an admin token, however valid it is.
      ['invalid_admin_token', alice],
    ] as const
    for (const path of API_GETS) {
      for (const [code, token] of wrong) {
        const res = await admin(server, 'GET', path, token)
        expect({ path, status: res.status, code: res.body?.error?.code }).toEqual({ path, status: 401, code })
        expect(typeof res.body.error.message).toBe('string')
        expect(res.headers.get('www-authenticate')).toContain('Bearer')
      }
      const ok = await admin(server, 'GET', path)
      expect({ path, status: ok.status }).toEqual({ path, status: 200 })
      expect(ok.headers.get('cache-control')).toBe('no-store')
    }
    // Refused before the route runs: nobody was disconnected.
    const bob = await TestClient.connect(server.wsUrl, `/ws/2?token=${await mintToken(SECRET, { sub: '2' })}`)
    for (const [code, token] of wrong) {
      const res = await admin(server, 'POST', '/admin/api/users/2/disconnect', token)
      expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: 401, code })
    }
    bob.send({ type: 'ping' })
    await bob.next('pong')
    expect(bob.closed).toBeNull()
    // Nor does the admin token act as a user.
    const asUser = await call(server, 'GET', '/messages/conversations/1', ADMIN_TOKEN)
    expect({ status: asUser.status, code: asUser.body.error.code }).toEqual({ status: 401, code: 'invalid_token' })
    // The page holds no data: it is served to anyone, and asks for the token itself.
    const page = await fetch(`${server.url}/admin`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toContain('text/html')
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'")
    expect(await page.text()).toContain('Admin token')
    bob.close()
  })

  test('AUTH=jwt without ADMIN_TOKEN: the page and every API route answer 404 admin_disabled, whatever the token', async () => {
    await using server = await startServer({ config: { auth: 'jwt', jwtSecret: SECRET } })
    const alice = await mintToken(SECRET, { sub: '1' })
    for (const [method, path] of [['GET', '/admin'], ['GET', '/admin/admin.js'], ['GET', '/admin/admin.css'], ...API_GETS.map((p) => ['GET', p]), ['POST', '/admin/api/users/1/disconnect']])
      for (const token of [null, alice, 'anything-at-all']) {
        const res = await admin(server, method, path, token)
        expect({ path, status: res.status, code: res.body?.error?.code }).toEqual({ path, status: 404, code: 'admin_disabled' })
        expect(res.body.error.message).toContain('ADMIN_TOKEN')
      }
  })

  test('AUTH=none without ADMIN_TOKEN: callers on this machine only, without a token', async () => {
    await using server = await startServer()
    expect((await admin(server, 'GET', '/admin/api/overview', null)).status).toBe(200)
    expect((await fetch(`${server.url}/admin`)).status).toBe(200)
    // A request that did not come from a loopback address (here: no peer address at all) is refused,
    // and a header claiming otherwise changes nothing.
    for (const headers of [{}, { 'x-forwarded-for': '127.0.0.1', 'x-real-ip': '127.0.0.1' }] as Record<string, string>[]) {
      const res = await server.switchboard.app.handle(new Request('http://127.0.0.1/admin/api/overview', { headers }))
      expect(res.status).toBe(403)
      expect(((await res.json()) as any).error).toMatchObject({ code: 'admin_loopback_only' })
    }
  })

  test.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.1', false],
    ['192.168.1.2', false],
    ['::ffff:10.0.0.1', false],
    ['fe80::1', false],
    ['', false],
    [undefined, false],
  ])('isLoopbackAddress(%p) is %p', (address, expected) => {
    expect(isLoopbackAddress(address)).toBe(expected)
  })
})

describe('the numbers follow the traffic', () => {
  test('connections per format and per user, messages a second, delivery latency and commit time', async () => {
    await using server = await startServer({ config: { adminToken: ADMIN_TOKEN } })
    const empty = (await admin(server, 'GET', '/admin/api/overview')).body
    expect(empty.connections).toMatchObject({ total: 0, users_online: 0, by_format: { json: 0, msgpack: 0 }, users: [] })
    expect(empty.traffic).toMatchObject({ messages_per_second: 0, delivery: { count: 0, p50_ms: null }, commit: { count: 0 } })
    expect(empty).toMatchObject({ instance_id: expect.any(String), cluster: false })

    const phone = await TestClient.connect(server.wsUrl, '/ws/1')
    const laptop = await TestClient.connect(server.wsUrl, '/ws/1', { format: 'msgpack' })
    const bob = await TestClient.connect(server.wsUrl, '/ws/2')
    const connections = (await admin(server, 'GET', '/admin/api/connections')).body
    expect(connections).toMatchObject({ total: 3, users_online: 2, by_format: { json: 2, msgpack: 1 } })
    expect(connections.users).toEqual([
      { user_id: 1, connections: 2, by_format: { json: 1, msgpack: 1 } },
      { user_id: 2, connections: 1, by_format: { json: 1, msgpack: 0 } },
    ])
    expect(connections.instances).toEqual([expect.objectContaining({ self: true, connections: 3, users: 2, by_format: { json: 2, msgpack: 1 } })])
    expect((await admin(server, 'GET', '/admin/api/connections?limit=1')).body.users.map((u: any) => u.user_id)).toEqual([1])

    const N = 20
    for (let i = 0; i < N; i++) {
      phone.send({ type: 'message', recipient_id: 2, message: `m${i}` })
      await phone.next('message_sent')
    }
    const traffic = (await admin(server, 'GET', '/admin/api/traffic')).body
    expect(traffic.messages_per_second).toBeGreaterThan(0)
    // Each message reached bob and alice's other device.
    expect(traffic.deliveries_per_second).toBeGreaterThan(traffic.messages_per_second)
    expect(traffic.delivery.count).toBe(N)
    expect(traffic.delivery.p50_ms).toBeGreaterThan(0)
    expect(traffic.delivery.p99_ms).toBeGreaterThanOrEqual(traffic.delivery.p50_ms)
    expect(traffic.delivery.buckets.reduce((n: number, b: any) => n + b.count, 0)).toBe(N)
    expect(traffic.delivery.buckets.at(-1).le_ms).toBeNull()
    expect(traffic.commit.count).toBeGreaterThanOrEqual(1)
    expect(traffic.commit.p99_ms).toBeGreaterThan(0)

    laptop.close()
    const after = await until(server, '/admin/api/connections', (c) => c.total === 2)
    expect(after.users[0]).toEqual({ user_id: 1, connections: 1, by_format: { json: 1, msgpack: 0 } })
    phone.close()
    bob.close()
  })

  // Naming the field in query errors is the app-wide validation summary's job (issue 18, other work).
  test('bad query values get 422 validation_failed', async () => {
    await using server = await startServer({ config: { adminToken: ADMIN_TOKEN } })
    for (const path of ['/admin/api/connections?limit=0', '/admin/api/connections?limit=abc', '/admin/api/slow-consumers?limit=100000', '/admin/api/rate-limited?limit=-1']) {
      const res = await admin(server, 'GET', path)
      expect({ path, status: res.status, code: res.body.error.code }).toEqual({ path, status: 422, code: 'validation_failed' })
      expect(typeof res.body.error.message).toBe('string')
    }
  })

  test('a socket that stops reading is listed among the slowest consumers with its queued bytes', async () => {
    await using server = await startServer({
      config: { adminToken: ADMIN_TOKEN, maxMessageLength: 60_000, slowConsumerBytes: 64 * 1024 * 1024, backpressureLimitBytes: 128 * 1024 * 1024 },
    })
    const slow = await RawWebSocket.open(server.port, '/ws/2')
    slow.pause()
    const alice = await TestClient.connect(server.wsUrl, '/ws/1')
    const body = 'x'.repeat(50_000)
    for (let i = 0; i < 300; i++) alice.send({ type: 'message', recipient_id: 2, message: `${i} ${body}` })
    for (let i = 0; i < 300; i++) await alice.next('message_sent', 10_000)
    const listed = await until(server, '/admin/api/slow-consumers', (s) => s.sockets[0]?.queued_bytes > 1024 * 1024)
    expect(listed.limit_bytes).toBe(64 * 1024 * 1024)
    expect(listed.sockets[0]).toMatchObject({ user_id: 2, format: 'json', connection_id: expect.any(Number) })
    expect(listed.sockets[0].queued_bytes).toBeGreaterThan(1024 * 1024)
    // Alice reads everything: she is not slow.
    expect(listed.sockets.filter((s: any) => s.user_id === 1 && s.queued_bytes > 64 * 1024)).toEqual([])
    const overview = (await admin(server, 'GET', '/admin/api/overview')).body
    expect(overview.slow_consumers.sockets[0].user_id).toBe(2)
    slow.destroy()
    alice.close()
  }, 30_000)

  test('users refused by a rate limit are listed, from the WebSocket and from REST; others are not', async () => {
    await using server = await startServer({
      config: {
        auth: 'jwt',
        jwtSecret: SECRET,
        adminToken: ADMIN_TOKEN,
        rateLimit: true,
        messagesPerSecond: 1,
        messagesBurst: 2,
        floodCloseAfter: 1000,
        restPerSecond: 0.5,
        restBurst: 3,
      },
    })
    const [alice, bob, carol] = await Promise.all(['1', '2', '3'].map((sub) => mintToken(SECRET, { sub })))
    const flooder = await TestClient.connect(server.wsUrl, `/ws/3?token=${carol}`)
    for (let i = 0; i < 20; i++) flooder.send({ type: 'message', recipient_id: 1, message: `flood ${i}` })
    let refusedWs = 0
    for (let i = 0; i < 20; i++) if ((await flooder.next((f) => f.type === 'message_sent' || f.type === 'error')).type === 'error') refusedWs++
    expect(refusedWs).toBeGreaterThanOrEqual(12)
    let refusedRest = 0
    for (let i = 0; i < 8; i++) if ((await call(server, 'GET', '/users/1', bob)).status === 429) refusedRest++
    expect(refusedRest).toBeGreaterThanOrEqual(4)
    expect((await call(server, 'GET', '/users/2', alice)).status).toBe(200)

    const listed = (await admin(server, 'GET', '/admin/api/rate-limited')).body
    expect(listed.window_seconds).toBeGreaterThan(0)
    expect(listed.users.map((u: any) => u.user_id)).toEqual([3, 2])
    expect(listed.users[0]).toMatchObject({ user_id: 3, refusals: refusedWs, by_kind: { message: refusedWs } })
    expect(listed.users[1]).toMatchObject({ user_id: 2, refusals: refusedRest, by_kind: { rest_user: refusedRest } })
    expect(Date.parse(listed.users[0].last_at)).toBeGreaterThan(Date.now() - 60_000)
    expect((await admin(server, 'GET', '/admin/api/rate-limited?limit=1')).body.users.map((u: any) => u.user_id)).toEqual([3])
    flooder.close()
  })
})

describe('disconnecting a user', () => {
  test("closes that user's sockets on this instance with 4003, and nobody else's", async () => {
    await using server = await startServer({ config: { adminToken: ADMIN_TOKEN } })
    const phone = await TestClient.connect(server.wsUrl, '/ws/1')
    const laptop = await TestClient.connect(server.wsUrl, '/ws/1', { format: 'msgpack' })
    const bob = await TestClient.connect(server.wsUrl, '/ws/2')
    const res = await admin(server, 'POST', '/admin/api/users/1/disconnect')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ user_id: 1, closed: 2, close_code: 4003, other_instances_told: false })
    expect(CloseCode.byAdministrator).toBe(4003)
    for (const device of [phone, laptop]) expect(await device.waitClosed()).toEqual({ code: 4003, reason: 'disconnected by an administrator' })
    bob.send({ type: 'ping' })
    await bob.next('pong')
    expect(bob.closed).toBeNull()
    expect((await until(server, '/admin/api/connections', (c) => c.total === 1)).users).toEqual([{ user_id: 2, connections: 1, by_format: { json: 1, msgpack: 0 } }])
    bob.close()
  })

  test('an offline user: nothing to close; an unknown user: 404; a bad id: 422', async () => {
    await using server = await startServer({ config: { adminToken: ADMIN_TOKEN } })
    expect((await admin(server, 'POST', '/admin/api/users/3/disconnect')).body).toEqual({ user_id: 3, closed: 0, close_code: 4003, other_instances_told: false })
    const unknown = await admin(server, 'POST', '/admin/api/users/999/disconnect')
    expect({ status: unknown.status, code: unknown.body.error.code }).toEqual({ status: 404, code: 'unknown_user' })
    for (const id of ['abc', '0', '1.5']) {
      const bad = await admin(server, 'POST', `/admin/api/users/${id}/disconnect`)
      expect({ id, status: bad.status, code: bad.body.error.code }).toEqual({ id, status: 422, code: 'validation_failed' })
    }
  })
})

test('the admin API is in the OpenAPI document with its own bearer scheme and response schemas; the page is not', async () => {
  await using server = await startServer({ config: { adminToken: ADMIN_TOKEN } })
  const doc = (await api(server, 'GET', '/docs/json')).body
  expect(doc.components.securitySchemes.adminToken).toMatchObject({ type: 'http', scheme: 'bearer' })
  for (const path of API_GETS) {
    const get = doc.paths[path]?.get
    expect({ path, security: get?.security, tags: get?.tags }).toEqual({ path, security: [{ adminToken: [] }], tags: ['admin'] })
    expect(get.responses['200'].content['application/json'].schema).toBeDefined()
    expect(get.responses['401']).toBeDefined()
  }
  const disconnect = doc.paths['/admin/api/users/{id}/disconnect'].post
  expect(disconnect.responses['200'].content['application/json'].schema.properties.close_code).toBeDefined()
  expect(disconnect.responses['404']).toBeDefined()
  expect(doc.paths['/admin']).toBeUndefined()
})
