/**
 * The baseline: a bare Bun pub/sub relay speaking the same frames as Switchboard for the load the
 * harness sends — no framework, no database, no validation, no confirmation. It decodes a client
 * `message` frame, builds the same `message` frame Switchboard would deliver, encodes it once per
 * format with subscribers and publishes it to the recipient's (or group's) Bun topic.
 *
 * Usage: bun bench/baseline-relay.ts   (PORT=0 picks a free port; prints "listening on PORT")
 * Connect: /ws/<user id>?format=json|msgpack&groups=1,2
 */
// The MessagePack codec Switchboard uses (msgpackr, read through a reused buffer): what the
// baseline measures is the server around it.
import { packr, unpack } from '../src/protocol/msgpack'

interface Conn {
  userId: number
  format: 'json' | 'msgpack'
  groups: number[]
}

let nextId = 0
const server = Bun.serve<Conn>({
  port: Number(process.env.PORT ?? 0),
  hostname: '127.0.0.1',
  fetch(req, srv) {
    const url = new URL(req.url)
    const m = /^\/ws\/(\d+)$/.exec(url.pathname)
    if (!m) return new Response('not found', { status: 404 })
    const groups = (url.searchParams.get('groups') ?? '').split(',').filter(Boolean).map(Number)
    const format = url.searchParams.get('format') === 'msgpack' ? 'msgpack' : 'json'
    if (srv.upgrade(req, { data: { userId: Number(m[1]), format, groups } })) return
    return new Response('upgrade failed', { status: 400 })
  },
  websocket: {
    perMessageDeflate: false,
    idleTimeout: 60,
    open(ws) {
      const suffix = ws.data.format === 'json' ? 'j' : 'm'
      ws.subscribe(`u:${ws.data.userId}:${suffix}`)
      for (const g of ws.data.groups) ws.subscribe(`g:${g}:${suffix}`)
      const hello = { type: 'connection_established', user_id: ws.data.userId }
      ws.send(ws.data.format === 'json' ? JSON.stringify(hello) : packr.pack(hello))
    },
    message(ws, raw) {
      const f = typeof raw === 'string' ? JSON.parse(raw) : (unpack(raw) as any)
      if (f.type !== 'message') return
      const out = f.group_id !== undefined
        ? { type: 'message', id: ++nextId, sender_id: ws.data.userId, group_id: f.group_id, message: f.message, message_type: 'text', status: 'delivered', client_id: f.client_id ?? null, timestamp: new Date().toISOString() }
        : { type: 'message', id: ++nextId, sender_id: ws.data.userId, recipient_id: f.recipient_id, message: f.message, message_type: 'text', status: 'delivered', client_id: f.client_id ?? null, timestamp: new Date().toISOString() }
      const base = f.group_id !== undefined ? `g:${f.group_id}:` : `u:${f.recipient_id}:`
      if (server.subscriberCount(base + 'j') > 0) ws.publish(base + 'j', JSON.stringify(out))
      if (server.subscriberCount(base + 'm') > 0) ws.publish(base + 'm', packr.pack(out))
    },
  },
})

console.log(`listening on ${server.port}`)
process.on('SIGTERM', () => {
  server.stop(true)
  process.exit(0)
})
