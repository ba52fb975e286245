/**
 * A mix of the message lifecycle on one server: in each of 50 pairs, both users send messages in a
 * closed loop (a window of 4 each); after a message is confirmed its sender edits one in five, and
 * its recipient reacts to one in three (and takes the reaction back one time in four). Reports
 * actions and events per second and the server's CPU per event a device receives.
 *
 * Usage: bun bench/lifecycle-mix.ts [seconds=5] [format=json|msgpack]
 * Runs against this checkout (`bun src/index.ts` over a fresh SQLite file).
 */
import { packr } from '../src/protocol/msgpack'
import { startSwitchboard } from './lib/server-process'
import { createUsers } from './lib/setup'

const SECONDS = Number(process.argv[2] ?? 5)
const FORMAT = (process.argv[3] ?? 'json') as 'json' | 'msgpack'
const PAIRS = 50
const WINDOW = 4

const server = await startSwitchboard()
const users = await createUsers(server, PAIRS * 2)
type Conn = { ws: WebSocket; userId: number; peer: number; inFlight: number }
const decode = (data: unknown) => (typeof data === 'string' ? JSON.parse(data) : packr.unpack(new Uint8Array(data as ArrayBuffer)))
const encode = (frame: object) => (FORMAT === 'json' ? JSON.stringify(frame) : new Uint8Array(packr.pack(frame)))

const counts = { sends: 0, edits: 0, reactions: 0, unreactions: 0, received: 0, errors: 0 }
let running = false
let seed = 1
const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)

function pump(c: Conn): void {
  while (running && c.inFlight < WINDOW) {
    c.inFlight++
    counts.sends++
    c.ws.send(encode({ type: 'message', recipient_id: c.peer, message: `mix ${counts.sends}` }))
  }
}

const conns: Conn[] = await Promise.all(
  users.map(
    (userId, i) =>
      new Promise<Conn>((resolve, reject) => {
        const peer = users[i % 2 === 0 ? i + 1 : i - 1]
        const ws = new WebSocket(`${server.wsUrl}/ws/${userId}?format=${FORMAT}`)
        ws.binaryType = 'arraybuffer'
        const c: Conn = { ws, userId, peer, inFlight: 0 }
        ws.onmessage = (e) => {
          const f = decode(e.data)
          if (f.type === 'synced') return resolve(c)
          if (!running) return
          if (f.type === 'message_sent') {
            c.inFlight--
            if (random() < 0.2) {
              counts.edits++
              ws.send(encode({ type: 'edit_message', message_id: f.message_id, message: `edited ${f.message_id}` }))
            }
            pump(c)
          } else if (f.type === 'message') {
            counts.received++
            if (random() < 1 / 3) {
              counts.reactions++
              ws.send(encode({ type: 'add_reaction', message_id: f.id, emoji: '👍' }))
              if (random() < 0.25) {
                counts.unreactions++
                ws.send(encode({ type: 'remove_reaction', message_id: f.id, emoji: '👍' }))
              }
            }
          } else if (f.type === 'error') counts.errors++
          else if (f.seq !== undefined) counts.received++
        }
        ws.onerror = () => reject(new Error('connect failed'))
      }),
  ),
)

// Warm up, then measure.
running = true
for (const c of conns) pump(c)
await Bun.sleep(1000)
for (const k of Object.keys(counts) as (keyof typeof counts)[]) counts[k] = 0
const cpu0 = server.cpuSeconds()
const t0 = performance.now()
await Bun.sleep(SECONDS * 1000)
const seconds = (performance.now() - t0) / 1000
const cpu = server.cpuSeconds() - cpu0
const snapshot = { ...counts }
running = false
for (const c of conns) c.ws.close()
await server.stop()

const actions = snapshot.sends + snapshot.edits + snapshot.reactions + snapshot.unreactions
console.log(`lifecycle mix, ${FORMAT}, ${PAIRS} pairs, ${seconds.toFixed(1)} s:`)
console.log(`  actions/s ${(actions / seconds).toFixed(0)} (sends ${(snapshot.sends / seconds).toFixed(0)}, edits ${(snapshot.edits / seconds).toFixed(0)}, reactions ${((snapshot.reactions + snapshot.unreactions) / seconds).toFixed(0)})`)
console.log(`  events received/s ${(snapshot.received / seconds).toFixed(0)}, errors ${snapshot.errors}`)
console.log(`  server CPU µs per action ${((cpu * 1e6) / actions).toFixed(2)}, per event received ${((cpu * 1e6) / snapshot.received).toFixed(2)}`)
