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
