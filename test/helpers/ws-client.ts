import { Packr } from 'msgpackr'

const packr = new Packr({ useRecords: false, mapsAsObjects: true })

export type Frame = Record<string, any>

/**
 * A test WebSocket client that queues every frame it receives, so a test can wait for the next
 * frame of a type, or assert that none arrives.
 *
 * Strict about framing (docs/PROTOCOL.md: JSON connections use text frames, MessagePack ones
 * binary frames): a frame in the other framing is a protocol violation. It is recorded in
 * `violations` and never queued, every pending and later `next()` rejects, and `collect`,
 * `waitClosed` and `close` throw, so the test that met it fails whatever it was waiting for.
 */
export class TestClient {
  readonly frames: Frame[] = []
  /** Frames that arrived in the other framing than the connection's, described. */
  readonly violations: string[] = []
  /** The types of the frames that arrived in the connection's framing. */
  readonly typesReceived = new Set<string>()
  private waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void; reject: (e: Error) => void }[] = []
  closed: { code: number; reason: string } | null = null
  private closeWaiters: ((c: { code: number; reason: string }) => void)[] = []

  private constructor(
    readonly ws: WebSocket,
    readonly format: 'json' | 'msgpack',
  ) {
    ws.binaryType = 'arraybuffer'
    ws.onmessage = (e) => {
      const text = typeof e.data === 'string'
      if (text !== (this.format === 'json')) return this.violated(e.data)
      const frame: Frame = text ? JSON.parse(e.data) : packr.unpack(new Uint8Array(e.data as ArrayBuffer))
      this.typesReceived.add(frame.type)
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

  /** The next frame of `type` (queued or future); rejects after `timeoutMs`, or at a framing violation. */
  next(type?: string | ((f: Frame) => boolean), timeoutMs = 3000): Promise<Frame> {
    if (this.violations.length) return Promise.reject(this.violationError())
    const match = typeof type === 'function' ? type : (f: Frame) => type === undefined || f.type === type
    const i = this.frames.findIndex(match)
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0])
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (f: Frame) => (clearTimeout(timer), resolve(f)),
        reject: (e: Error) => (clearTimeout(timer), reject(e)),
      }
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
    this.assertFraming()
    const got = this.frames.filter((f) => f.type === type)
    for (const f of got) this.frames.splice(this.frames.indexOf(f), 1)
    return got
  }

  waitClosed(timeoutMs = 3000): Promise<{ code: number; reason: string }> {
    this.assertFraming()
    if (this.closed) return Promise.resolve(this.closed)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('connection did not close')), timeoutMs)
      this.closeWaiters.push((c) => (clearTimeout(timer), resolve(c)))
    })
  }

  close(): void {
    if (this.ws.readyState <= 1) this.ws.close()
    this.assertFraming()
  }

  /** Throws if any frame arrived in the other framing. */
  assertFraming(): void {
    if (this.violations.length) throw this.violationError()
  }

  private violated(data: unknown): void {
    const shown = typeof data === 'string' ? data : `${(data as ArrayBuffer).byteLength} bytes`
    this.violations.push(`a ${typeof data === 'string' ? 'text' : 'binary'} frame on a ${this.format} connection: ${shown.slice(0, 200)}`)
    const error = this.violationError()
    for (const waiter of this.waiters.splice(0)) waiter.reject(error)
  }

  private violationError(): Error {
    return new Error(`protocol violation: ${this.violations.join('; ')}`)
  }
}
