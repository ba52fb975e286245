// One user's MessagePack frames must never reach another user through the decoder: whatever a
// hostile client sends (msgpackr extensions that jump past the end of a frame, truncated values,
// random bytes), nothing it receives back may hold a byte of someone else's private frames.
import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { packr } from '../../src/protocol/msgpack'
import { startServer } from '../helpers/server'
import { TestClient } from '../helpers/ws-client'
import { spawnServer, tempDir } from './fixtures'

/** Deterministic bytes, so a failure can be replayed. */
function random(seed: number) {
  let x = seed >>> 0 || 1
  return () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0) / 2 ** 32)
}

const u32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]
const str = (s: string) => [0xa0 + s.length, ...new TextEncoder().encode(s)]

/**
 * The attack the review found: msgpackr's bundled-strings extension (ext 0x62) reads its strings
 * `skip` bytes on and, when done, sets the read position to the end of them, so the frame's own
 * `ref` may be a string whose length runs past the end of the frame: through a shared buffer, into
 * the bytes of whatever frame was decoded before.
 */
function bundledStringProbe(length: number, type = 'nope'): Uint8Array {
  const map = [0x82, ...str('type'), ...str(type), ...str('ref'), 0xd9, length]
  return new Uint8Array([0xd6, 0x62, ...u32(map.length + 4), ...map, 0xa0, 0xa0])
}

/** msgpackr's record definitions and structured-clone pointers, aimed at the same bytes. */
function otherProbes(next: () => number): Uint8Array[] {
  const skip = 4 + Math.floor(next() * 200)
  return [
    new Uint8Array([0xd6, 0x69, ...u32(skip), 0x81, ...str('ref'), 0xc1, 40]),
    new Uint8Array([0xd6, 0x70, ...u32(1)]),
    new Uint8Array([0xd4, 0x72, 0x40, 0x91, ...str('ref'), 0x40, 0xa8]),
    // A long string header with no body: a reader that trusts it reads whatever follows in memory.
    new Uint8Array([0x82, ...str('type'), ...str('ping'), ...str('ref'), 0xd9, 60]),
    new Uint8Array([0x81, ...str('ref'), 0xdb, ...u32(1000)]),
  ]
}

test('a client sending hostile MessagePack never receives a byte of another user’s private frames', async () => {
  await using server = await startServer()
  const attacker = await TestClient.connect(server.wsUrl, '/ws/1', { format: 'msgpack' })
  const bob = await TestClient.connect(server.wsUrl, '/ws/2', { format: 'msgpack' })
  const carol = await TestClient.connect(server.wsUrl, '/ws/3', { format: 'msgpack' })
  const received: Uint8Array[] = []
  attacker.ws.addEventListener('message', (e) => {
    received.push(typeof e.data === 'string' ? new TextEncoder().encode(e.data) : new Uint8Array(e.data as ArrayBuffer))
  })

  const next = random(20261203)
  const secrets: string[] = []
  for (let round = 0; round < 40; round++) {
    // Bob's private message to carol, then a burst of probes from the attacker while it is fresh.
    const secret = `PRIVATE${round}x${Math.floor(next() * 1e12).toString(36)}bob-to-carol`
    secrets.push(secret)
    bob.sendRaw(packr.pack({ type: 'message', recipient_id: 3, message: secret, client_id: `c${round}`, ref: secret.slice(0, 60) }))
    const probes: Uint8Array[] = []
    for (let length = 65; length < 256; length += 10) probes.push(bundledStringProbe(length), bundledStringProbe(length, 'ping'))
    probes.push(...otherProbes(next))
    for (let i = 0; i < 20; i++) {
      const bytes = new Uint8Array(1 + Math.floor(next() * 40))
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(next() * 256)
      probes.push(bytes)
    }
    for (const probe of probes) attacker.sendRaw(probe)
    await carol.next((f) => f.type === 'message' && f.message === secret)
    await bob.next('message_sent')
  }
  // Everything the attacker's frames caused has arrived once a ping is answered.
  attacker.send({ type: 'ping' })
  await attacker.next('pong', 10_000)

  expect(received.length).toBeGreaterThan(40 * 40)
  const haystack = Buffer.concat(received).toString('latin1')
  for (const secret of secrets) {
    // Any 10 characters of a secret (its marker included) is a leak.
    for (let i = 0; i + 10 <= secret.length; i += 5) expect(haystack.includes(secret.slice(i, i + 10))).toBe(false)
  }
  expect(haystack.includes('PRIVATE')).toBe(false)
  expect(haystack.includes('bob-to-carol')).toBe(false)
  for (const c of [attacker, bob, carol]) c.close()
}, 60_000)

test('a few hundred bytes of MessagePack cannot freeze the server for everyone else', async () => {
  // A server process of its own: an in-process server would freeze this test's clock with it.
  using dir = tempDir()
  const server = await spawnServer({ AUTH: 'none', DATABASE_URL: join(dir.dir, 'bomb.db'), SEED_DEMO: '1' })
  const wsUrl = server.url.replace('http', 'ws')
  const attacker = await TestClient.connect(wsUrl, '/ws/1', { format: 'msgpack' })
  const bystander = await TestClient.connect(wsUrl, '/ws/2')
  // msgpackr's structured-clone ids and pointers: a value that doubles at each of 23 levels, and a
  // trailing byte so that msgpackr would describe the whole expanded value in its error message.
  const { Packr } = await import('msgpackr')
  let value: unknown = ['x'.repeat(40)]
  for (let i = 0; i < 23; i++) value = [value, value]
  const bomb = new Uint8Array([...new Packr({ structuredClone: true, useRecords: false }).pack({ type: 'ping', ref: value }), 0xc0])
  expect(bomb.length).toBeLessThan(400)
  attacker.sendRaw(bomb)
  // Whatever the bomb costs, it costs it now: a bystander's ping sent just after must be answered
  // at once, not after the server has finished expanding the value.
  await Bun.sleep(50)
  const started = performance.now()
  bystander.send({ type: 'ping' })
  await bystander.next('pong', 30_000)
  expect(performance.now() - started).toBeLessThan(1000)
  expect(await attacker.next('error', 10_000)).toMatchObject({ code: 'invalid_msgpack', ref: null })
  attacker.close()
  bystander.close()
  server.proc.kill()
  await server.exited
})
