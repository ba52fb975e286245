import { SQL } from 'bun'
import { describe, expect, test } from 'bun:test'
import { api } from '../helpers/server'
import { postgresUnavailable, REDIS_URL, redisUnavailable } from '../helpers/services'
import { TestClient } from '../helpers/ws-client'
import { eventually, startCluster } from './cluster-helpers'

// Several instances in this process, each with its own RedisBroker and PostgreSQL pool, sharing
// one database and one Redis (under a prefix of their own). Users 1 alice, 2 bob, 3 carol; group 1.
const skipReason = (await postgresUnavailable()) ?? (await redisUnavailable())
if (skipReason) console.warn(`cluster tests skipped: ${skipReason}`)
const clusterTest = skipReason ? test.skip : test

describe(`cluster mode${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  clusterTest('direct message, typing, read receipt and statuses between users on different instances', async () => {
    await using cluster = await startCluster(2, { redisUrl: REDIS_URL })
    const [a, b] = cluster.instances
    const alice = await TestClient.connect(a.wsUrl, '/ws/1')
    const bob = await TestClient.connect(b.wsUrl, '/ws/2', { format: 'msgpack' })
    // Lazy: B listens to Redis for bob and his group 1 only, because bob is connected there.
    expect(b.broker.watchedChannels).toBe(2)

    bob.send({ type: 'typing', recipient_id: 1, is_typing: true })
    expect(await alice.next('typing')).toMatchObject({ sender_id: 2, recipient_id: 1, is_typing: true })

    alice.send({ type: 'message', recipient_id: 2, message: 'across instances', client_id: 'x-1' })
    const got = await bob.next('message')
    expect(got).toMatchObject({ sender_id: 1, recipient_id: 2, message: 'across instances', status: 'delivered' })
    expect(await alice.next('message_sent')).toMatchObject({ message_id: got.id, status: 'sent', duplicate: false })
    // Bob's device on the other instance confirmed it: that instance stores it and tells alice's.
    expect(await alice.next('message_status')).toMatchObject({ message_id: got.id, status: 'delivered', user_id: 2, seq: got.id + 1 })

    bob.send({ type: 'read_receipt', message_id: got.id })
    expect(await alice.next('read_receipt')).toMatchObject({ message_id: got.id, reader_id: 2, sender_id: 1 })
    expect(await alice.next('message_status')).toMatchObject({ message_id: got.id, status: 'read', user_id: 2 })

    // A retry with the same client_id on the other instance returns the original, delivers nothing.
    const retry = await api(b, 'POST', '/messages', { sender_id: 1, recipient_id: 2, message: 'across instances', client_id: 'x-1' })
    expect(retry.status).toBe(200)
    expect(retry.body.id).toBe(got.id)
    expect(await bob.collect('message', 150)).toEqual([])
    alice.close()
    bob.close()
    // ...and stops when the last socket there leaves.
    expect(await eventually(() => a.broker.watchedChannels === 0 && b.broker.watchedChannels === 0, 2000)).toBe(true)
  })

  clusterTest('group messages reach members on three instances exactly once, including the sender’s other device', async () => {
    await using cluster = await startCluster(3, { redisUrl: REDIS_URL })
    const [a, b, c] = cluster.instances
    const alice = await TestClient.connect(a.wsUrl, '/ws/1')
    const aliceTablet = await TestClient.connect(c.wsUrl, '/ws/1')
    const bob = await TestClient.connect(b.wsUrl, '/ws/2')
    const carol = await TestClient.connect(c.wsUrl, '/ws/3')

    carol.send({ type: 'typing', group_id: 1, is_typing: true })
    expect(await bob.next('typing')).toMatchObject({ sender_id: 3, group_id: 1 })

    alice.send({ type: 'message', group_id: 1, message: 'hello everyone' })
    const sent = await alice.next('message_sent')
    for (const client of [bob, carol, aliceTablet]) expect(await client.next('message')).toMatchObject({ id: sent.message_id, group_id: 1 })
    for (const client of [bob, carol, aliceTablet, alice]) expect(await client.collect('message', 150)).toEqual([])

    carol.send({ type: 'read_receipt', message_id: sent.message_id })
    expect(await alice.next('read_receipt')).toMatchObject({ message_id: sent.message_id, reader_id: 3, group_id: 1 })
    for (const c of [alice, aliceTablet, bob, carol]) c.close()
  })

  clusterTest('a membership change on one instance reaches every live socket on another, in either framing', async () => {
    await using cluster = await startCluster(2, { redisUrl: REDIS_URL })
    const [a, b] = cluster.instances
    const alice = await TestClient.connect(a.wsUrl, '/ws/1')
    // On B: bob with a JSON and a MessagePack device, carol with a MessagePack one only.
    const bobDevices = [await TestClient.connect(b.wsUrl, '/ws/2'), await TestClient.connect(b.wsUrl, '/ws/2', { format: 'msgpack' })]
    const carol = await TestClient.connect(b.wsUrl, '/ws/3', { format: 'msgpack' })
    const onB = [...bobDevices, carol]
    const created = await api(a, 'POST', '/groups', { name: 'trio', created_by: 1, member_ids: [1] })
    expect(created.status).toBe(201)
    const groupId = created.body.id
    for (const userId of [2, 3]) expect((await api(a, 'POST', `/groups/${groupId}/members`, { user_id: userId })).status).toBe(201)
    // B heard about it: every socket there receives the group's messages without reconnecting...
    alice.send({ type: 'message', group_id: groupId, message: 'welcome' })
    for (const client of onB) expect(await client.next('message')).toMatchObject({ group_id: groupId, message: 'welcome' })
    // ...and B's directory lets them send to it.
    carol.send({ type: 'message', group_id: groupId, message: 'thanks' })
    expect(await alice.next('message')).toMatchObject({ group_id: groupId, sender_id: 3 })
    for (const userId of [2, 3]) expect((await api(a, 'DELETE', `/groups/${groupId}/members/${userId}`)).status).toBe(200)
    for (const client of [bobDevices[1], carol]) {
      const refused = await eventually(async () => {
        client.send({ type: 'message', group_id: groupId, message: 'still here?', ref: 'r' })
        const reply = await client.next((f) => f.type === 'error' || f.type === 'message_sent')
        return reply.type === 'error' && reply.code === 'not_a_member'
      }, 2000)
      expect(refused).toBe(true)
    }
    alice.send({ type: 'message', group_id: groupId, message: 'bye' })
    await alice.next('message_sent')
    for (const got of await Promise.all(onB.map((client) => client.collect('message', 200)))) expect(got.filter((m) => m.message === 'bye')).toEqual([])
    alice.close()
    for (const client of onB) client.close()
  })

  clusterTest('when message_sent arrives, another PostgreSQL client already sees the row: one message, and a batch', async () => {
    await using cluster = await startCluster(1, { redisUrl: REDIS_URL })
    const reader = new SQL(cluster.databaseUrl, { max: 1 })
    const locker = new SQL(cluster.databaseUrl, { max: 1 })
    try {
      const alice = await TestClient.connect(cluster.instances[0].wsUrl, '/ws/1')
      const bodyOf = async (id: number) => ((await reader`select body from messages where id = ${id}`) as { body: string }[])[0]?.body ?? null
      for (const bodies of [['one'], Array.from({ length: 20 }, (_, i) => `batch ${i}`)]) {
        // Inserts wait while another client holds this lock (reads do not): a confirmation sent
        // before the commit would arrive meanwhile, and the lookup would find nothing.
        let release!: () => void
        let locked!: () => void
        const isLocked = new Promise<void>((resolve) => (locked = resolve))
        const held = locker.begin(async (tx) => {
          await tx`lock table messages in share mode`
          locked()
          await new Promise<void>((resolve) => (release = resolve))
        })
        await Promise.race([isLocked, held])
        // Waiting before sending: each lookup runs as its confirmation arrives.
        const seen = Promise.all(bodies.map(() => alice.next('message_sent', 5000).then((f) => bodyOf(f.message_id))))
        for (const body of bodies) alice.send({ type: 'message', recipient_id: 2, message: body })
        await Bun.sleep(300)
        release()
        await held
        expect(await seen).toEqual(bodies)
      }
      alice.close()
    } finally {
      await reader.close()
      await locker.close()
    }
  })

  clusterTest('presence is cluster-wide; a user on two instances goes offline only when the last socket closes', async () => {
    await using cluster = await startCluster(2, { redisUrl: REDIS_URL })
    const [a, b] = cluster.instances
    const watcher = await TestClient.connect(a.wsUrl, '/ws/1?presence=1')
    const bobOnB = await TestClient.connect(b.wsUrl, '/ws/2')
    expect(await watcher.next('presence')).toMatchObject({ user_id: 2, online: true })
    for (const instance of [a, b]) expect((await api(instance, 'GET', '/ws/online-users')).body.online_users).toEqual([1, 2])
    expect((await api(a, 'GET', '/users/2')).body.online).toBe(true)

    const bobOnA = await TestClient.connect(a.wsUrl, '/ws/2')
    bobOnB.close()
    await bobOnB.waitClosed()
    expect(await watcher.collect('presence', 200)).toEqual([])
    expect((await api(b, 'GET', '/ws/online-users')).body.online_users).toEqual([1, 2])
    bobOnA.close()
    expect(await watcher.next('presence')).toMatchObject({ user_id: 2, online: false })
    expect((await api(b, 'GET', '/ws/online-users')).body.online_users).toEqual([1])
    watcher.close()
  })

  clusterTest('an instance that dies without a goodbye leaves presence within the TTL', async () => {
    const ttl = 900
    await using cluster = await startCluster(2, { redisUrl: REDIS_URL, presenceTtlMs: ttl })
    const [a] = cluster.instances
    const doomed = await cluster.start('C')
    const carol = await TestClient.connect(doomed.wsUrl, '/ws/3')
    const alice = await TestClient.connect(a.wsUrl, '/ws/1?presence=1')
    expect((await api(a, 'GET', '/ws/online-users')).body.online_users).toEqual([1, 3])
    const died = Date.now()
    await doomed.crash()
    await carol.waitClosed()
    // Generous bound for a slow machine: the promise is "within the TTL" plus one heartbeat.
    const gone = await eventually(async () => !(await api(a, 'GET', '/ws/online-users')).body.online_users.includes(3), 3 * ttl)
    expect(gone).toBe(true)
    console.log(`dead instance left presence after ${Date.now() - died} ms (TTL ${ttl} ms)`)
    // Nobody said goodbye for carol, yet presence subscribers are told she is gone.
    expect(await alice.next((f) => f.type === 'presence' && f.user_id === 3 && f.online === false, 3 * ttl)).toBeTruthy()
    // The status decision agrees once the cache is rebuilt: carol's messages wait as `sent`.
    expect(await eventually(() => !a.switchboard.presence.isOnline(3), ttl)).toBe(true)
    alice.send({ type: 'message', recipient_id: 3, message: 'are you there?' })
    expect(await alice.next('message_sent')).toMatchObject({ status: 'sent' })
    alice.close()
  })

  clusterTest('offline recipient: stored as sent, delivered on connect to another instance, sender told', async () => {
    await using cluster = await startCluster(2, { redisUrl: REDIS_URL })
    const [a, b] = cluster.instances
    const alice = await TestClient.connect(a.wsUrl, '/ws/1')
    alice.send({ type: 'message', recipient_id: 2, message: 'for later' })
    const sent = await alice.next('message_sent')
    expect(sent.status).toBe('sent')
    const bob = await TestClient.connect(b.wsUrl, '/ws/2', { waitSynced: false })
    expect(await bob.next('message')).toMatchObject({ id: sent.message_id, message: 'for later' })
    expect(await bob.next('synced')).toMatchObject({ count: 1 })
    expect(await alice.next('message_status')).toMatchObject({ message_id: sent.message_id, status: 'delivered', user_id: 2 })
    alice.close()
    bob.close()
  })

  clusterTest('a client that moves to another instance resumes with `since`: no gap, no duplicate', async () => {
    await using cluster = await startCluster(2, { redisUrl: REDIS_URL })
    const [a, b] = cluster.instances
    const alice = await TestClient.connect(a.wsUrl, '/ws/1')
    let bob = await TestClient.connect(a.wsUrl, '/ws/2')
    alice.send({ type: 'message', recipient_id: 2, message: 'm1' })
    const m1 = await bob.next('message')
    // m1's confirmation first, so that the three awaited below are m2's, m3's and m4's: bob moves
    // once all three are stored and relayed. (A message committed during the move may arrive both
    // in the backlog and live; clients drop the repeat: docs/CLUSTER.md.)
    await alice.next('message_sent')
    bob.close()
    await bob.waitClosed()
    for (const body of ['m2', 'm3']) alice.send({ type: 'message', recipient_id: 2, message: body })
    alice.send({ type: 'message', group_id: 1, message: 'm4 (group)' })
    for (let i = 0; i < 3; i++) await alice.next('message_sent')

    bob = await TestClient.connect(b.wsUrl, `/ws/2?since=${m1.id}`, { waitSynced: false })
    const backlog = [await bob.next('message'), await bob.next('message'), await bob.next('message')]
    expect(backlog.map((m) => m.message)).toEqual(['m2', 'm3', 'm4 (group)'])
    expect(await bob.next('synced')).toMatchObject({ count: 3, last_id: backlog[2].id })
    alice.send({ type: 'message', recipient_id: 2, message: 'm5 live' })
    expect(await bob.next('message')).toMatchObject({ message: 'm5 live' })
    expect(await bob.collect('message', 200)).toEqual([])
    alice.close()
    bob.close()
  })
})
