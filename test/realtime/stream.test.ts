import { describe, expect, test } from 'bun:test'
import { startCluster } from '../cluster/cluster-helpers'
import { TcpProxy } from '../helpers/network-faults'
import { api, eventually, startServer } from '../helpers/server'
import { postgresUnavailable, REDIS_URL, redisUnavailable } from '../helpers/services'
import { prng, StreamDevice, type Frame } from '../helpers/stream-device'
import { TestClient } from '../helpers/ws-client'


const skipReason = (await postgresUnavailable()) ?? (await redisUnavailable())
const clusterTest = skipReason ? test.skip : test

/** What a device shows of its user's own messages (status and readers), and the messages it holds. */
class Device extends StreamDevice {
  readonly status = new Map<number, string>()
  readonly readers = new Map<number, Set<number>>()
  readonly messages = new Map<number, Frame>()
  private rank: Record<string, number> = { sent: 0, delivered: 1, read: 2 }

  protected apply(f: Frame): void {
    if (f.type === 'message') this.messages.set(f.id, f)
    if (f.type === 'message_sent') this.raise(f.message_id, f.status)
    if (f.type === 'message' && f.sender_id === this.userId) this.raise(f.id, 'sent')
    if (f.type === 'message_status') this.raise(f.message_id, f.status)
    if (f.type === 'read_receipt') {
      const set = this.readers.get(f.message_id) ?? new Set()
      set.add(f.reader_id)
      this.readers.set(f.message_id, set)
    }
  }

  private raise(id: number, status: string): void {
    const now = this.status.get(id)
    if (now === undefined || this.rank[status] > this.rank[now]) this.status.set(id, status)
  }

  /** What the device shows of its user's own messages: a status and the readers of each. */
  view(ids: number[]) {
    return ids.map((id) => ({ id, status: this.status.get(id), readers: [...(this.readers.get(id) ?? [])].sort() }))
  }
}

describe('a device behind a network that stops passing bytes', () => {
  for (const resume of ['without since (the seed’s way)', 'with since'] as const) {
    test(`gets every message after reconnecting ${resume}; the sender hears delivered only once it confirmed`, async () => {
      await using server = await startServer()
      using proxy = TcpProxy.start(server.port)
      const alice = await TestClient.connect(server.wsUrl, '/ws/1')
      const bob = await TestClient.connect(proxy.url.replace('http', 'ws'), '/ws/2')
      const before = await (async () => {
        alice.send({ type: 'message', recipient_id: 2, message: 'while the network works' })
        const sent = await alice.next('message_sent')
        await bob.next('message')
        await alice.next((f) => f.type === 'message_status' && f.message_id === sent.message_id && f.status === 'delivered')
        return sent.message_id as number
      })()
      // Bytes from the server stop reaching bob; his TCP connection stays open.
      proxy.blackhole('down')
      const ids: number[] = []
      for (const text of ['one', 'two', 'three']) {
        alice.send({ type: 'message', recipient_id: 2, message: text })
        ids.push((await alice.next('message_sent')).message_id)
      }
      // Several confirmation rounds pass: nothing confirms them, so nobody says delivered.
      expect(await alice.collect('message_status', 600)).toEqual([])
      for (const id of ids) expect((await server.store.getMessage(id))?.status).toBe('sent')

      // Bob's device gives up on the dead connection and opens a new one.
      proxy.blackhole('none')
      proxy.cut()
      const path = resume === 'with since' ? `/ws/2?since=${before}` : '/ws/2'
      const back = await TestClient.connect(server.wsUrl, path, { waitSynced: false })
      for (const text of ['one', 'two', 'three']) expect(await back.next('message')).toMatchObject({ message: text, sender_id: 1 })
      await back.next('synced')
      const gotAt = performance.now()
      // Now the device has them: each becomes delivered, and alice is told, soon after.
      for (const id of ids) expect(await alice.next((f) => f.type === 'message_status' && f.message_id === id)).toMatchObject({ status: 'delivered', user_id: 2 })
      expect(performance.now() - gotAt).toBeLessThan(1000)
      for (const id of ids) expect((await server.store.getMessage(id))?.status).toBe('delivered')
      alice.close()
      back.close()
      bob.close()
    })
  }

  test('a group message reaches a member whose connection went dead, on their next connection without since', async () => {
    await using server = await startServer()
    using proxy = TcpProxy.start(server.port)
    const alice = await TestClient.connect(server.wsUrl, '/ws/1')
    const bob = await TestClient.connect(proxy.url.replace('http', 'ws'), '/ws/2')
    proxy.blackhole('down')
    alice.send({ type: 'message', group_id: 1, message: 'to the group' })
    await alice.next('message_sent')
    await Bun.sleep(400)
    proxy.blackhole('none')
    proxy.cut()
    const back = await TestClient.connect(server.wsUrl, '/ws/2', { waitSynced: false })
    expect(await back.next('message')).toMatchObject({ message: 'to the group', group_id: 1 })
    alice.close()
    back.close()
    bob.close()
  })
})

