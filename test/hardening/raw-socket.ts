import { connect, type Socket } from 'node:net'

/**
 * A WebSocket client on a bare TCP socket, so a test can stop reading (a slow consumer) and later
 * read what was queued, down to the close frame and its code.
 */
export class RawWebSocket {
  private buffer: Buffer<ArrayBufferLike> = Buffer.alloc(0)
  private waiters: (() => void)[] = []
  ended = false

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk
      this.wake()
    })
    socket.on('close', () => {
      this.ended = true
      this.wake()
    })
    socket.on('error', () => {})
  }

  private wake() {
    for (const w of this.waiters.splice(0)) w()
  }

  private async more(deadline: number): Promise<void> {
    if (this.ended) throw new Error('socket ended')
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise<void>((resolve) => {
      this.waiters.push(resolve)
      setTimeout(resolve, 50)
    })
  }

  /** Opens the socket and completes the upgrade; throws with the HTTP answer if refused. */
  static async open(port: number, path: string): Promise<RawWebSocket> {
    const socket = connect({ host: '127.0.0.1', port })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve())
      socket.once('error', reject)
    })
    const ws = new RawWebSocket(socket)
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    )
    const deadline = Date.now() + 3000
    let end: number
    while ((end = ws.buffer.indexOf('\r\n\r\n')) < 0) await ws.more(deadline)
    const head = ws.buffer.subarray(0, end).toString()
    if (!head.startsWith('HTTP/1.1 101')) throw new Error(`upgrade refused: ${head.split('\r\n')[0]}`)
    ws.buffer = ws.buffer.subarray(end + 4)
    return ws
  }

  /** Stops reading: the kernel buffers fill, then the server's queue for this socket grows. */
  pause(): void {
    this.socket.pause()
  }

  resume(): void {
    this.socket.resume()
  }

  /** Reads frames until the close frame; returns the text frames before it and the close code. */
  async readUntilClose(timeoutMs = 5000): Promise<{ texts: string[]; closeCode: number | null }> {
    const texts: string[] = []
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const frame = this.parse()
      if (frame) {
        if (frame.opcode === 0x8) return { texts, closeCode: frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : null }
        if (frame.opcode === 0x1) texts.push(frame.payload.toString())
        continue
      }
      try {
        await this.more(deadline)
      } catch {
        return { texts, closeCode: null }
      }
    }
  }

  private parse(): { opcode: number; payload: Buffer } | null {
    const b = this.buffer
    if (b.length < 2) return null
    let length = b[1] & 0x7f
    let offset = 2
    if (length === 126) {
      if (b.length < 4) return null
      length = b.readUInt16BE(2)
      offset = 4
    } else if (length === 127) {
      if (b.length < 10) return null
      length = Number(b.readBigUInt64BE(2))
      offset = 10
    }
    if (b.length < offset + length) return null
    this.buffer = b.subarray(offset + length)
    return { opcode: b[0] & 0x0f, payload: b.subarray(offset, offset + length) }
  }

  destroy(): void {
    this.socket.destroy()
  }
}
