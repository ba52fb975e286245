// Frames a broken or hostile client might send. Each gets an `error` frame (or, for an oversize
// frame, the documented close 1009); the connection and everyone else carry on; memory comes back.
import { expect, test } from 'bun:test'
import { Packr } from 'msgpackr'
import { startServer } from '../helpers/server'
import { TestClient } from '../helpers/ws-client'

const packr = new Packr({ useRecords: false })
const deep = (n: number) => '['.repeat(n) + ']'.repeat(n)

/** [name, raw frame, expected error code] */
const table: [string, string | Uint8Array, string][] = [
  ['not JSON', '{"type":"message",', 'invalid_json'],
  ['JSON that is not an object', '42', 'invalid_frame'],
  ['JSON null', 'null', 'invalid_frame'],
  ['an array', '[{"type":"ping"}]', 'invalid_frame'],
  ['no type', '{"recipient_id":2,"message":"hi"}', 'invalid_frame'],
  ['type is a number', '{"type":7}', 'invalid_frame'],
  ['unknown type', '{"type":"launch_missiles"}', 'unknown_type'],
  ['prototype pollution attempt', '{"type":"__proto__","__proto__":{"admin":true}}', 'unknown_type'],
  ['constructor as type', '{"type":"constructor"}', 'unknown_type'],
  ['recipient_id is a string', '{"type":"message","recipient_id":"2","message":"hi"}', 'invalid_frame'],
  ['recipient_id is a float', '{"type":"message","recipient_id":2.5,"message":"hi"}', 'invalid_frame'],
  ['recipient_id is negative', '{"type":"message","recipient_id":-1,"message":"hi"}', 'invalid_frame'],
  ['recipient_id beyond 2^53', '{"type":"message","recipient_id":1e300,"message":"hi"}', 'unknown_recipient'],
  ['message is an object', '{"type":"message","recipient_id":2,"message":{"a":1}}', 'invalid_frame'],
  ['both recipient and group', '{"type":"message","recipient_id":2,"group_id":1,"message":"hi"}', 'invalid_frame'],
  ['neither recipient nor group', '{"type":"message","message":"hi"}', 'invalid_frame'],
  ['unknown field', '{"type":"message","recipient_id":2,"message":"hi","admin":true}', 'invalid_frame'],
  ['empty message', '{"type":"message","recipient_id":2,"message":"   "}', 'empty_message'],
  ['huge message (60 000 chars)', JSON.stringify({ type: 'message', recipient_id: 2, message: 'x'.repeat(60_000) }), 'message_too_long'],
  ['huge client_id', JSON.stringify({ type: 'message', recipient_id: 2, message: 'hi', client_id: 'c'.repeat(50_000) }), 'invalid_frame'],
  ['huge type', JSON.stringify({ type: 't'.repeat(60_000) }), 'unknown_type'],
  ['huge ref', JSON.stringify({ type: 'ping', ref: 'r'.repeat(60_000) }), 'invalid_frame'],
  ['deep nesting (30 000 arrays)', deep(30_000), 'invalid_frame'],
  ['deep nesting inside a field', `{"type":"message","recipient_id":2,"message":${deep(20_000)}}`, 'invalid_frame'],
  ['deep nesting in an unknown field', `{"type":"ping","x":${deep(20_000)}}`, 'invalid_frame'],
  ['read_receipt for a message that does not exist', '{"type":"read_receipt","message_id":999999}', 'message_not_found'],
  ['typing to nobody', '{"type":"typing","recipient_id":999,"is_typing":true}', 'unknown_recipient'],
  ['message to a group one is not in', '{"type":"message","group_id":999,"message":"hi"}', 'unknown_group'],
  ['malformed MessagePack (truncated map)', new Uint8Array([0x82, 0xa4, 0x74, 0x79]), 'invalid_msgpack'],
  ['MessagePack string, not a map', packr.pack('hello'), 'invalid_frame'],
  ['MessagePack with a binary field', packr.pack({ type: 'message', recipient_id: 2, message: new Uint8Array(10) }), 'invalid_frame'],
  ['MessagePack deep nesting', new Uint8Array(new Array(40_000).fill(0x91).concat([0xc0])), 'invalid_msgpack'],
  ['MessagePack map with a huge declared size', new Uint8Array([0xdf, 0xff, 0xff, 0xff, 0xff]), 'invalid_msgpack'],
  ['MessagePack string with a huge declared length', new Uint8Array([0xdb, 0x7f, 0xff, 0xff, 0xff, 0x41]), 'invalid_msgpack'],
  ['MessagePack unknown extension', new Uint8Array([0xd4, 0x42, 0x00]), 'invalid_msgpack'],
]

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
  expect(await server.store.maxMessageId()).toBe(1)
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
  expect(await server.store.maxMessageId()).toBe(0)
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