describe('resuming the stream', () => {
  test('a status and a read receipt made while a device was away reach it on resume, once', async () => {
    await using server = await startServer()
    const alice = new Device(1)
    await alice.connect(server.wsUrl)
    const bob = await TestClient.connect(server.wsUrl, '/ws/2')
    alice.send({ type: 'message', recipient_id: 2, message: 'read this later' })
    const got = await bob.next('message')
    await alice.close()
    // While alice is away, bob's device confirms it and bob reads it.
    await eventually(async () => expect((await server.store.getMessage(got.id))?.status).toBe('delivered'))
    bob.send({ type: 'read_receipt', message_id: got.id })
    await eventually(async () => expect((await server.store.getMessage(got.id))?.status).toBe('read'))
    expect(alice.status.get(got.id)).toBe('sent')
    await alice.connect(server.wsUrl)
    expect(alice.view([got.id])).toEqual([{ id: got.id, status: 'read', readers: [2] }])
    // Resuming again from the same point repeats the events; a device drops a seq it has.
    const again = await TestClient.connect(server.wsUrl, `/ws/1?since=${got.id}`, { waitSynced: false })
    expect(await again.next('message_status')).toMatchObject({ message_id: got.id, status: 'delivered' })
    expect(await again.next('read_receipt')).toMatchObject({ message_id: got.id, reader_id: 2 })
    expect(await again.next('message_status')).toMatchObject({ message_id: got.id, status: 'read' })
    expect(await again.next('synced')).toMatchObject({ count: 3 })
    await alice.close()
    again.close()
    bob.close()
  })

  test('a group message read by two members while its sender was away shows read by 2 after the resume', async () => {
    await using server = await startServer()
    const alice = new Device(1)
    await alice.connect(server.wsUrl)
    const bob = await TestClient.connect(server.wsUrl, '/ws/2')
    const carol = await TestClient.connect(server.wsUrl, '/ws/3')
    alice.send({ type: 'message', group_id: 1, message: 'all of you' })
    const got = await bob.next('message')
    await carol.next('message')
    await alice.close()
    bob.send({ type: 'read_receipt', message_id: got.id })
    carol.send({ type: 'read_receipt', message_id: got.id })
    await eventually(async () => expect((await server.store.readMarks(1)).get(3)).toBe(got.id))
    await alice.connect(server.wsUrl)
    expect(alice.view([got.id])).toEqual([{ id: got.id, status: 'read', readers: [2, 3] }])
    // History agrees: read_by lists them for the sender.
    const page = await api(server, 'GET', '/messages?user_id=1&group_id=1')
    expect(page.body.messages.at(-1)).toMatchObject({ id: got.id, read_count: 2, read_by: [2, 3] })
    await alice.close()
    bob.close()
    carol.close()
  })

  test('a membership change while away reaches the user and the members on resume', async () => {
    await using server = await startServer()
    const carol = new Device(3)
    await carol.connect(server.wsUrl)
    const synced = carol.resumeFrom
    await carol.close()
    const group = await api(server, 'POST', '/groups', { name: 'new', member_ids: [1, 3] })
    await api(server, 'DELETE', `/groups/${group.body.id}/members/3`)
    const back = await TestClient.connect(server.wsUrl, `/ws/3?since=${synced}`, { waitSynced: false })
    expect(await back.next('membership')).toMatchObject({ group_id: group.body.id, user_id: 3, member: false })
    expect(await back.next('synced')).toMatchObject({ count: 1 })
    const alice = await TestClient.connect(server.wsUrl, `/ws/1?since=${synced}`, { waitSynced: false })
    expect(await alice.next('membership')).toMatchObject({ group_id: group.body.id, user_id: 1, member: true })
    expect(await alice.next('membership')).toMatchObject({ group_id: group.body.id, user_id: 3, member: true })
    expect(await alice.next('membership')).toMatchObject({ group_id: group.body.id, user_id: 3, member: false })
    back.close()
    alice.close()
  })

  test('a client older than the retention gets resync_required first, then the catch-up goes on', async () => {
    await using server = await startServer()
    const bob = await TestClient.connect(server.wsUrl, '/ws/2')
    const sent = await api(server, 'POST', '/messages', { sender_id: 1, recipient_id: 2, message: 'old news' })
    await bob.next('message')
    bob.send({ type: 'read_receipt', message_id: sent.body.id })
    await eventually(async () => expect((await server.store.getMessage(sent.body.id))?.status).toBe('read'))
    bob.close()
    // EVENT_RETENTION_DAYS has passed for those events.
    await server.store.pruneEvents(Date.now() + 1)
    const pruned = await server.store.prunedSeq()
    expect(pruned).toBeGreaterThan(sent.body.id)
    const late = await TestClient.connect(server.wsUrl, '/ws/1?since=0', { waitSynced: false })
    expect(await late.next((f) => f.type !== 'connection_established')).toEqual({ type: 'resync_required', code: 'events_pruned', since: 0, oldest_seq: pruned })
    // Messages are kept: they still come.
    expect(await late.next('message')).toMatchObject({ id: sent.body.id, message: 'old news' })
    await late.next('synced')
    // From the pruned point on, nothing is missing: no resync.
    const current = await TestClient.connect(server.wsUrl, `/ws/1?since=${pruned}`, { waitSynced: false })
    expect(await current.next((f) => f.type !== 'connection_established')).toMatchObject({ type: 'synced' })
    late.close()
    current.close()
  })
})

