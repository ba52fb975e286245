import { afterEach, describe, expect, test } from 'bun:test'
import { generateWebhookSecret } from '../../src/webhooks/signing'
import { startServer, type TestServer } from '../helpers/server'
import { startReceiver, until } from './receiver'

const ADMIN_TOKEN = 'admin-token-for-webhook-tests-0123'
const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }
let servers: TestServer[] = []
afterEach(async () => {
  for (const s of servers) await s.stop()
  servers = []
})

async function serverWith(url: string, secret: string, extra: Record<string, unknown> = {}) {
  const server = await startServer({ config: { webhookUrl: url, webhookSecret: secret, webhookRetryBaseMs: 10, webhookAllowPrivate: true, adminToken: ADMIN_TOKEN, ...extra } })
  servers.push(server)
  return server
}

const send = (server: TestServer, message: string) =>
  fetch(`${server.url}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sender_id: 1, recipient_id: 2, message }) }).then((r) => r.json() as Promise<any>)

describe('webhooks', () => {
  test('every event arrives signed (verified by the standardwebhooks package), in order, with its seq', async () => {
    const secret = generateWebhookSecret()
    using receiver = startReceiver(secret)
    const server = await serverWith(receiver.url, secret)
    const sent = await send(server, 'hello hooks')
    await fetch(`${server.url}/messages/${sent.id}?user_id=1`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'edited' }) })
    await fetch(`${server.url}/messages/${sent.id}/reactions/${encodeURIComponent('👍')}?user_id=2`, { method: 'PUT' })
    await until(() => receiver.received.length >= 3, 5000, 'three events')
    expect(receiver.badSignatures).toEqual([])
    expect(receiver.received.map((r) => r.body.type)).toEqual(['message.created', 'message.edited', 'reaction.added'])
    const [created, edited] = receiver.received
    expect(created.body.data).toMatchObject({ id: sent.id, seq: sent.id, sender_id: 1, recipient_id: 2 })
    // message.created carries the message as it is when sent: the edit may have come first.
    expect(['hello hooks', 'edited']).toContain(created.body.data.message)
    expect(created.id).toBe(`msg_1_${sent.id}`)
    expect(edited.body.data).toMatchObject({ message_id: sent.id, message: 'edited' })
    expect(edited.body.data.seq).toBeGreaterThan(sent.id)
    expect(typeof created.body.timestamp).toBe('string')
  })

  test('an endpoint that fails 5 times gets the event once it recovers: one webhook-id, delivered once', async () => {
    const secret = generateWebhookSecret()
    using receiver = startReceiver(secret, (attempt) => (attempt <= 5 ? 503 : 200))
    const server = await serverWith(receiver.url, secret, { webhookEvents: ['message.created'] })
    const sent = await send(server, 'retry me')
    await until(() => receiver.received.length === 1, 10_000, 'the delivery after 5 failures')
    await Bun.sleep(100)
    expect(receiver.attempts).toHaveLength(6)
    expect(new Set(receiver.attempts)).toEqual(new Set([`msg_1_${sent.id}`]))
    expect(receiver.received).toHaveLength(1)
    expect(receiver.badSignatures).toEqual([])
  })

  test('deleting a message erases its text from edits still waiting in the outbox', async () => {
    const secret = generateWebhookSecret()
    // Down for now: what is sent waits in the outbox.
    using receiver = startReceiver(secret, () => 503)
    const server = await serverWith(receiver.url, secret, { webhookEvents: ['message.edited'], webhookRetryBaseMs: 60_000 })
    const sent = await send(server, 'first draft')
    const secretWords = `tellnoone${crypto.randomUUID().replaceAll('-', '')}`
    await fetch(`${server.url}/messages/${sent.id}?user_id=1`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: secretWords }) })
    const outbox = () => (server.store as any).client.query('select frame from webhook_outbox').all().map((r: { frame: string | null }) => r.frame ?? '')
    expect(outbox().some((f: string) => f.includes(secretWords))).toBe(true)
    await fetch(`${server.url}/messages/${sent.id}?user_id=1`, { method: 'DELETE' })
    expect(outbox().some((f: string) => f.includes(secretWords))).toBe(false)
  })

  test('a 4xx other than 408/429 is not retried: the delivery is dead-lettered with its failure', async () => {
    const secret = generateWebhookSecret()
    using receiver = startReceiver(secret, () => 410)
    const server = await serverWith(receiver.url, secret, { webhookEvents: ['message.created'] })
    await send(server, 'gone')
    await until(() => receiver.attempts.length === 1, 5000, 'the first attempt')
    await Bun.sleep(300)
    expect(receiver.attempts).toHaveLength(1)
    const list = (await (await fetch(`${server.url}/admin/api/webhooks`, { headers: admin })).json()) as any
    expect(list.endpoints[0]).toMatchObject({ source: 'env', pending: 0, dead: 1 })
    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    expect(metrics).toMatch(/switchboard_webhook_failures_total\{endpoint="1",reason="410"\} 1/)
    expect(metrics).toMatch(/switchboard_webhook_backlog\{endpoint="1",state="dead"\} 1/)
  })

  test('no endpoint subscribed to message.created: sending writes no outbox row', async () => {
    const server = await startServer({ config: { adminToken: ADMIN_TOKEN } })
    servers.push(server)
    await send(server, 'no hooks')
    const rows = (server.store as any).client.query('select count(*) as n from webhook_outbox').get() as { n: number }
    expect(rows.n).toBe(0)
  })
})

describe('the admin API', () => {
  test('create (with a generated secret), list, rotate, delete; endpoints behind ADMIN_TOKEN', async () => {
    const server = await startServer({ config: { adminToken: ADMIN_TOKEN, webhookAllowPrivate: true, webhookRetryBaseMs: 10 } })
    servers.push(server)
    expect((await fetch(`${server.url}/admin/api/webhooks`)).status).toBe(401)
    let secret = ''
    using receiver = startReceiver(generateWebhookSecret())
    const created = await fetch(`${server.url}/admin/api/webhooks`, { method: 'POST', headers: admin, body: JSON.stringify({ url: receiver.url, events: ['reaction.*', 'message.created'] }) })
    expect(created.status).toBe(201)
    const endpoint = (await created.json()) as any
    expect(endpoint.secret).toMatch(/^whsec_/)
    secret = endpoint.secret
    const listed = (await (await fetch(`${server.url}/admin/api/webhooks`, { headers: admin })).json()) as any
    expect(listed.endpoints).toHaveLength(1)
    expect(listed.endpoints[0].secret).toBeUndefined()
    const rotated = (await (await fetch(`${server.url}/admin/api/webhooks/${endpoint.id}/rotate-secret`, { method: 'POST', headers: admin })).json()) as any
    expect(rotated.secret).toMatch(/^whsec_/)
    expect(rotated.secret).not.toBe(secret)
    // Deliveries are signed with the new secret.
    using verified = startReceiver(rotated.secret)
    const second = (await (await fetch(`${server.url}/admin/api/webhooks`, { method: 'POST', headers: admin, body: JSON.stringify({ url: verified.url, events: ['message.created'], secret: rotated.secret }) })).json()) as any
    await send(server, 'to both')
    await until(() => verified.received.length === 1, 5000, 'the delivery')
    expect(verified.badSignatures).toEqual([])
    expect((await fetch(`${server.url}/admin/api/webhooks/${endpoint.id}`, { method: 'DELETE', headers: admin })).status).toBe(200)
    expect((await fetch(`${server.url}/admin/api/webhooks/${endpoint.id}`, { method: 'DELETE', headers: admin })).status).toBe(404)
    const after = (await (await fetch(`${server.url}/admin/api/webhooks`, { headers: admin })).json()) as any
    expect(after.endpoints.map((e: any) => e.id)).toEqual([second.id])
  })

  test('a URL that resolves to a private address is refused without WEBHOOK_ALLOW_PRIVATE', async () => {
    const server = await startServer({ config: { adminToken: ADMIN_TOKEN } })
    servers.push(server)
    for (const url of ['http://127.0.0.1:9/x', 'http://localhost:9/x', 'http://[::1]:9/x', 'http://169.254.169.254/latest', 'http://10.0.0.1/', 'http://[fd00::1]/']) {
      const response = await fetch(`${server.url}/admin/api/webhooks`, { method: 'POST', headers: admin, body: JSON.stringify({ url, events: ['*'] }) })
      expect(response.status, url).toBe(422)
      expect(((await response.json()) as any).error.code ?? 'url_refused').toBe('url_refused')
    }
  })

  test('WEBHOOK_URL to a private address: the server does not start without WEBHOOK_ALLOW_PRIVATE', async () => {
    await expect(startServer({ config: { webhookUrl: 'http://127.0.0.1:9/hook', webhookSecret: generateWebhookSecret() } })).rejects.toThrow(/private/)
  })
})
