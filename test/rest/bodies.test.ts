// Request bodies at every size, framed every way a client can frame them (RFC 9112 §6: a
// Content-Length, chunked transfer coding, or a Content-Length that does not match the bytes), and
// in every media type: whatever is refused gets a status with the JSON error body, never Bun's
// empty answer, and nothing is stored.
import { describe, expect, test } from 'bun:test'
import { rawExchange, type RawResponse } from '../helpers/raw-http'
import { api, startServer, storedMessages } from '../helpers/server'

const LIMIT = 4096

/** A JSON body of exactly `size` bytes that creates a user when it is small enough. */
function userBody(size: number, name = `u${size}`): string {
  const empty = JSON.stringify({ username: name, display_name: '' })
  if (size < empty.length) throw new Error(`no body of ${size} bytes`)
  if (size === empty.length + 0) return empty
  return JSON.stringify({ username: name, display_name: 'y'.repeat(size - empty.length) })
}

const head = (lines: string[]) => `POST /users HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n${lines.map((l) => l + '\r\n').join('')}\r\n`
// The client asks to close after the answer, so that the exchange ends when the server is done.
const closing = (lines: string[]) => head([...lines, 'Connection: close'])

function chunked(body: string, chunkSize: number): string {
  let out = ''
  for (let i = 0; i < body.length; i += chunkSize) {
    const part = body.slice(i, i + chunkSize)
    out += `${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`
  }
  return out + '0\r\n\r\n'
}

type Framing = { name: string; bytes: (body: string) => string; declared: (size: number) => number | null }
const framings: Framing[] = [
  { name: 'Content-Length', bytes: (b) => closing([`Content-Length: ${b.length}`]) + b, declared: (n) => n },
  { name: 'chunked, one chunk', bytes: (b) => closing(['Transfer-Encoding: chunked']) + chunked(b, b.length), declared: () => null },
  { name: 'chunked, 1 KiB chunks', bytes: (b) => closing(['Transfer-Encoding: chunked']) + chunked(b, 1024), declared: () => null },
  { name: 'a Content-Length 100 larger than the body', bytes: (b) => closing([`Content-Length: ${b.length + 100}`]) + b, declared: (n) => n + 100 },
  // Kept alive: the bytes beyond the declared length would be read as a second request.
  { name: 'a Content-Length half the body', bytes: (b) => head([`Content-Length: ${Math.floor(b.length / 2)}`]) + b, declared: (n) => Math.floor(n / 2) },
]
const sizes = [100, LIMIT, LIMIT + 1, 64 * 1024, 1024 * 1024, 5_000_000, 20_000_000]

/** Every response on the wire carries a JSON body; an error one has a code and a message. */
function expectJsonResponses(responses: RawResponse[]) {
  expect(responses.length).toBeGreaterThan(0)
  for (const r of responses) {
    expect(r.head).toMatch(/content-type: application\/json/i)
    const body = JSON.parse(r.body)
    if (r.status >= 400) {
      expect(body.error.code).toBeString()
      expect(body.error.message).toBeString()
    }
  }
}

