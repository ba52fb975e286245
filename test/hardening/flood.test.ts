// Rate limits: a flooding client is told `rate_limited` with a retry hint and, if it keeps on, is
// closed with 1008; a client that honours retry_after gets everything through; typing is coalesced;
// REST answers 429 with Retry-After. Other users carry on meanwhile.
import { expect, test } from 'bun:test'
import { procCpuSeconds } from '../../bench/lib/server-process'
import { startServer, storedMessages } from '../helpers/server'
import { TestClient } from '../helpers/ws-client'
import { call, mintToken, SECRET, spawnServer, tempDir } from './fixtures'

const limits = { rateLimit: true, messagesPerSecond: 5, messagesBurst: 10, floodCloseAfter: 20 }

test('a flood: the burst goes through, the rest is refused with retry_after, then the flooder is closed with 1008', async () => {
  await using server = await startServer({ config: limits })
  const mallory = await TestClient.connect(server.wsUrl, '/ws/1')
  const bob = await TestClient.connect(server.wsUrl, '/ws/2')
  const carol = await TestClient.connect(server.wsUrl, '/ws/3')
  for (let i = 0; i < 200; i++) mallory.send({ type: 'message', recipient_id: 2, message: `flood ${i}`, client_id: `f${i}` })
  const closed = await mallory.waitClosed()
  expect(closed.code).toBe(1008)
  const sent = mallory.frames.filter((f) => f.type === 'message_sent')
  const limited = mallory.frames.filter((f) => f.type === 'error' && f.code === 'rate_limited')
  // The burst (10) is accepted; then 19 refusals, and the 20th consecutive one closes the socket.
  expect(sent.length).toBeGreaterThanOrEqual(limits.messagesBurst)
  expect(sent.length).toBeLessThan(limits.messagesBurst + 3)
  expect(limited.length).toBe(limits.floodCloseAfter - 1)
  for (const e of limited) expect(e.retry_after).toBeGreaterThan(0)
  console.log(`flood: 200 sent at once → ${sent.length} stored, ${limited.length} rate_limited (retry_after ${limited[0].retry_after}s), then close ${closed.code}`)
  // Exactly the confirmed messages are stored and delivered; another user is unaffected.
  expect(await storedMessages(server.store)).toBe(sent.length)
  carol.send({ type: 'message', recipient_id: 2, message: 'meanwhile' })
  const got: string[] = []
  while (got.at(-1) !== 'meanwhile') got.push((await bob.next('message')).message)
  expect(got.slice(0, -1)).toEqual(sent.map((_, i) => `flood ${i}`))
  const metrics = await server.switchboard.metrics.registry.getSingleMetricAsString('switchboard_rate_limited_total')
  expect(Number(/kind="message"} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(limited.length)
  bob.close()
  carol.close()
})

test('a client that honours retry_after gets every message through and is never closed', async () => {
  await using server = await startServer({ config: { ...limits, messagesPerSecond: 20, messagesBurst: 5 } })
  const alice = await TestClient.connect(server.wsUrl, '/ws/1')
  const bob = await TestClient.connect(server.wsUrl, '/ws/2')
  const pending = new Set(Array.from({ length: 30 }, (_, i) => i))
  let refusals = 0
  const WINDOW = 8
  while (pending.size) {
    const window = [...pending].slice(0, WINDOW)
    for (const i of window) alice.send({ type: 'message', recipient_id: 2, message: `m${i}`, client_id: `p${i}`, ref: `p${i}` })
    let wait = 0
    let refused = 0
    for (let n = window.length; n > 0; n--) {
      const f = await alice.next((f) => f.type === 'message_sent' || f.type === 'error')
      if (f.type === 'message_sent') pending.delete(Number(f.client_id.slice(1)))
      else {
        expect(f.code).toBe('rate_limited')
        refused++
        wait = Math.max(wait, f.retry_after)
      }
    }
    refusals += refused
    // retry_after is the wait for one more message; the refused ones need one token each.
    if (refused) await Bun.sleep(wait * 1000 * refused)
  }
  expect(refusals).toBeGreaterThan(0)
  expect(alice.closed).toBeNull()
  const received = new Set<string>()
  while (received.size < 30) received.add((await bob.next('message')).message)
  expect(await storedMessages(server.store)).toBe(30)
  console.log(`polite client: 30 messages through after ${refusals} rate_limited answers`)
  alice.close()
  bob.close()
})

test('typing is coalesced, not refused: the latest state arrives, and no error is sent', async () => {
  await using server = await startServer({ config: { ...limits, typingPerSecond: 10, typingBurst: 1 } })
  const alice = await TestClient.connect(server.wsUrl, '/ws/1')
  const bob = await TestClient.connect(server.wsUrl, '/ws/2')
  for (let i = 0; i < 20; i++) alice.send({ type: 'typing', recipient_id: 2, is_typing: i % 2 === 0 })
  alice.send({ type: 'typing', recipient_id: 2, is_typing: false })
  const first = await bob.next('typing')
  expect(first.is_typing).toBe(true)
  const last = await bob.next('typing')
  expect(last.is_typing).toBe(false)
  expect(await bob.collect('typing', 300)).toEqual([])
  expect(alice.frames.filter((f) => f.type === 'error')).toEqual([])
  alice.close()
  bob.close()
})

test('a typing flood is closed with 1008 like any other flood; what it cost the server is reported', async () => {
  using dir = tempDir()
  // Its own process, so that its CPU time is the server's alone.
  const server = await spawnServer({
    AUTH: 'none', SEED_DEMO: '1', DATABASE_URL: `${dir.dir}/typing.db`, RATE_LIMIT: 'on',
    RATE_TYPING_PER_SECOND: '2', RATE_TYPING_BURST: '4', FLOOD_CLOSE_AFTER: '20',
  })
  try {
    const wsUrl = server.url.replace('http', 'ws')
    const bob = await TestClient.connect(wsUrl, '/ws/2')
    const mallory = await TestClient.connect(wsUrl, '/ws/1')
    const frame = JSON.stringify({ type: 'typing', recipient_id: 2, is_typing: true })
    const cpuBefore = procCpuSeconds(server.proc.pid)
    const startedAt = performance.now()
    let sent = 0
    // As fast as the client can for up to 3 s (the review's flood: 700,000 frames in 4 s).
    while (!mallory.closed && performance.now() - startedAt < 3000) {
      for (let i = 0; i < 2000 && mallory.ws.readyState === 1 && mallory.ws.bufferedAmount < 1 << 20; i++, sent++) mallory.sendRaw(frame)
      await Bun.sleep(1)
    }
    const closed = await mallory.waitClosed(5000).catch(() => null)
    const closedAfterMs = Math.round(performance.now() - startedAt)
    await Bun.sleep(300)
    const cpuMs = Math.round((procCpuSeconds(server.proc.pid) - cpuBefore) * 1000)
    console.log(`typing flood: ${sent} frames sent, ${closed ? `closed ${closed.code} after ${closedAfterMs} ms` : 'never closed'}, ${cpuMs} ms of server CPU`)
    expect(closed?.code).toBe(1008)
    // Coalescing still did its job until the close: the recipient got the state, and no error was sent.
    expect((await bob.next('typing')).is_typing).toBe(true)
    expect(mallory.frames.filter((f) => f.type === 'error')).toEqual([])
    // The server is fine afterwards: the same user may connect again and type.
    const again = await TestClient.connect(wsUrl, '/ws/1')
    again.send({ type: 'typing', recipient_id: 2, is_typing: false })
    expect((await bob.next((f) => f.type === 'typing' && f.is_typing === false, 5000)).sender_id).toBe(1)
    again.close()
    bob.close()
  } finally {
    server.proc.kill('SIGKILL')
    await server.exited
  }
}, 30_000)

test('a person typing, and a short burst over the typing budget, are never closed: the latest state arrives', async () => {
  await using server = await startServer({ config: { ...limits, typingPerSecond: 2, typingBurst: 4 } })
  const alice = await TestClient.connect(server.wsUrl, '/ws/1')
  const bob = await TestClient.connect(server.wsUrl, '/ws/2')
  // A client that does not debounce: one frame a keystroke, ten keystrokes a second, for 2 s.
  for (let i = 0; i < 20; i++) {
    alice.send({ type: 'typing', recipient_id: 2, is_typing: true })
    await Bun.sleep(100)
  }
  // Then a burst, as after a paste, well over the budget of 4, ending with "stopped typing".
  for (let i = 0; i < 40; i++) alice.send({ type: 'typing', recipient_id: 2, is_typing: i < 39 })
  // Held back frames go out as the budget allows (2 a second): the last to arrive is the latest state.
  const got = await bob.collect('typing', 1500)
  expect(got.length).toBeGreaterThan(0)
  expect(got.at(-1)).toMatchObject({ sender_id: 1, is_typing: false })
  expect(alice.closed).toBeNull()
  expect(alice.frames.filter((f) => f.type === 'error')).toEqual([])
  alice.close()
  bob.close()
})

test('random junk at a rate-limited server ends in the documented 1008 close', async () => {
  await using server = await startServer({ config: { ...limits, framesPerSecond: 5, framesBurst: 10 } })
  const mallory = await TestClient.connect(server.wsUrl, '/ws/1')
  for (let i = 0; i < 500; i++) mallory.sendRaw(`junk ${i}`)
  expect((await mallory.waitClosed()).code).toBe(1008)
  const errors = mallory.frames.filter((f) => f.type === 'error')
  expect(errors.filter((e) => e.code === 'invalid_json').length).toBe(10)
  expect(errors.filter((e) => e.code === 'rate_limited').length).toBe(limits.floodCloseAfter - 1)
})

test('MAX_CONNECTIONS_PER_USER: one connection too many is refused with 429 before the upgrade', async () => {
  await using server = await startServer({ config: { maxConnectionsPerUser: 2 } })
  const first = await TestClient.connect(server.wsUrl, '/ws/1')
  const second = await TestClient.connect(server.wsUrl, '/ws/1')
  const third = await call(server, 'GET', '/ws/1')
  expect(third.status).toBe(429)
  expect(third.body.error.code).toBe('too_many_connections')
  // Other users are not affected, and a slot frees up when a connection closes.
  const bob = await TestClient.connect(server.wsUrl, '/ws/2')
  first.close()
  await first.waitClosed()
  await Bun.sleep(20)
  const again = await TestClient.connect(server.wsUrl, '/ws/1')
  for (const c of [second, bob, again]) c.close()
})

test('REST: 429 with Retry-After per user and per IP; health stays reachable', async () => {
  await using server = await startServer({ config: { auth: 'jwt', jwtSecret: SECRET, rateLimit: true, restPerSecond: 1, restBurst: 3, restIpPerSecond: 1, restIpBurst: 8 } })
  const alice = await mintToken(SECRET, { sub: '1' })
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) statuses.push((await call(server, 'GET', '/messages/conversations/1', alice)).status)
  expect(statuses).toEqual([200, 200, 200, 429, 429])
  const limited = await call(server, 'GET', '/messages/conversations/1', alice)
  expect(limited.body.error.code).toBe('rate_limited')
  expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
  // Another user from the same IP is limited by the IP bucket, not by alice's.
  const bob = await mintToken(SECRET, { sub: '2' })
  const bobStatuses: number[] = []
  for (let i = 0; i < 4; i++) bobStatuses.push((await call(server, 'GET', '/messages/conversations/2', bob)).status)
  expect(bobStatuses.slice(0, 2)).toEqual([200, 200])
  expect(bobStatuses.at(-1)).toBe(429)
  expect((await call(server, 'GET', '/health')).status).toBe(200)
})
