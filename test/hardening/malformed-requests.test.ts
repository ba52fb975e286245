// Requests no ordinary client sends, against the real entry point in a process of its own: each
// gets an HTTP error with the JSON body, and the server keeps answering everyone else.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { rawRequest } from '../helpers/raw-http'
import { spawnServer, tempDir, type SpawnedServer } from './fixtures'
import { MALFORMED_REQUESTS as table } from './malformed-cases'

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

test('a four-letter Host, and a short one with a port, are served', async () => {
  for (const host of ['host', 'x:8000', '[::1]']) {
    const res = await rawRequest(server.port, `GET /health HTTP/1.1\r\nHost: ${host}\r\n\r\n`)
    expect(res.status).toBe(200)
  }
})

test('a burst of malformed requests leaves the server answering', async () => {
  const bursts = await Promise.all(Array.from({ length: 50 }, (_, i) => rawRequest(server.port, table[i % table.length][1])))
  expect(bursts.every((r) => r.status === 0 || r.status >= 400)).toBe(true)
  expect(await healthy()).toBe(true)
  expect(server.output()).not.toContain('Invalid URL')
})
