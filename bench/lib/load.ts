import * as hdr from 'hdr-histogram-js'
import { packr, unpack } from '../../src/protocol/msgpack'
import type { ServerProcess } from './server-process'

export type Format = 'json' | 'msgpack'
/** 'before': another Switchboard build (`--before=DIR`), for before/after figures in one run. */
export type TargetKind = 'switchboard' | 'baseline' | 'before'

/** Who talks to whom: user ids on the server under test, created by the setup step. */
export interface Population {
  /** 'pairs': user 2i talks to user 2i+1 and back. 'group': the first `senders` members post to the group. */
  kind: 'pairs' | 'group'
  userIds: number[]
  groupId?: number
  senders?: number
}

export interface LoadSpec {
  format: Format
  mode: 'closed' | 'open'
  /** Closed loop: messages in flight per sender. */
  window?: number
  /** Open loop: messages per second, all senders together. */
  rate?: number
  warmupSeconds: number
  seconds: number
}

/** What a round counts, and an aggregate of rounds adds up (bench/run.ts). */
export const COUNTS = ['sent', 'lost', 'duplicated', 'outOfOrder', 'stale', 'unacked', 'ackOutOfOrder', 'errors'] as const
export type Counts = Record<(typeof COUNTS)[number], number>

/**
 * One round against one server. Of its counts: `stale` is `message` frames from an earlier round
 * (a replayed backlog would show here); `unacked` and `ackOutOfOrder` (Switchboard only) are
 * messages never confirmed with `message_sent`, and confirmations out of order.
 */
export interface RoundResult extends Counts {
  target: TargetKind
  seconds: number
  delivered: number
  deliveredPerSec: number
  sentPerSec: number
  serverCpuSeconds: number
  serverCpuUsPerDelivery: number
  /** Page faults per 1,000 deliveries: on this VM each one is a costly trap. */
  serverPageFaultsPerKDelivery: number
  clientCpuUsPerDelivery: number
  serverRssBytes: number
  errorCodes: Record<string, number>
  latency: hdr.Histogram
  ackLatency: hdr.Histogram | null
}

export const newHistogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 })

let roundCounter = 0

interface Conn {
  ws: WebSocket
  userId: number
}

const decode = (data: string | ArrayBuffer): any => (typeof data === 'string' ? JSON.parse(data) : unpack(new Uint8Array(data)))

/** Opens one client connection and resolves once it is ready for live traffic. */
export function openConnection(
  server: ServerProcess,
  target: TargetKind,
  userId: number,
  format: Format,
  groups: number[],
  timeoutMs = 30_000,
): Promise<Conn> {
  const query = target === 'baseline' ? `?format=${format}&groups=${groups.join(',')}` : `?format=${format}`
  const ws = new WebSocket(`${server.wsUrl}/ws/${userId}${query}`)
  ws.binaryType = 'arraybuffer'
  // Switchboard is ready once the backlog is sent and topics subscribed (`synced`); the relay at open.
  const readyType = target !== 'baseline' ? 'synced' : 'connection_established'
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`connection for user ${userId} not ready in ${timeoutMs} ms`)), timeoutMs)
    ws.onmessage = (e) => {
      const f = decode(e.data as string | ArrayBuffer)
      if (f.type === readyType) {
        clearTimeout(timer)
        ws.onmessage = null
        resolve({ ws, userId })
      }
    }
    ws.onerror = () => {
      clearTimeout(timer)
      reject(new Error(`connection for user ${userId} failed`))
    }
  })
}

/** Opens many connections, `concurrency` at a time. */
export async function openMany(
  server: ServerProcess,
  target: TargetKind,
  users: { userId: number; groups: number[] }[],
  format: Format,
  concurrency = 200,
  onProgress?: (done: number) => void,
): Promise<Conn[]> {
  const conns: Conn[] = new Array(users.length)
  let next = 0
  let done = 0
  async function worker() {
    while (next < users.length) {
      const i = next++
      conns[i] = await openConnection(server, target, users[i].userId, format, users[i].groups)
      if (++done % 1000 === 0) onProgress?.(done)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, users.length) }, worker))
  return conns
}

/** Closes connections and waits (bounded) for them to be closed. */
export async function closeAll(conns: Conn[]): Promise<void> {
  await Promise.all(
    conns.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.ws.readyState === WebSocket.CLOSED) return resolve()
          const timer = setTimeout(resolve, 3000)
          c.ws.onclose = () => {
            clearTimeout(timer)
            resolve()
          }
          c.ws.close()
        }),
    ),
  )
}