/**
 * Alice has two devices: one stays connected, the other drops and comes back at random points
 * (mid-catch-up too, and on another instance when there are two), resuming with its own `since`.
 * Bob and carol receive, confirm and read alice's direct and group messages meanwhile. At the end
 * both devices of alice must show the same status and readers for every message she sent.
 */
async function converges(wsUrls: string[], seed: number): Promise<void> {
  const random = prng(seed)
  const steady = new Device(1)
  const flaky = new Device(1)
  await steady.connect(wsUrls[0])
  await flaky.connect(wsUrls[wsUrls.length - 1])
  const bob = await TestClient.connect(wsUrls[0], '/ws/2')
  const carol = await TestClient.connect(wsUrls[wsUrls.length - 1], '/ws/3')
  const readers = [bob, carol]
  let stop = false
  const flapping = (async () => {
    while (!stop) {
      await Bun.sleep(random() * 60)
      await flaky.close()
      await Bun.sleep(random() * 60)
      const url = wsUrls[Math.floor(random() * wsUrls.length)]
      const connecting = flaky.connect(url)
      // Sometimes it drops again before its catch-up is over.
      if (random() < 0.3) await Bun.sleep(random() * 5)
      else await connecting
    }
  })()
  const ids: number[] = []
  for (let i = 0; i < 30; i++) {
    const group = random() < 0.4
    steady.send(group ? { type: 'message', group_id: 1, message: `g${i}` } : { type: 'message', recipient_id: 2, message: `d${i}` })
    await eventually(() => expect(steady.status.size).toBe(ids.length + 1))
    ids.push(Math.max(...steady.status.keys()))
    for (const reader of readers) {
      if (!group && reader === carol) continue
      const got = await reader.next((f) => f.type === 'message' && f.sender_id === 1)
      if (random() < 0.5) reader.send({ type: 'read_receipt', message_id: got.id })
    }
    await Bun.sleep(random() * 20)
  }
  stop = true
  await flapping
  // Every change is made: the confirmations' rounds are over, the receipts stored.
  await Bun.sleep(400)
  await flaky.close()
  await flaky.connect(wsUrls[0])
  await eventually(() => expect(flaky.view(ids)).toEqual(steady.view(ids)), 5000)
  // Every message reached a device of its recipient, so none stays `sent` (confirmations that
  // cross instances may still be on their way under load).
  await eventually(() => {
    for (const id of ids) expect(steady.status.get(id)).not.toBe('sent')
  }, 5000)
  await eventually(() => expect(flaky.view(ids)).toEqual(steady.view(ids)), 5000)
  await steady.close()
  await flaky.close()
  bob.close()
  carol.close()
}

describe('two devices of one user converge, whatever the reconnects', () => {
  for (const seed of [1, 2, 3, 4]) {
    test(`one instance, seed ${seed}`, async () => {
      await using server = await startServer()
      await converges([server.wsUrl], seed)
    }, 30_000)
  }

  clusterTest(`two instances over Redis and PostgreSQL, the flaky device moving between them${skipReason ? ` (skipped: ${skipReason})` : ''}`, async () => {
    await using cluster = await startCluster(2, { redisUrl: REDIS_URL })
    await converges(cluster.instances.map((i) => i.wsUrl), 7)
  }, 60_000)
})
