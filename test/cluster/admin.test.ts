// The admin API in cluster mode: each instance lists every instance with its own connection counts
// (carried by the presence heartbeat), and a disconnect asked of one instance closes the user's
// sockets on the others too.
import { describe, expect, test } from 'bun:test'
import { ADMIN_TOKEN, adminApi } from '../helpers/admin'
import { postgresUnavailable, REDIS_URL, redisUnavailable } from '../helpers/services'
import { TestClient } from '../helpers/ws-client'
import { eventually, startCluster, type Instance } from './cluster-helpers'

const skipReason = (await postgresUnavailable()) ?? (await redisUnavailable())
const clusterTest = skipReason ? test.skip : test

const instancesSeenBy = async (instance: Instance) => (await adminApi(instance, 'GET', '/admin/api/connections')).body.instances as any[]

/** What an instance reports of every instance, in a comparable form. */
async function countsSeenBy(instance: Instance): Promise<string> {
  const rows = (await instancesSeenBy(instance)).map(({ instance_id, self, connections, users, by_format }) => ({ instance_id, self, connections, users, by_format }))
  return JSON.stringify(rows.sort((x, y) => x.instance_id.localeCompare(y.instance_id)))
}

describe(`admin API in cluster mode${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  clusterTest('every instance lists every instance with its connections, per format', async () => {
    await using cluster = await startCluster(2, { redisUrl: REDIS_URL, presenceTtlMs: 1500, config: { adminToken: ADMIN_TOKEN } })
    const [a, b] = cluster.instances
    const clients = [
      await TestClient.connect(a.wsUrl, '/ws/1'),
      await TestClient.connect(a.wsUrl, '/ws/3', { format: 'msgpack' }),
      await TestClient.connect(b.wsUrl, '/ws/2'),
      await TestClient.connect(b.wsUrl, '/ws/2', { format: 'msgpack' }),
      await TestClient.connect(b.wsUrl, '/ws/1'),
    ]
    const expected = (self: string) =>
      JSON.stringify([
        { instance_id: 'A', self: self === 'A', connections: 2, users: 2, by_format: { json: 1, msgpack: 1 } },
        { instance_id: 'B', self: self === 'B', connections: 3, users: 2, by_format: { json: 2, msgpack: 1 } },
      ])
    // The other instance's counts arrive with its next heartbeat (every third of the TTL).
    for (const instance of [a, b]) {
      await eventually(async () => (await countsSeenBy(instance)) === expected(instance.name), 3000)
      expect(await countsSeenBy(instance)).toBe(expected(instance.name))
    }
    const [fromA] = (await instancesSeenBy(a)).filter((i) => i.instance_id === 'B')
    expect(Date.parse(fromA.updated_at)).toBeGreaterThan(Date.now() - 5000)
    const overview = (await adminApi(a, 'GET', '/admin/api/overview')).body
    expect(overview).toMatchObject({ instance_id: 'A', cluster: true, connections: { total: 2 } })

    // An instance that leaves takes its row with it.
    for (const client of clients.slice(2)) client.close()
    await b.stop()
    expect(await eventually(async () => (await instancesSeenBy(a)).map((i) => i.instance_id).join() === 'A', 3000)).toBe(true)
    for (const client of clients.slice(0, 2)) client.close()
  })

  clusterTest("a disconnect asked of one instance closes the user's sockets on the others with 4003, and nobody else's", async () => {
    await using cluster = await startCluster(2, { redisUrl: REDIS_URL, config: { adminToken: ADMIN_TOKEN } })
    const [a, b] = cluster.instances
    const bobOnA = await TestClient.connect(a.wsUrl, '/ws/2')
    const bobOnB = await TestClient.connect(b.wsUrl, '/ws/2', { format: 'msgpack' })
    const aliceOnB = await TestClient.connect(b.wsUrl, '/ws/1')
    const res = await adminApi(a, 'POST', '/admin/api/users/2/disconnect')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ user_id: 2, closed: 1, close_code: 4003, other_instances_told: true })
    for (const bob of [bobOnA, bobOnB]) expect(await bob.waitClosed()).toEqual({ code: 4003, reason: 'disconnected by an administrator' })
    aliceOnB.send({ type: 'ping' })
    await aliceOnB.next('pong')
    expect(aliceOnB.closed).toBeNull()
    aliceOnB.close()
  })
})
