// Web Push end to end: a real server, a real push service on port 0 that decrypts what it gets
// with the subscription's private key (push-service.ts, RFC 8291), and the grace check's rule:
// pushed only when no device of the recipient confirmed the message in time.
import { describe, expect, test } from 'bun:test'
import webpush from 'web-push'
import { api, startServer } from '../helpers/server'
import { TestClient } from '../helpers/ws-client'
import { browserSubscription, startPushService, verifyVapid } from './push-service'

const vapid = webpush.generateVAPIDKeys()
const pushConfig = (more: Record<string, unknown> = {}) => ({
  vapidPublicKey: vapid.publicKey,
  vapidPrivateKey: vapid.privateKey,
  vapidSubject: 'mailto:ops@example.com',
  pushGraceMs: 400,
  pushAllowHttp: true,
  pushRetryBaseMs: 50,
  ...more,
})

async function subscribe(server: { url: string }, userId: number, endpoint: string) {
  const browser = await browserSubscription(endpoint)
  const res = await api(server, 'POST', `/push/subscriptions?user_id=${userId}`, browser.json)
  expect(res.status).toBe(201)
  return browser
}

const send = (server: { url: string }, from: number, body: Record<string, unknown>) => api(server, 'POST', '/messages', { sender_id: from, ...body })

describe('Web Push', () => {
  test('a direct message to an offline user is pushed, encrypted, with its sender, preview and headers', async () => {
    using pushService = startPushService()
    await using server = await startServer({ config: pushConfig() })
    const bob = await subscribe(server, 2, `${pushService.url}/sub/bob`)
    const sentAt = Date.now()
    expect((await send(server, 1, { recipient_id: 2, message: 'lunch at noon?' })).status).toBe(201)
    const push = await pushService.next()
    // Not before the grace time: a device had that long to confirm it.
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(350)
    expect(push.path).toBe('/sub/bob')
    expect(push.headers.get('content-encoding')).toBe('aes128gcm')
    expect(push.headers.get('ttl')).toBe(String(24 * 3600))
    expect(push.headers.get('urgency')).toBe('high')
    expect(push.headers.get('topic')).toBe('d_1_2')
    const claims = await verifyVapid(push.headers, vapid.publicKey, pushService.url)
    expect(claims.sub).toBe('mailto:ops@example.com')
    const payload = JSON.parse(await bob.decrypt(push.body))
    expect(payload).toMatchObject({ title: 'Alice', body: 'lunch at noon?', preview: 'lunch at noon?', sender: { id: 1, name: 'Alice' }, conversation: { kind: 'direct', user_id: 1 }, count: 1 })
  })

  test('a burst to an offline user collapses into one push under one Topic', async () => {
    using pushService = startPushService()
    await using server = await startServer({ config: pushConfig() })
    const bob = await subscribe(server, 2, `${pushService.url}/sub/bob`)
    for (const text of ['one', 'two', 'three']) await send(server, 1, { recipient_id: 2, message: text })
    const push = await pushService.next()
    await Bun.sleep(300)
    expect(pushService.received.length).toBe(1)
    expect(JSON.parse(await bob.decrypt(push.body))).toMatchObject({ preview: 'three', count: 3, body: 'three (+2 more)' })
  })

  test('no push when a device of the recipient confirms the message within the grace time', async () => {
    using pushService = startPushService()
    await using server = await startServer({ config: pushConfig() })
    await subscribe(server, 2, `${pushService.url}/sub/bob`)
    const device = await TestClient.connect(server.wsUrl, '/ws/2')
    try {
      await send(server, 1, { recipient_id: 2, message: 'you are here' })
      await device.next('message')
      await Bun.sleep(900)
      expect(pushService.received.length).toBe(0)
      // The same user, offline again: the next message is pushed.
      device.close()
      await device.waitClosed()
      await send(server, 1, { recipient_id: 2, message: 'and now you are not' })
      await pushService.next()
    } finally {
      device.close()
    }
  })

  test('a group message is pushed to offline members only, normal urgency, high for a mention', async () => {
    using pushService = startPushService()
    // Group delivered marks settle within about a second (src/realtime/confirmations.ts).
    await using server = await startServer({ config: pushConfig({ pushGraceMs: 1500 }) })
    const bob = await subscribe(server, 2, `${pushService.url}/sub/bob`)
    await subscribe(server, 3, `${pushService.url}/sub/carol`)
    const carolDevice = await TestClient.connect(server.wsUrl, '/ws/3')
    try {
      await send(server, 1, { group_id: 1, message: 'standup in 5', mention_ids: [2] })
      const push = await pushService.next(4000)
      await Bun.sleep(300)
      expect(pushService.received.map((p) => p.path)).toEqual(['/sub/bob'])
      expect(push.headers.get('urgency')).toBe('high')
      expect(push.headers.get('topic')).toBe('g_1')
      expect(JSON.parse(await bob.decrypt(push.body))).toMatchObject({ title: 'Alice mentioned you in everyone', conversation: { kind: 'group', group_id: 1, name: 'everyone' }, mention: true })
      await send(server, 1, { group_id: 1, message: 'no mention' })
      expect((await pushService.next(4000)).headers.get('urgency')).toBe('normal')
    } finally {
      carolDevice.close()
    }
  })

  test('PUSH_PREVIEW=0: the payload carries no text of the message', async () => {
    using pushService = startPushService()
    await using server = await startServer({ config: pushConfig({ pushPreview: false }) })
    const bob = await subscribe(server, 2, `${pushService.url}/sub/bob`)
    await send(server, 1, { recipient_id: 2, message: 'the secret password is swordfish' })
    const text = await bob.decrypt((await pushService.next()).body)
    expect(text).not.toContain('swordfish')
    expect(JSON.parse(text)).toMatchObject({ title: 'Alice', body: 'New message' })
    expect(JSON.parse(text).preview).toBeUndefined()
  })

  test('a 410 from the push service removes the subscription', async () => {
    using pushService = startPushService()
    pushService.respond = () => 410
    await using server = await startServer({ config: pushConfig() })
    await subscribe(server, 2, `${pushService.url}/sub/bob`)
    expect((await server.store.push.subscriptionsOf([2])).length).toBe(1)
    await send(server, 1, { recipient_id: 2, message: 'hello?' })
    await pushService.next()
    await Bun.sleep(100)
    expect(await server.store.push.subscriptionsOf([2])).toEqual([])
    expect(await (await fetch(`${server.url}/metrics`)).text()).toContain('switchboard_push_attempts_total{outcome="gone"} 1')
  })

  test('a 500 is retried from a durable retry row until the push service takes it', async () => {
    using pushService = startPushService()
    pushService.respond = (_, n) => (n <= 2 ? 500 : 201)
    await using server = await startServer({ config: pushConfig() })
    const bob = await subscribe(server, 2, `${pushService.url}/sub/bob`)
    await send(server, 1, { recipient_id: 2, message: 'eventually' })
    await pushService.next()
    expect(server.store.push).toBeDefined()
    const third = await (async () => {
      while (pushService.received.length < 3) await Bun.sleep(20)
      return pushService.received[2]
    })()
    // Each attempt is encrypted afresh, and each decrypts to the same push.
    expect(JSON.parse(await bob.decrypt(third.body)).preview).toBe('eventually')
    await Bun.sleep(100)
    expect(await server.store.push.claimRetries(Date.now() + 10_000_000, 10, 0)).toEqual([])
    expect((await server.store.push.subscriptionsOf([2])).length).toBe(1)
    // The metrics count the attempts by outcome.
    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    expect(metrics).toContain('switchboard_push_attempts_total{outcome="retry"} 2')
    expect(metrics).toContain('switchboard_push_attempts_total{outcome="sent"} 1')
    expect(metrics).toMatch(/switchboard_push_grace_checks_waiting \d+/)
  })
})

