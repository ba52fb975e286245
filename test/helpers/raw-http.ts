import { connect } from 'node:net'

export interface RawResponse {
  /** 0 when the server closed the connection without answering. */
  status: number
  head: string
  body: string
}

/**
 * Writes bytes to a fresh TCP connection and reads the answer until the server closes it or
 * `timeoutMs` passes: for requests no HTTP client would send (a malformed Host, no Host at all).
 */
export function rawRequest(port: number, bytes: string | Uint8Array, timeoutMs = 3000): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    const chunks: Buffer[] = []
    let done = false
    const finish = () => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      const text = Buffer.concat(chunks).toString('utf8')
      const split = text.indexOf('\r\n\r\n')
      const head = split < 0 ? text : text.slice(0, split)
      let body = split < 0 ? '' : text.slice(split + 4)
      if (/transfer-encoding:\s*chunked/i.test(head)) body = unchunk(body)
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head)
      resolve({ status: m ? Number(m[1]) : 0, head, body })
    }
    const timer = setTimeout(finish, timeoutMs)
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      // One response is all we want: stop once its body is complete.
      const text = Buffer.concat(chunks).toString('latin1')
      const split = text.indexOf('\r\n\r\n')
      if (split < 0) return
      const length = /content-length:\s*(\d+)/i.exec(text.slice(0, split))
      if (length && text.length - split - 4 >= Number(length[1])) finish()
      if (/transfer-encoding:\s*chunked/i.test(text.slice(0, split)) && text.endsWith('0\r\n\r\n')) finish()
    })
    socket.on('close', finish)
    socket.on('error', finish)
    socket.write(bytes)
  })
}

function unchunk(body: string): string {
  let out = ''
  let rest = body
  for (;;) {
    const line = rest.indexOf('\r\n')
    if (line < 0) return out
    const size = parseInt(rest.slice(0, line), 16)
    if (!size) return out
    out += rest.slice(line + 2, line + 2 + size)
    rest = rest.slice(line + 2 + size + 2)
  }
}

export interface RawExchange {
  /** Every response the server sent on the connection, in order. */
  responses: RawResponse[]
  /** True when the server closed the connection before `timeoutMs`. */
  closedByServer: boolean
  /** Bytes after the last complete response (a response cut short). */
  rest: string
}

/**
 * Writes bytes to a fresh TCP connection (in `chunks`, `pauseMs` apart, when given) and collects
 * every response until the server closes the connection or `timeoutMs` passes: to see what the
 * server makes of bytes that follow a request (a Content-Length smaller than the body).
 */
export function rawExchange(
  port: number,
  bytes: string | Uint8Array | (string | Uint8Array)[],
  options: { timeoutMs?: number; pauseMs?: number } = {},
): Promise<RawExchange> {
  const parts = Array.isArray(bytes) ? bytes : [bytes]
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    const chunks: Buffer[] = []
    let done = false
    let closedByServer = false
    const finish = () => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      resolve({ ...splitResponses(Buffer.concat(chunks).toString('latin1')), closedByServer })
    }
    const timer = setTimeout(finish, options.timeoutMs ?? 3000)
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('close', () => {
      closedByServer = !done
      finish()
    })
    // The server may close while we are still writing (an early 413): what it sent still counts.
    socket.on('error', () => {})
    const write = async () => {
      for (const part of parts) {
        if (done || socket.destroyed) return
        socket.write(part)
        if (options.pauseMs) await Bun.sleep(options.pauseMs)
      }
    }
    void write()
  })
}

function splitResponses(text: string): { responses: RawResponse[]; rest: string } {
  const responses: RawResponse[] = []
  let rest = text
  for (;;) {
    const split = rest.indexOf('\r\n\r\n')
    if (split < 0) return { responses, rest }
    const head = rest.slice(0, split)
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head)
    if (!m) return { responses, rest }
    const after = rest.slice(split + 4)
    const length = /content-length:\s*(\d+)/i.exec(head)
    if (length) {
      if (after.length < Number(length[1])) return { responses, rest }
      responses.push({ status: Number(m[1]), head, body: Buffer.from(after.slice(0, Number(length[1])), 'latin1').toString('utf8') })
      rest = after.slice(Number(length[1]))
    } else if (/transfer-encoding:\s*chunked/i.test(head)) {
      const end = after.indexOf('0\r\n\r\n')
      if (end < 0) return { responses, rest }
      responses.push({ status: Number(m[1]), head, body: Buffer.from(unchunk(after.slice(0, end + 5)), 'latin1').toString('utf8') })
      rest = after.slice(end + 5)
    } else {
      responses.push({ status: Number(m[1]), head, body: '' })
      rest = after
    }
  }
}
