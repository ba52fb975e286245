import { Packr } from 'msgpackr'

const packr = new Packr({ useRecords: false, mapsAsObjects: true })

export type Frame = Record<string, any>

/**
 * A test WebSocket client that queues every frame it receives, so a test can wait for the next
 * frame of a type, or assert that none arrives.
 */
export class TestClient {
  readonly frames: Frame[] = []
  private waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = []
  closed: { code: number; reason: string } | null = null
  private closeWaiters: ((c: { code: number; reason: string }) => void)[] = []

  private constructor(
    readonly ws: WebSocket,
    readonly format: 'json' | 'msgpack',
  ) {
    ws.binaryType = 'arraybuffer'
    ws.onmessage = (e) => {
      const frame: Frame = typeof e.data === 'string' ? JSON.parse(e.data) : packr.unpack(new Uint8Array(e.data as ArrayBuffer))
      const i = this.waiters.findIndex((w) => w.match(frame))
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(frame)
      else this.frames.push(frame)
    }
    ws.onclose = (e) => {
      this.closed = { code: e.code, reason: e.reason }
      for (const w of this.closeWaiters) w(this.closed)
    }
  }

  /** Opens a connection and waits for `connection_established` (and `synced` unless told not to). */
  static async connect(baseWsUrl: string, path: string, opts: { format?: 'json' | 'msgpack'; waitSynced?: boolean; protocols?: string[] } = {}): Promise<TestClient> {
    const format = opts.format ?? 'json'
    const sep = path.includes('?') ? '&' : '?'
    const url = opts.protocols || format === 'json' ? baseWsUrl + path : `${baseWsUrl}${path}${sep}format=msgpack`
    const ws = new WebSocket(url, opts.protocols)
    const client = new TestClient(ws, opts.protocols?.includes('msgpack') ? 'msgpack' : format)
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve()
      ws.onerror = () => reject(new Error(`could not connect to ${url}`))
    })
    await client.next('connection_established')
    if (opts.waitSynced !== false) await client.next('synced')
    return client
  }

  send(frame: unknown): void {
    this.ws.send(this.format === 'json' ? JSON.stringify(frame) : new Uint8Array(packr.pack(frame)))
  }

  sendRaw(data: string | Uint8Array): void {
    this.ws.send(typeof data === 'string' ? data : new Uint8Array(data))
  }

  /** The next frame of `type` (queued or future); rejects after `timeoutMs`. */
  next(type?: string | ((f: Frame) => boolean), timeoutMs = 3000): Promise<Frame> {
    const match = typeof type === 'function' ? type : (f: Frame) => type === undefined || f.type === type
    const i = this.frames.findIndex(match)
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0])
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve: (f: Frame) => (clearTimeout(timer), resolve(f)) }
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1)
        reject(new Error(`no ${typeof type === 'string' ? type : 'matching'} frame within ${timeoutMs} ms; queued: ${JSON.stringify(this.frames.slice(-5))}`))
      }, timeoutMs)
      this.waiters.push(waiter)
    })
  }

  /** Resolves with every frame of `type` that arrives within `ms` (none is fine). */
  async collect(type: string, ms = 200): Promise<Frame[]> {
    await Bun.sleep(ms)
    const got = this.frames.filter((f) => f.type === type)
    for (const f of got) this.frames.splice(this.frames.indexOf(f), 1)
    return got
  }

  waitClosed(timeoutMs = 3000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('connection did not close')), timeoutMs)
      this.closeWaiters.push((c) => (clearTimeout(timer), resolve(c)))
    })
  }

  close(): void {
    if (this.ws.readyState <= 1) this.ws.close()
  }
}