/**
 * One measured round against one server: connect, warm up, measure, stop sending, drain, check.
 *
 * Every message carries its round, sender and sequence number in `client_id` ("round:sender:seq")
 * and its send time (the scheduled time in open loop) at the start of its text, so each receiver
 * checks loss, duplication and order per sender, and latency is measured without coordinated
 * omission in open loop.
 */
export async function runRound(server: ServerProcess, target: TargetKind, pop: Population, spec: LoadSpec): Promise<RoundResult> {
  const round = ++roundCounter
  const tag = String(round)
  const n = pop.userIds.length
  const isGroup = pop.kind === 'group'
  const senderCount = isGroup ? pop.senders! : n
  const groups = isGroup ? [pop.groupId!] : []
  const conns = await openMany(server, target, pop.userIds.map((userId) => ({ userId, groups })), spec.format)

  // Who each sender's messages go to, and whose delivery paces it in closed loop.
  const partnerOf = (s: number) => (s % 2 === 0 ? s + 1 : s - 1)
  const pacerOf = (s: number) => (isGroup ? n - 1 : partnerOf(s))
  const recipientsPerMessage = isGroup ? n - 1 : 1

  const sent = new Int32Array(senderCount)
  const inflight = new Int32Array(senderCount)
  const acked = new Int32Array(senderCount)
  // last[r * senderCount + s]: highest sequence receiver r has seen from sender s.
  const last = new Int32Array(n * senderCount)
  const missing = new Map<number, Set<number>>()
  const sendTimes = Array.from({ length: senderCount }, () => new Float64Array(1 << 16))
  const latency = newHistogram()
  const ackLatency = target !== 'baseline' ? newHistogram() : null
  let delivered = 0
  let duplicated = 0
  let outOfOrder = 0
  let stale = 0
  let ackOutOfOrder = 0
  let errors = 0
  const errorCodes: Record<string, number> = {}
  let running = true

  const text = (t: number) => `${t.toFixed(3)} load generator message, sixty-odd bytes long`
  const packFrame = spec.format === 'json' ? (f: object) => JSON.stringify(f) : (f: object) => packr.pack(f)

  function send(s: number, at: number): void {
    const seq = ++sent[s]
    sendTimes[s][seq & 0xffff] = at
    inflight[s]++
    const client_id = `${tag}:${s}:${seq}`
    const frame = isGroup
      ? { type: 'message', group_id: pop.groupId, message: text(at), client_id }
      : { type: 'message', recipient_id: pop.userIds[partnerOf(s)], message: text(at), client_id }
    conns[s].ws.send(packFrame(frame) as string | Uint8Array<ArrayBuffer>)
  }

  function onDelivery(r: number, f: any, now: number): void {
    const cid: string = f.client_id
    const first = cid.indexOf(':')
    if (cid.slice(0, first) !== tag) {
      stale++
      return
    }
    const second = cid.indexOf(':', first + 1)
    const s = Number(cid.slice(first + 1, second))
    const seq = Number(cid.slice(second + 1))
    delivered++
    latency.recordValue(Math.max(1, Math.round((now - parseFloat(f.message)) * 1000)))
    const k = r * senderCount + s
    const prev = last[k]
    if (seq > prev) {
      if (seq > prev + 1) {
        let gap = missing.get(k)
        if (!gap) missing.set(k, (gap = new Set()))
        for (let q = prev + 1; q < seq; q++) gap.add(q)
      }
      last[k] = seq
    } else if (missing.get(k)?.delete(seq)) outOfOrder++
    else duplicated++
    if (r === pacerOf(s)) {
      inflight[s]--
      if (running && spec.mode === 'closed') send(s, performance.now())
    }
  }

  function onAck(s: number, f: any, now: number): void {
    const cid: string = f.client_id
    const seq = Number(cid.slice(cid.lastIndexOf(':') + 1))
    if (seq !== acked[s] + 1) ackOutOfOrder++
    acked[s] = Math.max(acked[s], seq)
    ackLatency!.recordValue(Math.max(1, Math.round((now - sendTimes[s][seq & 0xffff]) * 1000)))
  }

  conns.forEach((c, r) => {
    c.ws.onmessage = (e) => {
      const now = performance.now()
      const f = decode(e.data as string | ArrayBuffer)
      switch (f.type) {
        case 'message':
          return onDelivery(r, f, now)
        case 'message_sent':
          return onAck(r, f, now)
        case 'error':
          errors++
          errorCodes[f.code] = (errorCodes[f.code] ?? 0) + 1
          return
      }
    }
  })

  // Load.
  let ticker: Timer | undefined
  if (spec.mode === 'closed') {
    for (let s = 0; s < senderCount; s++) for (let w = 0; w < spec.window!; w++) send(s, performance.now())
  } else {
    const interval = (1000 * senderCount) / spec.rate!
    const start = performance.now()
    const nextAt = Float64Array.from({ length: senderCount }, (_, s) => start + (interval * s) / senderCount)
    ticker = setInterval(() => {
      const now = performance.now()
      for (let s = 0; s < senderCount; s++) {
        while (nextAt[s] <= now) {
          send(s, nextAt[s])
          nextAt[s] += interval
        }
      }
    }, 1)
  }

  await Bun.sleep(spec.warmupSeconds * 1000)
  latency.reset()
  ackLatency?.reset()
  const sentAtStart = sum(sent)
  const deliveredAtStart = delivered
  const cpuAtStart = server.cpuSeconds()
  const faultsAtStart = server.pageFaults()
  const clientCpuAtStart = process.cpuUsage()
  const t0 = performance.now()
  await Bun.sleep(spec.seconds * 1000)
  const seconds = (performance.now() - t0) / 1000
  const serverCpuSeconds = server.cpuSeconds() - cpuAtStart
  const serverPageFaults = server.pageFaults() - faultsAtStart
  const clientCpu = process.cpuUsage(clientCpuAtStart)
  const windowDelivered = delivered - deliveredAtStart
  const windowSent = sum(sent) - sentAtStart
  const serverRssBytes = server.rssBytes()
  const windowLatency = newHistogram()
  windowLatency.add(latency)
  const windowAckLatency = ackLatency ? newHistogram() : null
  if (ackLatency) windowAckLatency!.add(ackLatency)

  // Stop sending and wait for what is in flight (bounded), then check.
  running = false
  if (ticker) clearInterval(ticker)
  const expected = () => sum(sent) * recipientsPerMessage
  // A server that fell behind may still be working through its queue: wait while it makes
  // progress (up to a minute), then count what never arrived as lost.
  const drainStarted = performance.now()
  let lastProgressAt = drainStarted
  let lastSeen = -1
  while (performance.now() - drainStarted < 60_000 && performance.now() - lastProgressAt < 3_000) {
    const acksDone = target === 'baseline' || sum(acked) >= sum(sent)
    if (delivered - duplicated >= expected() && acksDone) break
    const seen = delivered + sum(acked)
    if (seen !== lastSeen) {
      lastSeen = seen
      lastProgressAt = performance.now()
    }
    await Bun.sleep(20)
  }
  let lost = 0
  for (let s = 0; s < senderCount; s++) {
    for (let r = 0; r < n; r++) {
      if (isGroup ? r === s : r !== partnerOf(s)) continue
      const k = r * senderCount + s
      lost += sent[s] - last[k] + (missing.get(k)?.size ?? 0)
    }
  }
  const unacked = target !== 'baseline' ? sum(sent) - sum(acked) : 0
  await closeAll(conns)

  return {
    target,
    seconds,
    sent: windowSent,
    delivered: windowDelivered,
    deliveredPerSec: windowDelivered / seconds,
    sentPerSec: windowSent / seconds,
    serverCpuSeconds,
    serverCpuUsPerDelivery: (serverCpuSeconds * 1e6) / Math.max(1, windowDelivered),
    clientCpuUsPerDelivery: (clientCpu.user + clientCpu.system) / Math.max(1, windowDelivered),
    serverRssBytes,
    serverPageFaultsPerKDelivery: (serverPageFaults * 1000) / Math.max(1, windowDelivered),
    lost,
    duplicated,
    outOfOrder,
    stale,
    unacked,
    ackOutOfOrder,
    errors,
    errorCodes,
    latency: windowLatency,
    ackLatency: windowAckLatency,
  }
}

function sum(a: Int32Array): number {
  let t = 0
  for (let i = 0; i < a.length; i++) t += a[i]
  return t
}