describe('push routes', () => {
  test('without VAPID keys every push route answers 503 push_disabled, and nothing is pushed', async () => {
    await using server = await startServer()
    expect(server.switchboard.push).toBeNull()
    for (const [method, body] of [['GET', undefined], ['POST', (await browserSubscription('https://push.example/x')).json], ['DELETE', { endpoint: 'https://push.example/x' }]] as const) {
      const path = method === 'GET' ? '/push/vapid-public-key' : '/push/subscriptions?user_id=2'
      const res = await api(server, method, path, body)
      expect(res.status).toBe(503)
      expect(res.body.error.code).toBe('push_disabled')
    }
  })

  test('the public key, a subscription stored, refused when unusable, and removed', async () => {
    await using server = await startServer({ config: pushConfig({ pushAllowHttp: false }) })
    expect((await api(server, 'GET', '/push/vapid-public-key')).body).toEqual({ public_key: vapid.publicKey })
    const good = (await browserSubscription('https://push.example/abc')).json
    const refused: [unknown, string][] = [
      [{ ...good, endpoint: 'http://push.example/abc' }, 'endpoint must be an https:// URL'],
      [{ ...good, keys: { ...good.keys, p256dh: Buffer.alloc(66, 4).toString('base64url') } }, 'keys.p256dh'],
      [{ ...good, keys: { ...good.keys, auth: 'A'.repeat(24) } }, 'keys.auth'],
    ]
    for (const [body, message] of refused) {
      const res = await api(server, 'POST', '/push/subscriptions?user_id=2', body)
      expect(res.status).toBe(400)
      expect(res.body.error.message).toContain(message)
    }
    expect((await api(server, 'POST', '/push/subscriptions?user_id=99', good)).status).toBe(404)
    expect((await api(server, 'POST', '/push/subscriptions?user_id=2', good)).status).toBe(201)
    expect((await server.store.push.subscriptionsOf([2])).map((s) => s.endpoint)).toEqual(['https://push.example/abc'])
    expect((await api(server, 'DELETE', '/push/subscriptions?user_id=3', { endpoint: good.endpoint })).status).toBe(404)
    expect((await api(server, 'DELETE', '/push/subscriptions?user_id=2', { endpoint: good.endpoint })).status).toBe(204)
    expect(await server.store.push.subscriptionsOf([2])).toEqual([])
  })
})
