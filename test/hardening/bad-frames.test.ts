// Frames a broken or hostile client might send. Each gets an `error` frame (or, for an oversize
// frame, the documented close 1009); the connection and everyone else carry on; memory comes back.
import { expect, test } from 'bun:test'
import { startServer, storedMessages } from '../helpers/server'
import { TestClient } from '../helpers/ws-client'
import { BAD_FRAMES as table } from './malformed-cases'

test('each bad frame gets its error, and the connection stays usable', async () => {
  await using server = await startServer()
  const alice = await TestClient.connect(server.wsUrl, '/ws/1')
  const bob = await TestClient.connect(server.wsUrl, '/ws/2')
  const seen: Record<string, string> = {}
  for (const [name, raw] of table) {
    alice.sendRaw(raw)
    const error = await alice.next("error")
    seen[name] = error.code
  }
  expect(seen).toEqual(Object.fromEntries(table.map(([name, , code]) => [name, code])))
  // Still usable, and nothing bad reached anybody else.
  alice.send({ type: 'message', recipient_id: 2, message: 'still here' })
  expect((await bob.next('message')).message).toBe('still here')
  expect(await bob.collect('message', 50)).toEqual([])
  expect(await storedMessages(server.store)).toBe(1)
  alice.close()
  bob.close()
})

test('a frame larger than MAX_FRAME_BYTES closes that connection with 1009, and only that one', async () => {
  await using server = await startServer({ config: { maxFrameBytes: 64 * 1024 } })
  const alice = await TestClient.connect(server.wsUrl, '/ws/1')
  const bob = await TestClient.connect(server.wsUrl, '/ws/2')
  alice.sendRaw('x'.repeat(64 * 1024 + 1))
  expect((await alice.waitClosed()).code).toBe(1009)
  const carol = await TestClient.connect(server.wsUrl, '/ws/3')
  carol.send({ type: 'message', recipient_id: 2, message: 'unaffected' })
  expect((await bob.next('message')).message).toBe('unaffected')
  bob.close()
  carol.close()
})

test('thousands of random frames: one error each, others unaffected, memory back near baseline', async () => {
  await using server = await startServer()
  const bob = await TestClient.connect(server.wsUrl, '/ws/2')
  const carol = await TestClient.connect(server.wsUrl, '/ws/3')
  Bun.gc(true)
  const baseline = process.memoryUsage()
  const N = 3000
  let seed = 12345
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32)
  const mallory = await TestClient.connect(server.wsUrl, '/ws/1')
  for (let i = 0; i < N; i++) {
    const length = 1 + Math.floor(rand() * 2048)
    const bytes = new Uint8Array(length)
    for (let j = 0; j < length; j++) bytes[j] = Math.floor(rand() * 256)
    // Half binary (MessagePack path), half text (JSON path; random code points).
    mallory.sendRaw(i % 2 === 0 ? bytes : String.fromCharCode(...bytes.subarray(0, 512)))
  }
  // Every frame is answered with exactly one error (or ping→pong if random bytes happened to make one).
  const deadline = Date.now() + 20_000
  while (mallory.frames.filter((f) => f.type === 'error').length < N && Date.now() < deadline && !mallory.closed) await Bun.sleep(20)
  const errors = mallory.frames.filter((f) => f.type === 'error')
  expect(mallory.closed).toBeNull()
  expect(errors.length).toBe(N)
  const codes = Object.groupBy(errors, (e) => e.code)
  expect(Object.keys(codes).sort()).toEqual(expect.arrayContaining(['invalid_json']))
  console.log(`random frames: ${N} sent, errors by code: ${JSON.stringify(Object.fromEntries(Object.entries(codes).map(([k, v]) => [k, v!.length])))}`)
  // Nothing was stored or delivered, and the others still talk.
  expect(await storedMessages(server.store)).toBe(0)
  carol.send({ type: 'message', recipient_id: 2, message: 'after the storm' })
  expect((await bob.next('message')).message).toBe('after the storm')
  expect(bob.frames.filter((f) => f.type === 'message')).toEqual([])
  mallory.close()
  await mallory.waitClosed()
  mallory.frames.length = 0
  Bun.gc(true)
  await Bun.sleep(50)
  Bun.gc(true)
  const after = process.memoryUsage()
  const growth = (after.heapUsed - baseline.heapUsed) / 2 ** 20
  console.log(`heap: baseline ${(baseline.heapUsed / 2 ** 20).toFixed(1)} MiB, after ${(after.heapUsed / 2 ** 20).toFixed(1)} MiB (rss ${(baseline.rss / 2 ** 20).toFixed(0)} → ${(after.rss / 2 ** 20).toFixed(0)} MiB)`)
  expect(growth).toBeLessThan(8)
  bob.close()
  carol.close()
})
