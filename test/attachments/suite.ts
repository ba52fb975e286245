import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Config } from '../../src/config'
import { rawRequest } from '../helpers/raw-http'
import { api, eventually, startServer, type TestServer } from '../helpers/server'
import { multipartBody, pdfBytes, pngOf, upload } from '../helpers/uploads'
import { TestClient } from '../helpers/ws-client'

/** Where a suite's server keeps attachment bytes, and how the test looks at them. */
export interface StorageFixture {
  /** Config for a server whose data folder is `dir`. */
  config(dir: string): Partial<Config>
  /** Whether bytes are stored under this key (a sha256, or one with `.thumb`). */
  exists(dir: string, key: string): Promise<boolean>
}

const sha256 = (bytes: Uint8Array) => new Bun.CryptoHasher('sha256').update(bytes).digest('hex')
const LIMIT = 256 * 1024

/** Attachment records in a test server's SQLite file. */
export const storedAttachments = (server: TestServer): number =>
  (server.store as unknown as { client: { query(sql: string): { get(): { n: number } } } }).client.query('select count(*) as n from attachments').get().n

/** The attachment behaviour every storage must show: the same tests on disk and on S3. */
export function attachmentSuite(name: string, storage: StorageFixture) {
  describe(`attachments on ${name}`, () => {
    let server: TestServer

    beforeAll(async () => {
      const probe = await startServer()
      const dir = probe.dir
      await probe.stop()
      server = await startServer({ dir, config: { maxAttachmentBytes: LIMIT, ...storage.config(dir) } })
    })
    afterAll(() => server.stop())

    test('an image is uploaded, sent over REST, listed in history with its metadata, downloaded whole and in ranges', async () => {
      const png = await pngOf(64, 48)
      const up = await upload(server, png, { name: 'cat.png', type: 'text/html' })
      expect(up.status).toBe(201)
      expect(up.body).toEqual({ id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), content_type: 'image/png', size: png.length, name: 'cat.png', url: `/attachments/${up.body.id}`, width: 64, height: 48 })
      expect(await storage.exists(server.dir, sha256(png))).toBe(true)

      const sent = await api(server, 'POST', '/messages', { sender_id: 1, recipient_id: 2, message: 'look', attachment_ids: [up.body.id] })
      expect(sent.status).toBe(201)
      expect(sent.body).toMatchObject({ message_type: 'image', attachments: [up.body] })
      const history = await api(server, 'GET', '/messages?user_id=2&other_user_id=1')
      expect(history.body.messages.at(-1)).toMatchObject({ id: sent.body.id, attachments: [up.body] })

      const whole = await fetch(`${server.url}${up.body.url}?user_id=2`)
      expect(whole.status).toBe(200)
      expect(new Uint8Array(await whole.arrayBuffer())).toEqual(png)
      expect(whole.headers.get('content-type')).toBe('image/png')
      expect(whole.headers.get('content-disposition')).toStartWith('inline; filename="cat.png"')
      expect(whole.headers.get('x-content-type-options')).toBe('nosniff')
      expect(whole.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox")
      const etag = whole.headers.get('etag')!
      expect(etag).toBe(`"${sha256(png)}"`)

      // RFC 9110 §13.1.2: If-None-Match with the current tag → 304, no body.
      const again = await fetch(`${server.url}${up.body.url}?user_id=2`, { headers: { 'if-none-match': etag } })
      expect(again.status).toBe(304)
      // RFC 9110 §14: one range → 206 with Content-Range; a suffix range; past the end → 416.
      const part = await fetch(`${server.url}${up.body.url}?user_id=2`, { headers: { range: 'bytes=1-3' } })
      expect(part.status).toBe(206)
      expect(part.headers.get('content-range')).toBe(`bytes 1-3/${png.length}`)
      expect(new Uint8Array(await part.arrayBuffer())).toEqual(png.slice(1, 4))
      const tail = await fetch(`${server.url}${up.body.url}?user_id=2`, { headers: { range: 'bytes=-8' } })
      expect(new Uint8Array(await tail.arrayBuffer())).toEqual(png.slice(-8))
      const beyond = await fetch(`${server.url}${up.body.url}?user_id=2`, { headers: { range: `bytes=${png.length}-` } })
      expect(beyond.status).toBe(416)
      expect(beyond.headers.get('content-range')).toBe(`bytes */${png.length}`)
      expect((await beyond.json()).error.code).toBe('range_not_satisfiable')

      const thumb = await fetch(`${server.url}${up.body.url}/thumbnail?user_id=2`)
      expect(thumb.status).toBe(200)
      expect(thumb.headers.get('content-type')).toBe('image/webp')
      expect((await thumb.arrayBuffer()).byteLength).toBeGreaterThan(0)
    })

    test('a PDF goes over the WebSocket: the frame, the sender’s echo and a later catch-up carry its metadata; it downloads as an attachment', async () => {
      const pdf = pdfBytes()
      const up = await upload(server, pdf, { name: 'report.pdf', userId: 2 })
      expect(up.status).toBe(201)
      expect(up.body).toMatchObject({ content_type: 'application/pdf', size: pdf.length, name: 'report.pdf' })
      expect(up.body.width).toBeUndefined()
      const bob = await TestClient.connect(server.wsUrl, '/ws/2')
      const carol = await TestClient.connect(server.wsUrl, '/ws/3')
      bob.send({ type: 'message', group_id: 1, message: '', message_type: 'file', attachment_ids: [up.body.id], client_id: 'pdf-1' })
      const ack = await bob.next('message_sent')
      expect(ack.duplicate).toBe(false)
      const frame = await carol.next('message')
      expect(frame).toMatchObject({ id: ack.message_id, group_id: 1, message_type: 'file', attachments: [up.body] })
      bob.close()
      carol.close()
      const later = await TestClient.connect(server.wsUrl, `/ws/3?since=${ack.message_id - 1}`)
      expect(await later.next((f) => f.type === 'message' && f.id === ack.message_id)).toMatchObject({ attachments: [up.body] })
      later.close()

      const download = await fetch(`${server.url}${up.body.url}?user_id=3`)
      expect(download.status).toBe(200)
      expect(download.headers.get('content-type')).toBe('application/pdf')
      expect(download.headers.get('content-disposition')).toStartWith('attachment; filename="report.pdf"')
      expect(new Uint8Array(await download.arrayBuffer())).toEqual(pdf)
      expect((await fetch(`${server.url}${up.body.url}/thumbnail?user_id=3`)).status).toBe(404)
    })

    test('an HTML file is stored as text and served as a download that cannot run', async () => {
      const html = '<!doctype html><html><body><script>alert(document.cookie)</script></body></html>'
      const up = await upload(server, html, { name: 'page.html', type: 'text/html' })
      expect(up.status).toBe(201)
      expect(up.body.content_type).toBe('text/plain')
      const res = await fetch(`${server.url}${up.body.url}?user_id=1`)
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8')
      expect(res.headers.get('content-disposition')).toStartWith('attachment; filename="page.html"')
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox")
      expect(await res.text()).toBe(html)
      // An SVG (markup too) is never inline either.
      const svg = await upload(server, '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', { name: 'x.svg', type: 'image/svg+xml' })
      const served = await fetch(`${server.url}${svg.body.url}?user_id=1`)
      expect(served.headers.get('content-disposition')).toStartWith('attachment;')
      expect(served.headers.get('content-type')).not.toContain('svg')
    })

    test('a path in the file name is dropped: the name is display text, the bytes are stored under their hash', async () => {
      const bytes = new TextEncoder().encode('notes')
      const up = await upload(server, bytes, { name: '../../../etc/passwd\u202Egpj.txt' })
      expect(up.status).toBe(201)
      expect(up.body.name).toBe('passwdgpj.txt')
      const windows = await upload(server, bytes, { name: 'C:\\Users\\x\\..\\evil.txt' })
      expect(windows.body.name).toBe('evil.txt')
      expect(await storage.exists(server.dir, sha256(bytes))).toBe(true)
      const dl = await fetch(`${server.url}${up.body.url}?user_id=1`)
      expect(dl.headers.get('content-disposition')).toContain('filename="passwdgpj.txt"')
    })

    test('refused: a type not on the allow-list, detected from the bytes whatever the name and header say', async () => {
      // An ELF executable called a PNG.
      const elf = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, ...new Array(56).fill(0)])
      const res = await upload(server, elf, { name: 'photo.png', type: 'image/png' })
      expect(res.status).toBe(415)
      expect(res.body.error.code).toBe('type_not_allowed')
      expect(await storage.exists(server.dir, sha256(elf))).toBe(false)
    })

    test('refused: a file larger than MAX_ATTACHMENT_BYTES, declared or chunked (counted as it streams)', async () => {
      const big = new Uint8Array(LIMIT + 1).fill(97)
      const declared = await upload(server, big, { name: 'big.txt' })
      expect(declared.status).toBe(413)
      expect(declared.body.error.code).toBe('attachment_too_large')

      // Chunked: no length is declared, the bytes are counted; the server answers before the body ends.
      const { body, contentType } = multipartBody(new Uint8Array(4 * LIMIT).fill(98))
      let sent = 0
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= body.length) return controller.close()
          controller.enqueue(body.subarray(sent, sent + 16 * 1024))
          sent += 16 * 1024
        },
      })
      const chunked = await fetch(`${server.url}/attachments?user_id=1`, { method: 'POST', body: stream, headers: { 'content-type': contentType } })
      expect(chunked.status).toBe(413)
      expect(((await chunked.json()) as any).error.code).toBe('attachment_too_large')
      expect(await storage.exists(server.dir, sha256(new Uint8Array(4 * LIMIT).fill(98)))).toBe(false)
    })

    test('refused: a Content-Length that lies, in either direction', async () => {
      // Declared under the limit with the multipart overhead, but the file in it is over the limit: counted, 413.
      const over = new Uint8Array(LIMIT + 1000).fill(99)
      const { body, contentType } = multipartBody(over)
      const head = `POST /attachments?user_id=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n\r\n`
      const counted = await rawRequest(server.port, Buffer.concat([Buffer.from(head), body]))
      expect(counted.status).toBe(413)
      expect(JSON.parse(counted.body).error.code).toBe('attachment_too_large')

      // Declared small, sent large: only the declared bytes are the body, an incomplete form, refused
      // with 400 (ours, or Bun's for the bytes after it, which are never taken for a request), and
      // the connection closes. Nothing is stored.
      const rows = storedAttachments(server)
      const small = multipartBody(new Uint8Array(100_000).fill(100))
      const lie = `POST /attachments?user_id=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${small.contentType}\r\nContent-Length: 1000\r\n\r\n`
      const short = await rawRequest(server.port, Buffer.concat([Buffer.from(lie), small.body]))
      expect(short.status).toBe(400)
      expect(short.head.toLowerCase()).toContain('connection: close')
      expect(storedAttachments(server)).toBe(rows)
      expect(await storage.exists(server.dir, sha256(new Uint8Array(100_000).fill(100)))).toBe(false)
    })

    test('MAX_BODY_BYTES does not cut an upload short, and the JSON-only rule still holds elsewhere', async () => {
      const bytes = new Uint8Array(200 * 1024).fill(101)
      const small = await startServer({ dir: server.dir + '-small', config: { maxBodyBytes: 64 * 1024, ...storage.config(server.dir + '-small') } })
      try {
        const res = await upload(small, bytes, { name: 'long.txt' })
        expect(res.status).toBe(201)
        expect(res.body.size).toBe(bytes.length)
        const form = new FormData()
        form.append('sender_id', '1')
        const json = await fetch(`${small.url}/messages`, { method: 'POST', body: form })
        expect(json.status).toBe(415)
      } finally {
        await small.stop()
      }
    })

    test('refused: sending someone else’s upload (REST and WebSocket), an unknown id, a type that does not match', async () => {
      const png = await pngOf(8, 8, '#ff0000')
      const alices = (await upload(server, png, { name: 'a.png', userId: 1 })).body
      const stolen = await api(server, 'POST', '/messages', { sender_id: 2, recipient_id: 3, message: 'mine now', attachment_ids: [alices.id] })
      expect(stolen.status).toBe(403)
      expect(stolen.body.error.code).toBe('attachment_not_allowed')
      const bob = await TestClient.connect(server.wsUrl, '/ws/2')
      bob.send({ type: 'message', recipient_id: 3, message: '', message_type: 'image', attachment_ids: [alices.id], ref: 'r1' })
      expect(await bob.next('error')).toMatchObject({ code: 'attachment_not_allowed', ref: 'r1' })
      bob.close()
      const unknown = await api(server, 'POST', '/messages', { sender_id: 1, recipient_id: 2, message: '', attachment_ids: ['AAAAAAAAAAAAAAAAAAAAAA'] })
      expect(unknown.status).toBe(403)
      const pdf = (await upload(server, pdfBytes(), { name: 'x.pdf' })).body
      const asImage = await api(server, 'POST', '/messages', { sender_id: 1, recipient_id: 2, message: '', message_type: 'image', attachment_ids: [pdf.id] })
      expect(asImage.body.error.code).toBe('not_an_image')
      const noFiles = await api(server, 'POST', '/messages', { sender_id: 1, recipient_id: 2, message: 'hi', message_type: 'file' })
      expect(noFiles.body.error.code).toBe('attachments_required')
      const badId = await api(server, 'POST', '/messages', { sender_id: 1, recipient_id: 2, message: '', attachment_ids: ['../../etc/passwd'] })
      expect(badId.status).toBe(422)
      // Nothing was sent: only its uploader may read it.
      expect((await fetch(`${server.url}${alices.url}?user_id=2`)).status).toBe(404)
    })

    test('refused: a download by anyone but the uploader (before sending) and the members of a conversation it was sent to', async () => {
      const png = await pngOf(9, 9, '#00ff00')
      const up = (await upload(server, png, { name: 'g.png', userId: 1 })).body
      expect((await fetch(`${server.url}${up.url}?user_id=1`)).status).toBe(200)
      expect((await fetch(`${server.url}${up.url}?user_id=2`)).status).toBe(404)
      const dave = await api(server, 'POST', '/users', { username: `dave${Date.now()}` })
      const sent = await api(server, 'POST', '/messages', { sender_id: 1, group_id: 1, message: '', attachment_ids: [up.id] })
      expect(sent.status).toBe(201)
      for (const member of [1, 2, 3]) expect((await fetch(`${server.url}${up.url}?user_id=${member}`)).status).toBe(200)
      const outsider = await fetch(`${server.url}${up.url}?user_id=${dave.body.id}`)
      expect(outsider.status).toBe(404)
      expect(((await outsider.json()) as any).error.code).toBe('attachment_not_found')
      expect((await fetch(`${server.url}${up.url}/thumbnail?user_id=${dave.body.id}`)).status).toBe(404)
      // The same file forwarded to a direct conversation: that conversation's other side may read it too.
      await api(server, 'POST', '/messages', { sender_id: 1, recipient_id: dave.body.id, message: '', attachment_ids: [up.id] })
      expect((await fetch(`${server.url}${up.url}?user_id=${dave.body.id}`)).status).toBe(200)
      expect((await fetch(`${server.url}${up.url}`)).status).toBe(400)
    })

    test('uploads never sent are swept after ATTACHMENT_UNSENT_TTL_SECONDS, with their bytes; sent ones stay', async () => {
      const dir = server.dir + '-sweep'
      const swept = await startServer({ dir, config: { attachmentUnsentTtlSeconds: 1, ...storage.config(dir) } })
      try {
        const kept = new TextEncoder().encode(`kept ${Math.random()}`)
        const lost = new TextEncoder().encode(`lost ${Math.random()}`)
        const a = (await upload(swept, kept, { name: 'kept.txt' })).body
        const b = (await upload(swept, lost, { name: 'lost.txt' })).body
        expect((await api(swept, 'POST', '/messages', { sender_id: 1, recipient_id: 2, message: '', attachment_ids: [a.id] })).status).toBe(201)
        await eventually(async () => expect((await fetch(`${swept.url}${b.url}?user_id=1`)).status).toBe(404), 5000)
        expect(await storage.exists(dir, sha256(lost))).toBe(false)
        expect(await storage.exists(dir, sha256(kept))).toBe(true)
        expect((await fetch(`${swept.url}${a.url}?user_id=2`)).status).toBe(200)
      } finally {
        await swept.stop()
      }
    })

    test('refused: sending an unsent upload once it is close to its sweep (it could go before the commit links it)', async () => {
      const dir = server.dir + '-expiring'
      const expiring = await startServer({ dir, config: { attachmentUnsentTtlSeconds: 2, ...storage.config(dir) } })
      try {
        // No sweep during the test: the refusal is the send's own check.
        expiring.switchboard.attachments.stop()
        const a = (await upload(expiring, 'soon gone', { name: 'a.txt' })).body
        const fresh = await api(expiring, 'POST', '/messages', { sender_id: 1, recipient_id: 2, message: '', attachment_ids: [a.id] })
        expect(fresh.status).toBe(201)
        const b = (await upload(expiring, 'too late', { name: 'b.txt' })).body
        await Bun.sleep(1600)
        const late = await api(expiring, 'POST', '/messages', { sender_id: 1, recipient_id: 2, message: '', attachment_ids: [b.id] })
        expect(late.status).toBe(410)
        expect(late.body.error.code).toBe('attachment_expired')
        // One already sent may be sent again, however old.
        expect((await api(expiring, 'POST', '/messages', { sender_id: 1, recipient_id: 3, message: '', attachment_ids: [a.id] })).status).toBe(201)
      } finally {
        await expiring.stop()
      }
    })

    test('deleting a message deletes its attachments, bytes too when nothing else shares them', async () => {
      const bytes = new TextEncoder().encode(`deleted with its message ${Math.random()}`)
      const up = (await upload(server, bytes, { name: 'gone.txt' })).body
      const sent = await api(server, 'POST', '/messages', { sender_id: 1, recipient_id: 2, message: '', attachment_ids: [up.id] })
      expect(await storage.exists(server.dir, sha256(bytes))).toBe(true)
      expect((await api(server, 'DELETE', `/messages/${sent.body.id}?user_id=1`)).status).toBe(200)
      expect(await storage.exists(server.dir, sha256(bytes))).toBe(false)
      expect((await fetch(`${server.url}${up.url}?user_id=2`)).status).toBe(404)
    })

    test('per-user quota and upload rate', async () => {
      const dir = server.dir + '-quota'
      const limited = await startServer({ dir, config: { attachmentQuotaBytes: 2048, rateLimit: true, uploadsPerSecond: 0.01, uploadsBurst: 3, ...storage.config(dir) } })
      try {
        expect((await upload(limited, new Uint8Array(1500).fill(65), { name: 'a.txt' })).status).toBe(201)
        const over = await upload(limited, new Uint8Array(1500).fill(66), { name: 'b.txt' })
        expect(over.status).toBe(413)
        expect(over.body.error.code).toBe('quota_exceeded')
        expect((await upload(limited, new Uint8Array(100).fill(67), { name: 'c.txt' })).status).toBe(201)
        const fast = await upload(limited, new Uint8Array(10).fill(68), { name: 'd.txt' })
        expect(fast.status).toBe(429)
        expect(Number(fast.headers.get('retry-after'))).toBeGreaterThan(0)
        // Another user has buckets of their own.
        expect((await upload(limited, new Uint8Array(10).fill(69), { name: 'e.txt', userId: 2 })).status).toBe(201)
      } finally {
        await limited.stop()
      }
    })

    test('refused: a body that is not multipart, a form without a file field', async () => {
      const json = await api(server, 'POST', '/attachments?user_id=1', { file: 'x' })
      expect(json.status).toBe(415)
      const form = new FormData()
      form.append('other', 'x')
      const none = await fetch(`${server.url}/attachments?user_id=1`, { method: 'POST', body: form })
      expect(none.status).toBe(400)
      expect(((await none.json()) as any).error.code).toBe('file_required')
      const empty = await upload(server, new Uint8Array(0), { name: 'empty.txt' })
      expect(empty.body.error.code).toBe('empty_file')
    })
  })
}
