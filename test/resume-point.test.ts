import { expect, test } from 'bun:test'
import { api, eventually, startServer } from './helpers/server'
import { TestClient } from './helpers/ws-client'

// synced.last_id is a resume point: a client that reconnects with since=last_id misses nothing,
// even when the connection that gave it received no message at all.
test('synced.last_id covers messages already delivered elsewhere, so since=last_id misses nothing', async () => {
  await using server = await startServer()
  for (const text of ['one', 'two']) expect((await api(server, 'POST', '/messages', { sender_id: 1, recipient_id: 3, message: text })).status).toBe(201)
  // Bob has nothing waiting, yet his resume point is the newest id, not 0 (which would replay everything).
  const bob = await TestClient.connect(server.wsUrl, '/ws/2', { waitSynced: false })
  const synced = await bob.next('synced')
  expect(synced).toMatchObject({ count: 0, last_id: 2 })
  bob.close()
  await bob.waitClosed()

  // Sent while he is away, and found by resuming from that point.
  const away = await api(server, 'POST', '/messages', { sender_id: 1, recipient_id: 2, message: 'while away' })
  const again = await TestClient.connect(server.wsUrl, `/ws/2?since=${synced.last_id}`, { waitSynced: false })
  expect(await again.next('message')).toMatchObject({ id: away.body.id, message: 'while away' })
  expect(await again.next('synced')).toMatchObject({ count: 1, last_id: away.body.id })
  again.close()
})

test('a restarted server resumes from the stored ids, not from 0', async () => {
  await using first = await startServer()
  await api(first, 'POST', '/messages', { sender_id: 1, recipient_id: 3, message: 'stored' })
  await first.stop()
  await using second = await startServer({ dir: first.dir })
  const bob = await TestClient.connect(second.wsUrl, '/ws/2', { waitSynced: false })
  expect(await bob.next('synced')).toMatchObject({ count: 0, last_id: 1 })
  bob.close()
})

test('stop() closes open WebSockets with 1001 and resolves', async () => {
  await using server = await startServer()
  const alice = await TestClient.connect(server.wsUrl, '/ws/1')
  await server.stop()
  expect((await alice.waitClosed()).code).toBe(1001)
})

test('a message sent while a connection without since catches up reaches it, and is delivered once the device confirms', async () => {
  await using server = await startServer()
  const store = server.store as { undeliveredDirect: (...args: any[]) => Promise<any[]> }
  const original = store.undeliveredDirect.bind(store)
  store.undeliveredDirect = async (...args) => {
    store.undeliveredDirect = original
    const rows = await original(...args)
    // Stored `sent` while his catch-up runs: no device has it yet.
    const sent = await api(server, 'POST', '/messages', { sender_id: 1, recipient_id: 2, message: 'during catch-up' })
    expect(sent.body.status).toBe('sent')
    return rows
  }
  const bob = await TestClient.connect(server.wsUrl, '/ws/2', { waitSynced: false })
  const got = await bob.next('message')
  expect(got).toMatchObject({ sender_id: 1, message: 'during catch-up' })
  expect(await bob.next('synced')).toMatchObject({ count: 1 })
  // Bob's socket answers the next round's ping: then, and only then, it is delivered.
  await eventually(async () => expect((await server.store.getMessage(got.id))?.status).toBe('delivered'))
  bob.close()
})

test('a since beyond the newest message is clamped: it does not count later group messages as delivered', async () => {
  // 'before' never reached a device of bob's either (the resume point was past it): both come without since.
  await using server = await startServer()
  await api(server, 'POST', '/messages', { sender_id: 1, group_id: 1, message: 'before' })
  const ahead = await TestClient.connect(server.wsUrl, '/ws/2?since=1000000000', { waitSynced: false })
  const synced = await ahead.next('synced')
  expect(synced.last_id).toBeLessThanOrEqual(1)
  ahead.close()
  await ahead.waitClosed()
  await api(server, 'POST', '/messages', { sender_id: 1, group_id: 1, message: 'while bob was away' })
  const back = await TestClient.connect(server.wsUrl, '/ws/2', { waitSynced: false })
  expect(await back.next('message')).toMatchObject({ message: 'before', group_id: 1 })
  expect(await back.next('message')).toMatchObject({ message: 'while bob was away', group_id: 1 })
  back.close()
})
