import { packr } from '../../src/protocol/msgpack'

export type Frame = Record<string, any>

/**
 * One device of a user as a client of the event stream keeps it: its resume point (the highest
 * seq seen, or synced/backlog_page last_id), reconnecting with `since` from there, and dropping a
 * repeated seq as the client library does. What it shows is the subclass's: `apply` sees each
 * frame once.
 */
export abstract class StreamDevice {
  resumeFrom = 0
  ws: WebSocket | null = null
  synced = false
  private readonly seen = new Set<number>()

  constructor(
    readonly userId: number,
    readonly format: 'json' | 'msgpack' = 'json',
  ) {}

  /** Resolves at `synced`, or when the connection closes first (a test may close it on purpose). */
  connect(wsUrl: string, opts: { since?: boolean } = {}): Promise<void> {
    const query = new URLSearchParams()
    if (opts.since !== false) query.set('since', String(this.resumeFrom))
    if (this.format === 'msgpack') query.set('format', 'msgpack')
    const ws = new WebSocket(`${wsUrl}/ws/${this.userId}?${query}`)
    ws.binaryType = 'arraybuffer'
    this.ws = ws
    this.synced = false
    return new Promise((resolve, reject) => {
      ws.onmessage = (e) => {
        const f: Frame = typeof e.data === 'string' ? JSON.parse(e.data) : packr.unpack(new Uint8Array(e.data as ArrayBuffer))
        this.take(f)
        if (f.type === 'synced') resolve()
      }
      // Closed by the test before it opened: not a failure.
      ws.onerror = () => (this.ws === ws ? reject(new Error('connect failed')) : resolve())
      ws.onclose = () => resolve()
    })
  }

  private take(f: Frame): void {
    if (typeof f.seq === 'number') {
      if (this.seen.has(f.seq)) return
      this.seen.add(f.seq)
      if (f.seq > this.resumeFrom) this.resumeFrom = f.seq
    }
    if ((f.type === 'synced' || f.type === 'backlog_page') && f.last_id > this.resumeFrom) this.resumeFrom = f.last_id
    if (f.type === 'synced') this.synced = true
    this.apply(f)
  }

  /** A frame the device has not seen before (or one without a seq). */
  protected abstract apply(f: Frame): void

  send(frame: Frame): void {
    this.ws?.send(this.format === 'json' ? JSON.stringify(frame) : new Uint8Array(packr.pack(frame)))
  }

  close(): Promise<void> {
    const ws = this.ws
    this.ws = null
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve()
    return new Promise((resolve) => {
      ws.onclose = () => resolve()
      ws.close()
    })
  }
}

/** A small deterministic PRNG (mulberry32): a failing run can be replayed with its seed. */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
