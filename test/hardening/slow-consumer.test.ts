// A client that stops reading: it is closed with 4002 once SLOW_CONSUMER_BYTES are queued for it,
// long before Bun's BACKPRESSURE_LIMIT_BYTES, while other users carry on; when it reconnects with
// `since` it gets every chat message it missed.
import { expect, test } from 'bun:test'
import { startServer } from '../helpers/server'
import { TestClient } from '../helpers/ws-client'
import { RawWebSocket } from './raw-socket'

test('a slow consumer is closed with 4002, others are unaffected, and `since` brings back everything', async () => {
  await using server = await startServer({
    config: { maxMessageLength: 60_000, slowConsumerBytes: 256 * 1024, backpressureLimitBytes: 8 * 1024 * 1024, slowConsumerCheckMs: 20 },
  })
  const slow = await RawWebSocket.open(server.port, '/ws/2')
  slow.pause()
  const alice = await TestClient.connect(server.wsUrl, '/ws/1')
  const carol = await TestClient.connect(server.wsUrl, '/ws/3')
  const N = 400
  const body = 'x'.repeat(50_000)
  let confirmed = 0
  for (let i = 0; i < N; i++) {
    alice.send({ type: 'message', recipient_id: 2, message: `${i} ${body}`, client_id: `s${i}` })
    if (i % 50 === 49) while (confirmed < i + 1) (await alice.next('message_sent'), confirmed++)
  }
  // The server noticed and closed it (the close frame waits behind what bob has not read).
  const deadline = Date.now() + 5000
  while (server.switchboard.connections.countOf(2) > 0 && Date.now() < deadline) await Bun.sleep(20)
  const closes = await server.switchboard.metrics.registry.getSingleMetricAsString('switchboard_slow_consumer_closes_total')
  expect(closes).toContain('switchboard_slow_consumer_closes_total 1')
  // Meanwhile everyone else is served as usual.
  carol.send({ type: 'message', recipient_id: 1, message: 'unaffected' })
  expect((await alice.next('message')).message).toBe('unaffected')

  // Bob reads again: what was queued, then the documented close code.
  slow.resume()
  const { texts, closeCode } = await slow.readUntilClose()
  const receivedIds = texts.map((t) => JSON.parse(t)).filter((f) => f.type === 'message').map((f) => f.id as number)
  console.log(`slow consumer: ${N} messages of 50 kB sent to it; closed with ${closeCode} after ${receivedIds.length} had reached it; the rest waits in the database`)
  expect(closeCode).toBe(4002)
  expect(receivedIds.length).toBeLessThan(N)
  slow.destroy()

  // Reconnecting with `since` = the last id it saw brings every missed message, in order, once.
  const last = receivedIds.at(-1) ?? 0
  const bob = await TestClient.connect(server.wsUrl, `/ws/2?since=${last}`, { waitSynced: false })
  const synced = await bob.next('synced', 10_000).catch((e) => {
    throw new Error(`no synced: ${bob.frames.length} frames, closed ${JSON.stringify(bob.closed)} (${String(e).slice(0, 100)})`)
  })
  const caughtUp = bob.frames.filter((f) => f.type === 'message').map((f) => f.id as number)
  expect([...receivedIds, ...caughtUp]).toEqual(Array.from({ length: N }, (_, i) => i + 1))
  expect(synced.count).toBe(N - receivedIds.length)
  bob.close()
  alice.close()
  carol.close()
}, 30_000)

test("at Bun's hard BACKPRESSURE_LIMIT_BYTES the socket is dropped (1006), never left open with a gap", async () => {
  // The 4002 check is effectively off here (one check a minute), so only Bun's own limit acts.
  await using server = await startServer({
    config: { maxMessageLength: 60_000, slowConsumerBytes: 64 * 1024, backpressureLimitBytes: 256 * 1024, slowConsumerCheckMs: 60_000 },
  })
  const slow = await RawWebSocket.open(server.port, '/ws/2')
  slow.pause()
  const alice = await TestClient.connect(server.wsUrl, '/ws/1')
  const N = 300
  const body = 'y'.repeat(50_000)
  let confirmed = 0
  for (let i = 0; i < N; i++) {
    alice.send({ type: 'message', recipient_id: 2, message: `${i} ${body}`, client_id: `h${i}` })
    if (i % 50 === 49) while (confirmed < i + 1) (await alice.next('message_sent'), confirmed++)
  }
  const deadline = Date.now() + 5000
  while (server.switchboard.connections.countOf(2) > 0 && Date.now() < deadline) await Bun.sleep(20)
  expect(server.switchboard.connections.countOf(2)).toBe(0)
  slow.resume()
  const { texts, closeCode } = await slow.readUntilClose(3000)
  const ids = texts.map((t) => JSON.parse(t)).filter((f) => f.type === 'message').map((f) => f.id as number)
  // What arrived is a gap-free prefix; then the connection ended without a close frame.
  expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1))
  expect(closeCode).toBeNull()
  expect(await server.switchboard.metrics.registry.getSingleMetricAsString('switchboard_connections_closed_total')).toContain('code="1006"} 1')
  console.log(`hard limit: ${ids.length} of ${N} messages reached the client before Bun dropped the socket (1006)`)
  slow.destroy()
  const bob = await TestClient.connect(server.wsUrl, `/ws/2?since=${ids.at(-1) ?? 0}`, { waitSynced: false })
  expect((await bob.next('synced', 10_000)).count).toBe(N - ids.length)
  bob.close()
  alice.close()
}, 30_000)
