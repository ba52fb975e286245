// Requests no ordinary client sends, against the real entry point in a process of its own: each
// gets an HTTP error with the JSON body, and the server keeps answering everyone else.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { rawRequest } from '../helpers/raw-http'
import { spawnServer, tempDir, type SpawnedServer } from './fixtures'

let server: SpawnedServer
const dir = tempDir()

beforeAll(async () => {
  server = await spawnServer({ AUTH: 'none', DATABASE_URL: join(dir.dir, 'malformed.db'), SEED_DEMO: '1' })
})

afterAll(async () => {
  server.proc.kill()
  await server.exited
  dir[Symbol.dispose]()
})

async function healthy(): Promise<boolean> {
  const res = await fetch(`${server.url}/health`).catch(() => null)
  return res?.status === 200
}

/** [name, raw request, expected status] */
const table: [string, string, number][] = [
  ['a Host with a port beyond 65535', 'GET /health HTTP/1.1\r\nHost: x:99999\r\n\r\n', 400],
  ['an empty Host', 'GET /health HTTP/1.1\r\nHost:\r\n\r\n', 400],
  ['HTTP/1.0 without Host', 'GET /health HTTP/1.0\r\n\r\n', 400],
  ['a Host that is not a host name', 'GET /health HTTP/1.1\r\nHost: [::1\r\n\r\n', 400],
  ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 405],
  ['a bad Host on an authorized route', 'GET /messages/conversations/1 HTTP/1.1\r\nHost: x:99999\r\n\r\n', 400],
  ['a bad Host on a WebSocket upgrade', 'GET /ws/1 HTTP/1.1\r\nHost: x:99999\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n', 400],
  ['a bad Host with a JSON body', 'POST /users HTTP/1.1\r\nHost: x:99999\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}', 400],
]

test.each(table)('%s gets a JSON error and the server stays up', async (_name, request, expected) => {
  const res = await rawRequest(server.port, request)
  if (res.status !== 0) {
    expect(res.status).toBe(expected)
    expect(JSON.parse(res.body).error.code).toBeString()
  }
  // Bun itself may refuse some of these before the app sees them (a status of its own, or a
  // closed connection); what matters most is that the process is still serving.
  expect(res.status === 0 || res.status >= 400).toBe(true)
  expect(await healthy()).toBe(true)
  expect(server.proc.exitCode).toBeNull()
})

test('a burst of malformed requests leaves the server answering', async () => {
  const bursts = await Promise.all(Array.from({ length: 50 }, (_, i) => rawRequest(server.port, table[i % table.length][1])))
  expect(bursts.every((r) => r.status === 0 || r.status >= 400)).toBe(true)
  expect(await healthy()).toBe(true)
  expect(server.output()).not.toContain('Invalid URL')
})
