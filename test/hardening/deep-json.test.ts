// JSON nested far deeper than any request of this API: a REST body that validation would walk
// (and Elysia's error message stringify) until the stack overflows, and the same on the WebSocket
// with a frame limit large enough to carry it. Each gets a 400 / an error frame, quickly.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startServer, type TestServer, storedMessages } from '../helpers/server'
import { TestClient } from '../helpers/ws-client'
import { UPLOAD_ROUTE } from '../../src/attachments/routes'

let server: TestServer

beforeAll(async () => {
  server = await startServer({ config: { maxFrameBytes: 1024 * 1024, maxBodyBytes: 1024 * 1024 } })
})
afterAll(() => server?.[Symbol.asyncDispose]())

const arrays = (n: number) => '['.repeat(n) + ']'.repeat(n)
const objects = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)

/** Where the nesting sits in a body that is otherwise a valid message. */
const shapes: [string, (n: number) => string][] = [
  ['the whole body', arrays],
  ['nested objects as the whole body', objects],
  ['a known field', (n) => `{"sender_id":1,"recipient_id":2,"message":"hi","client_id":${arrays(n)}}`],
  ['an unknown field', (n) => `{"sender_id":1,"recipient_id":2,"message":"hi","extra":${objects(n)}}`],
]

// POST /attachments is the one body that is not JSON (multipart, never parsed as JSON): it answers
// a JSON body 415, whatever its depth (test/attachments/suite.ts).
const bodyRoutes = () =>
  (server.switchboard.app.routes as { method: string; path: string }[]).filter(
    (r) => r.method !== 'GET' && r.method !== 'WS' && !(r.method === UPLOAD_ROUTE.method && r.path === UPLOAD_ROUTE.path),
  )

test('every REST route but GET answers 400 nesting_too_deep to a body 100 000 levels deep, wherever the nesting is', async () => {
  const started = performance.now()
  const seen: Record<string, string> = {}
  for (const route of bodyRoutes())
    for (const [where, body] of shapes) {
      const res = await fetch(server.url + route.path.replace(/:[a-z_]+/g, '1'), { method: route.method, headers: { 'content-type': 'application/json' }, body: body(100_000) })
      seen[`${route.path}: ${where}`] = `${res.status} ${((await res.json()) as { error?: { code: string } }).error?.code}`
    }
  expect(Object.keys(seen).length).toBeGreaterThanOrEqual(4 * shapes.length)
  expect(Object.values(seen).filter((answer) => answer !== '400 nesting_too_deep')).toEqual([])
  // Each used to cost seconds of CPU before its 500.
  expect(performance.now() - started).toBeLessThan(5000)
  expect(await storedMessages(server.store)).toBe(0)
})

test('just beyond the limit is refused; a body as deep as the API needs is not', async () => {
  const deep = await fetch(`${server.url}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: shapes[3][1](33) })
  expect(deep.status).toBe(400)
  expect(((await deep.json()) as any).error).toEqual({ code: 'nesting_too_deep', message: 'the JSON body nests deeper than 32 levels' })
  const group = await fetch(`${server.url}/groups`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'g', member_ids: [1, 2] }) })
  expect(group.status).toBe(201)
})

test('the WebSocket answers a 100 000-deep frame with an error frame and carries on', async () => {
  const alice = await TestClient.connect(server.wsUrl, '/ws/1')
  const bob = await TestClient.connect(server.wsUrl, '/ws/2')
  const frames: [string, string][] = [
    ['the whole frame', arrays(100_000)],
    ['nested objects as the whole frame', objects(100_000)],
    ['a known field', `{"type":"message","recipient_id":2,"message":${arrays(100_000)}}`],
    ['an unknown field', `{"type":"ping","x":${objects(100_000)}}`],
  ]
  const seen: Record<string, string> = {}
  for (const [where, frame] of frames) {
    alice.sendRaw(frame)
    seen[where] = (await alice.next('error')).code
  }
  expect(seen).toEqual(Object.fromEntries(frames.map(([where]) => [where, 'invalid_frame'])))
  alice.send({ type: 'message', recipient_id: 2, message: 'still here' })
  expect((await bob.next('message')).message).toBe('still here')
  alice.close()
  bob.close()
})