describe('request bodies at every size and framing', () => {
  const cases = framings.flatMap((f) => sizes.map((size) => [f.name, size, f] as const))
  test.each(cases)('%s, %d bytes: a JSON answer, and a JSON error for any refusal', async (_name, size, framing) => {
    await using server = await startServer({ seed: false, config: { maxBodyBytes: LIMIT, bodyTimeoutMs: 1000 } })
    const body = userBody(size)
    const declared = framing.declared(size)
    const exchange = await rawExchange(server.port, framing.bytes(body), { timeoutMs: 5000 })
    const [first, ...after] = exchange.responses
    expectJsonResponses([first])
    if (declared !== null && declared < size && after.length > 0) {
      // The bytes beyond the declared length reach Bun's HTTP parser as a second request, which
      // it refuses itself, with a fixed bare 400 that no hook can change, while the first is
      // being answered. Nothing more follows: the connection is closed.
      expect(after).toHaveLength(1)
      expect(after[0].status).toBe(400)
      expect(after[0].body).toBe('')
    } else expect(after).toHaveLength(0)
    const error = JSON.parse(first.body).error
    const read = declared ?? size
    if (read > LIMIT) {
      // Declared too large (refused before reading) or found too large while reading.
      expect(first.status).toBe(413)
      expect(error.code).toBe('body_too_large')
      expect(error.message).toContain(`${LIMIT} bytes`)
    } else if (declared !== null && declared > size) {
      // The rest of the declared body never comes: refused before Bun's idle timeout would close the connection silently.
      expect(first.status).toBe(408)
      expect(error.code).toBe('body_timeout')
    } else if (declared !== null && declared < size) {
      // Half a JSON text is not JSON; what follows it must not be read as the next request.
      expect(first.status).toBe(400)
      expect(error.code).toBe('invalid_json')
    } else {
      expect(first.status).toBe(size === 100 ? 201 : 422)
    }
    if (first.status >= 400) {
      // A refused body may be unread: the server closes rather than read on to find the next request.
      expect(exchange.closedByServer).toBe(true)
      expect(await server.store.getUser(1)).toBeUndefined()
    }
  })

  test('a 5 MB body at the default limit gets the JSON 413 over fetch, and the server serves on', async () => {
    await using server = await startServer({ seed: false })
    const res = await api(server, 'POST', '/users', userBody(5_000_000))
    expect(res.status).toBe(413)
    expect(res.body.error.code).toBe('body_too_large')
    expect((await api(server, 'POST', '/users', { username: 'after' })).status).toBe(201)
  })

  test('a body that arrives slowly but steadily is read to the end', async () => {
    await using server = await startServer({ seed: false, config: { bodyTimeoutMs: 1000 } })
    const body = userBody(100)
    const parts = [closing(['Transfer-Encoding: chunked']), ...chunked(body, 10).match(/[\s\S]{1,20}/g)!]
    const exchange = await rawExchange(server.port, parts, { pauseMs: 100, timeoutMs: 8000 })
    expect(exchange.responses[0]?.status).toBe(201)
  })
})

describe('JSON only', () => {
  const routes: [string, string][] = [
    ['/users', 'username=frank'],
    ['/groups', 'name=g&member_ids=1'],
    ['/messages', 'sender_id=1&recipient_id=2&message=hi'],
    ['/groups/1/members', 'user_id=3'],
  ]
  const bodies: [string, (form: string) => { type: string | null; body: string | FormData }][] = [
    ['a urlencoded form', (form) => ({ type: 'application/x-www-form-urlencoded', body: form })],
    ['a multipart form', (form) => ({ type: null, body: toFormData(form) })],
    ['plain text', (form) => ({ type: 'text/plain', body: form })],
    ['JSON sent as text/plain', () => ({ type: 'text/plain', body: '{"username":"frank"}' })],
    ['JSON with no Content-Type', () => ({ type: null, body: new TextEncoder().encode('{"username":"frank"}') as any })],
  ]
  const cases = routes.flatMap(([path, form]) => bodies.map(([name, make]) => [name, path, form, make] as const))

  test.each(cases)('%s to POST %s is 415 with the JSON error, and nothing is created', async (_name, path, form, make) => {
    await using server = await startServer()
    const { type, body } = make(form)
    const res = await fetch(server.url + path, { method: 'POST', headers: type ? { 'content-type': type } : {}, body })
    expect(res.status).toBe(415)
    expect(res.headers.get('content-type')).toContain('application/json')
    const error = (await res.json()).error
    expect(error.code).toBe('unsupported_media_type')
    expect(error.message).toContain('application/json')
    expect(await server.store.getUser(4)).toBeUndefined()
    expect(await server.store.getGroup(2)).toBeUndefined()
    expect((await server.store.getGroup(1))!.memberIds).toEqual([1, 2, 3])
    expect(await storedMessages(server.store)).toBe(0)
  })

  test.each(['application/json', 'application/json; charset=utf-8', 'Application/JSON'])('%s is accepted', async (type) => {
    await using server = await startServer()
    const res = await fetch(server.url + '/users', { method: 'POST', headers: { 'content-type': type }, body: '{"username":"frank"}' })
    expect(res.status).toBe(201)
  })

  test('routes that take no body still answer a request without one', async () => {
    await using server = await startServer()
    const sent = await api(server, 'POST', '/messages', { sender_id: 1, recipient_id: 2, message: 'hi' })
    const read = await fetch(`${server.url}/messages/${sent.body.id}/read`, { method: 'PUT', headers: { 'content-type': 'application/json' } })
    expect(read.status).toBe(200)
    expect((await fetch(`${server.url}/groups/1/members/3`, { method: 'DELETE' })).status).toBe(200)
  })
})

function toFormData(form: string): FormData {
  const data = new FormData()
  for (const [k, v] of new URLSearchParams(form)) data.append(k, v)
  return data
}
