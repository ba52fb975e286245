/**
 * Micro-benchmark of what the server's codec does per 1:1 message, in JSON and in MessagePack: decode
 * the client's `message` frame, encode the `message` frame the recipient gets and the
 * `message_sent` the sender gets. It runs the codec the server runs (`src/protocol/codec.ts`, with
 * msgpackr through `src/protocol/msgpack.ts`), on frames shaped like the load generator's. The relay
 * baseline uses the same codec, so these costs are in both servers' figures.
 *
 *   bun bench/micro/codec.ts            (LOOPS=1000000 REPS=3 by default)
 */
import { decodeFrame, encodeFrame } from '../../src/protocol/codec'
import type { ServerFrame } from '../../src/protocol/frames'

const LOOPS = Number(process.env.LOOPS ?? 1_000_000)
const REPS = Number(process.env.REPS ?? 3)

const text = '1234.567 load generator message, sixty-odd bytes long'
const timestamp = new Date().toISOString()
const incoming = { type: 'message', recipient_id: 18, message: text, client_id: '12:345:6789' }
const message: ServerFrame = { type: 'message', seq: 123456, id: 123456, sender_id: 17, recipient_id: 18, message: text, message_type: 'text', status: 'delivered', client_id: '12:345:6789', timestamp }
const sent: ServerFrame = { type: 'message_sent', message_id: 123456, client_id: '12:345:6789', status: 'delivered', timestamp, duplicate: false }

// As Bun hands frames over: a string for a text frame, a new Buffer for a binary one.
const jsonIn = JSON.stringify(incoming)
const packedIn = Buffer.from(encodeFrame(incoming as unknown as ServerFrame, 'msgpack') as Uint8Array)

const cases: [string, () => unknown][] = [
  ['decode client frame, JSON', () => decodeFrame(jsonIn)],
  ['decode client frame, MessagePack', () => decodeFrame(Buffer.from(packedIn))],
  ['encode message, JSON', () => encodeFrame(message, 'json')],
  ['encode message, MessagePack', () => encodeFrame(message, 'msgpack')],
  ['encode message_sent, JSON', () => encodeFrame(sent, 'json')],
  ['encode message_sent, MessagePack', () => encodeFrame(sent, 'msgpack')],
  ['Buffer.from (the copy above)', () => Buffer.from(packedIn)],
]

function cpuPerCall(fn: () => unknown): number {
  for (let i = 0; i < LOOPS / 5; i++) fn()
  const start = process.cpuUsage()
  for (let i = 0; i < LOOPS; i++) fn()
  const used = process.cpuUsage(start)
  return (used.user + used.system) / LOOPS
}

const results = new Map<string, number[]>()
for (let rep = 0; rep < REPS; rep++) for (const [name, fn] of cases) results.set(name, [...(results.get(name) ?? []), cpuPerCall(fn)])
console.log(`${LOOPS} calls each, ${REPS} repetitions (µs of CPU a call):`)
for (const [name, xs] of results) console.log(`${name.padEnd(34)} ${xs.map((x) => x.toFixed(2)).join('  ')}`)
