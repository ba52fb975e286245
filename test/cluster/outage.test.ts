import { describe, expect, test } from 'bun:test'
import net from 'node:net'
import { createApp } from '../../src/app'
import { LocalBroker } from '../../src/broker/broker'
import { defaultConfig } from '../../src/config'
import { openPgStore } from '../../src/db/pg-store'
import { seedDemo } from '../../src/db/seed'
import { api } from '../helpers/server'
import { createTestDatabase, POSTGRES_ADMIN_URL, postgresUnavailable, redisUnavailable } from '../helpers/services'
import { startTcpProxy } from '../helpers/tcp-proxy'
import { TestClient } from '../helpers/ws-client'
import { eventually, startCluster } from './cluster-helpers'

const pgSkip = await postgresUnavailable()
const redisServer = Bun.which('redis-server')
const redisSkip = pgSkip ?? (redisServer ? undefined : 'redis-server is not installed')
if (pgSkip) console.warn(`outage tests skipped: ${pgSkip}`)
else if (redisSkip) console.warn(`Redis restart test skipped: ${redisSkip}`)

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const port = (server.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A private redis-server of this test's own, so restarting it disturbs nobody else. */
function startRedis(port: number) {
  return Bun.spawn([redisServer!, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdout: 'ignore', stderr: 'ignore' })
}

describe(`outages${pgSkip ? ` (skipped: ${pgSkip})` : ''}`, () => {
  test.skipIf(redisSkip !== undefined)(`Redis restarted mid-run: not ready, messages refused, then delivery resumes${redisSkip ? ` (skipped: ${redisSkip})` : ''}`, async () => {
    const port = await freePort()
    const redisUrl = `redis://127.0.0.1:${port}`
    let redis = startRedis(port)
    try {
      expect(await eventually(async () => (await redisUnavailable(redisUrl)) === undefined, 3000)).toBe(true)
      await using cluster = await startCluster(2, { redisUrl })
      const [a, b] = cluster.instances
      const alice = await TestClient.connect(a.wsUrl, '/ws/1')
      const bob = await TestClient.connect(b.wsUrl, '/ws/2')
      alice.send({ type: 'message', recipient_id: 2, message: 'before' })
      expect(await bob.next('message')).toMatchObject({ message: 'before' })

      redis.kill()
      await redis.exited
      expect(await eventually(async () => (await api(a, 'GET', '/ready')).status === 503, 3000)).toBe(true)
      alice.send({ type: 'message', recipient_id: 2, message: 'during', client_id: 'during-1', ref: 'during-1' })
      expect(await alice.next('error')).toMatchObject({ code: 'unavailable', ref: 'during-1' })
      // Typing is not stored: during the outage it is dropped, and counted.
      alice.send({ type: 'typing', recipient_id: 2, is_typing: true })
      await alice.collect('error', 100)
      const metrics = await (await fetch(`${a.url}/metrics`)).text()
      expect(metrics).toMatch(/^switchboard_broker_healthy 0$/m)
      expect(Number(metrics.match(/^switchboard_broker_dropped_total (\d+)$/m)?.[1])).toBeGreaterThan(0)
      const rest = await api(b, 'POST', '/messages', { sender_id: 2, recipient_id: 1, message: 'during (REST)' })
      expect(rest.status).toBe(503)
      expect(rest.body.error.code).toBe('unavailable')

      redis = startRedis(port)
      for (const instance of [a, b]) expect(await eventually(async () => (await api(instance, 'GET', '/ready')).status === 200, 8000)).toBe(true)
      // The retry the client was told to make, and delivery both ways, work again.
      alice.send({ type: 'message', recipient_id: 2, message: 'during', client_id: 'during-1' })
      expect(await bob.next('message')).toMatchObject({ message: 'during', client_id: 'during-1' })
      expect(await alice.next('message_sent')).toMatchObject({ duplicate: false })
      bob.send({ type: 'message', recipient_id: 1, message: 'after' })
      expect(await alice.next('message')).toMatchObject({ message: 'after' })
      expect(await (await fetch(`${a.url}/metrics`)).text()).toMatch(/^switchboard_broker_healthy 1$/m)
      // Presence was rebuilt in the new Redis.
      expect(await eventually(async () => (await api(a, 'GET', '/ws/online-users')).body.online_users.join() === '1,2', 3000)).toBe(true)
      alice.close()
      bob.close()
    } finally {
      redis.kill()
      await redis.exited
    }
  })

  test.skipIf(pgSkip !== undefined)('PostgreSQL unreachable: not ready, messages refused with `unavailable`, recovery on its own', async () => {
    const database = await createTestDatabase()
    const proxy = await startTcpProxy(Number(new URL(POSTGRES_ADMIN_URL).port || 5432), new URL(POSTGRES_ADMIN_URL).hostname)
    const viaProxy = new URL(database.url)
    viaProxy.host = `127.0.0.1:${proxy.port}`
    const store = await openPgStore(viaProxy.toString(), { max: 2, connectTimeoutSeconds: 1 })
    await seedDemo(store)
    const switchboard = createApp({ store, broker: new LocalBroker(), config: defaultConfig({ databaseUrl: viaProxy.toString(), logLevel: 'silent' }) })
    await switchboard.start()
    switchboard.listen({ port: 0, hostname: '127.0.0.1' })
    const server = { url: `http://127.0.0.1:${switchboard.app.server!.port}` }
    try {
      const alice = await TestClient.connect(server.url.replace('http', 'ws'), '/ws/1')
      expect((await api(server, 'GET', '/ready')).status).toBe(200)
      // Users are cached now: what fails below is the INSERT itself, not a lookup.
      alice.send({ type: 'message', recipient_id: 2, message: 'warm' })
      await alice.next('message_sent')
      await proxy.cut()
      expect((await api(server, 'GET', '/ready')).status).toBe(503)
      alice.send({ type: 'message', recipient_id: 2, message: 'lost?', client_id: 'pg-1', ref: 'pg-1' })
      expect(await alice.next('error', 5000)).toMatchObject({ code: 'unavailable', ref: 'pg-1' })
      await proxy.restore()
      expect(await eventually(async () => (await api(server, 'GET', '/ready')).status === 200, 5000)).toBe(true)
      alice.send({ type: 'message', recipient_id: 2, message: 'lost?', client_id: 'pg-1' })
      expect(await alice.next('message_sent')).toMatchObject({ duplicate: false, status: 'sent' })
      const history = await api(server, 'GET', '/messages?user_id=1&other_user_id=2')
      expect(history.body.messages.map((m: any) => m.message)).toEqual(['warm', 'lost?'])
      alice.close()
    } finally {
      await switchboard.stop()
      await store.close()
      await proxy.close()
      await database.drop()
    }
  })
})
