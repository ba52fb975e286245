import { afterEach, describe, expect, test } from 'bun:test'
import { generateWebhookSecret } from '../../src/webhooks/signing'
import { startServer, type TestServer } from '../helpers/server'
import { startReceiver, until } from './receiver'

const ADMIN_TOKEN = 'admin-token-for-webhook-tests-0123'
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }
let servers: TestServer[] = []
afterEach(async () => {
  for (const s of servers) await s.stop()
  servers = []
})

async function serverWith(url: string, secret: string, extra: Record<string, unknown> = {}) {
  const config = { webhookUrl: url, webhookSecret: secret, webhookEvents: ['message.created'], webhookRetryBaseMs: 10, webhookAllowPrivate: true, adminToken: ADMIN_TOKEN, ...extra }
  const server = await startServer({ config })
  servers.push(server)
  return server
}

const send = (server: TestServer, message: string, sender = 1, recipient = 2) =>
  fetch(`${server.url}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sender_id: sender, recipient_id: recipient, message }) }).then(
    (r) => r.json() as Promise<any>,
  )
const endpoints = async (server: TestServer) => ((await (await fetch(`${server.url}/admin/api/webhooks`, { headers: admin })).json()) as any).endpoints as any[]
/** The failed attempts the metrics counted for endpoint 1 with this reason. */
const failuresCounted = async (server: TestServer, reason: string) => {
  const text = await (await fetch(`${server.url}/metrics`)).text()
  const match = text.match(new RegExp(`switchboard_webhook_failures_total\\{endpoint="1",reason="${reason}"\\} (\\d+)`))
  return match ? Number(match[1]) : 0
}

/** A port nothing listens on: taken from the system, then let go. */
function closedPort(): number {
  const probe = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = probe.port!
  probe.stop(true)
  return port
}

describe('webhook retries', () => {
  // Standard Webhooks ("Retry schedule"): 408 Request Timeout and 429 Too Many Requests are worth retrying.
  test.each([408, 429])('%i is retried, then delivered once with the same webhook-id', async (code) => {
    const secret = generateWebhookSecret()
    using receiver = startReceiver(secret, (attempt) => (attempt <= 2 ? code : 200))
    const server = await serverWith(receiver.url, secret)
    const sent = await send(server, `retry on ${code}`)
    await until(() => receiver.received.length === 1, 5000, 'the delivery')
    await Bun.sleep(100)
    expect(receiver.attempts).toEqual([`msg_1_${sent.id}`, `msg_1_${sent.id}`, `msg_1_${sent.id}`])
    expect(receiver.received).toHaveLength(1)
    expect(receiver.badSignatures).toEqual([])
    expect(await failuresCounted(server, String(code))).toBe(2)
    expect((await endpoints(server))[0]).toMatchObject({ failures: 0, pending: 0, dead: 0 })
  })

  test('a receiver that never answers: the attempt times out (WEBHOOK_TIMEOUT_MS) and is retried', async () => {
    const secret = generateWebhookSecret()
    const times: number[] = []
    // The first request is held open for good; the second is answered.
    using receiver = startReceiver(secret, (attempt) => {
      times.push(Date.now())
      return attempt === 1 ? new Promise<number>(() => {}) : 204
    })
    const server = await serverWith(receiver.url, secret, { webhookTimeoutMs: 300 })
    const sent = await send(server, 'slow receiver')
    await until(() => receiver.received.length === 1, 5000, 'the delivery after a timeout')
    expect(receiver.attempts).toEqual([`msg_1_${sent.id}`, `msg_1_${sent.id}`])
    // Not retried before the timeout fired.
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(290)
    expect(await failuresCounted(server, 'network')).toBe(1)
  })

  test('a refused connection (a closed port) is retried until a receiver listens there', async () => {
    const secret = generateWebhookSecret()
    const port = closedPort()
    const server = await serverWith(`http://127.0.0.1:${port}/hook`, secret)
    const sent = await send(server, 'nobody home')
    const counted = () => failuresCounted(server, 'network')
    const end = Date.now() + 5000
    while ((await counted()) < 2 && Date.now() < end) await Bun.sleep(10)
    expect(await counted()).toBeGreaterThanOrEqual(2)
    using receiver = startReceiver(secret, () => 204, port)
    await until(() => receiver.received.length === 1, 10_000, 'the delivery once the port listens')
    await Bun.sleep(100)
    expect(receiver.attempts).toEqual([`msg_1_${sent.id}`])
    expect(receiver.received[0].body.data).toMatchObject({ id: sent.id, message: 'nobody home' })
  })
})

describe('the circuit', () => {
  test('5 consecutive failures pause the endpoint; nothing is sent while paused; a probe closes it and failures go back to 0', async () => {
    const secret = generateWebhookSecret()
    let down = true
    const times: number[] = []
    using receiver = startReceiver(secret, () => {
      times.push(Date.now())
      return down ? 503 : 204
    })
    // The base sets the pause: 10 × 40 ms at the 5th failure, doubling with each further one.
    const server = await serverWith(receiver.url, secret, { webhookRetryBaseMs: 40 })
    // Three conversations: their deliveries do not wait for one another (order is per conversation).
    const sent = [await send(server, 'a', 1, 2), await send(server, 'b', 1, 3), await send(server, 'c', 2, 3)]
    let paused: any
    const end = Date.now() + 5000
    while (Date.now() < end) {
      const [e] = await endpoints(server)
      if (e.failures >= 5 && e.paused_until) {
        paused = e
        break
      }
      await Bun.sleep(5)
    }
    expect(paused).toBeDefined()
    const seenAt = Date.now()
    const until_ = Date.parse(paused.paused_until)
    expect(until_).toBeGreaterThan(seenAt)
    down = false
    await until(() => receiver.received.length === 3, 10_000, 'all three delivered after the circuit closes')
    // While paused no attempt went out: the first after the moment it was seen is not before the pause ends.
    const after = times.filter((t) => t > seenAt)
    expect(after.length).toBeGreaterThanOrEqual(3)
    expect(Math.min(...after)).toBeGreaterThanOrEqual(until_ - 5)
    expect(new Set(receiver.received.map((r) => r.id))).toEqual(new Set(sent.map((m) => `msg_1_${m.id}`)))
    // The receiver counts a delivery before the dispatcher records it: wait for the record.
    let [closed] = await endpoints(server)
    for (let i = 0; i < 100 && closed.pending > 0; i++) {
      await Bun.sleep(10)
      ;[closed] = await endpoints(server)
    }
    expect(closed).toMatchObject({ failures: 0, paused_until: null, pending: 0, dead: 0 })
  })
})

describe('redirects', () => {
  // Not following is the SSRF guard: a public receiver could otherwise redirect us to a private address.
  test('a 302 is not followed: the target never gets the request, and the delivery is dead-lettered (a 3xx is not retried)', async () => {
    const secret = generateWebhookSecret()
    using target = startReceiver(secret)
    using redirecting = startReceiver(secret, () => new Response(null, { status: 302, headers: { location: target.url } }))
    const server = await serverWith(redirecting.url, secret)
    await send(server, 'go elsewhere')
    await until(() => redirecting.attempts.length === 1, 5000, 'the first attempt')
    await Bun.sleep(300)
    expect(redirecting.attempts).toHaveLength(1)
    expect(target.attempts).toEqual([])
    expect((await endpoints(server))[0]).toMatchObject({ pending: 0, dead: 1, failures: 1 })
    expect(await failuresCounted(server, '302')).toBe(1)
  })
})
