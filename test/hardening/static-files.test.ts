// The page's files, asked for in every way a file server gets wrong, against the real entry point:
// a file that is not there, a directory, `..` raw and encoded, encoded slashes, a NUL. Each gets the
// JSON error body (never Bun's development error page, with its working directory and absolute
// paths), and what the process prints is pino's JSON lines (never Bun's multi-line stack).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createApp } from '../../src/app'
import { LocalBroker } from '../../src/broker/broker'
import { defaultConfig } from '../../src/config'
import { openSqliteStore } from '../../src/db/sqlite-store'
import { createLogger } from '../../src/observability/logger'
import { resolvePublicFile } from '../../src/page/routes'
import { rawRequest } from '../helpers/raw-http'
import { spawnServer, tempDir, type SpawnedServer } from './fixtures'

const ROOT = join(import.meta.dir, '..', '..')
let server: SpawnedServer
const dir = tempDir()

beforeAll(async () => {
  server = await spawnServer({ AUTH: 'none', DATABASE_URL: join(dir.dir, 'files.db'), LOG_LEVEL: 'info' })
})
afterAll(async () => {
  server.proc.kill()
  await server.exited
  dir[Symbol.dispose]()
})

/** A GET exactly as written (fetch would normalise `..` and encodings away). */
const get = (target: string) => rawRequest(server.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`)

/** [request target, what is there] */
const missing: [string, string][] = [
  ['/public/no-such-file.txt', 'a missing file'],
  ['/public/', 'the folder itself'],
  ['/public/..%2fpackage.json', 'an encoded slash after ..'],
  ['/public/%2e%2e%2fpackage.json', 'an encoded ..'],
  ['/public/..%2f..%2f..%2fetc%2fpasswd', 'an encoded climb to /etc/passwd'],
  ['/public/%2fetc%2fpasswd', 'an encoded absolute path'],
  ['/public//etc/passwd', 'a doubled slash'],
  ['/public/../package.json', 'a raw ..'],
  ['/public/style.css%00.txt', 'a NUL'],
  ['/public/%ZZ', 'a malformed escape'],
]

describe('what is not a file of the page gets 404 with the JSON error body', () => {
  test.each(missing)('%s (%s)', async (target) => {
    const res = await get(target)
    expect(res.status).toBe(404)
    expect(res.head).toMatch(/content-type: application\/json/i)
    expect(JSON.parse(res.body).error.code).toBe('not_found')
    expect(res.body).not.toContain(ROOT)
  })
})

test('the page and its files are still served', async () => {
  const page = await get('/')
  expect(page.status).toBe(200)
  expect(page.body).toContain('<!doctype html>')
  const css = await get('/public/style.css')
  expect(css.status).toBe(200)
  expect(css.head).toMatch(/content-type: text\/css/i)
  expect((await get('/public/./style.css')).status).toBe(200)
})

test('everything the process printed is a pino JSON line, apart from the start-up banner', async () => {
  for (const [target] of missing) await get(target)
  await Bun.sleep(100)
  const lines = server.output().split('\n').filter((line) => line.trim() !== '')
  const banner = (line: string) => line.startsWith('switchboard listening on ') || line.startsWith('*** WARNING: AUTH=none')
  const notJson = lines.filter((line) => !banner(line)).filter((line) => {
    try {
      return typeof JSON.parse(line).level !== 'number'
    } catch {
      return true
    }
  })
  expect(notJson).toEqual([])
  // The refusals were logged, as request lines with their status.
  expect(lines.filter((line) => line.includes('"status":404')).length).toBeGreaterThanOrEqual(missing.length)
})

test('resolvePublicFile: only regular files inside the folder, whatever the path says', async () => {
  using d = tempDir()
  const root = join(d.dir, 'public')
  mkdirSync(join(root, 'sub'), { recursive: true })
  writeFileSync(join(root, 'a.css'), 'a')
  writeFileSync(join(root, 'sub', 'b.css'), 'b')
  // A sibling whose name starts with the folder's: a prefix test on the path would let it through.
  mkdirSync(join(d.dir, 'public-secret'))
  writeFileSync(join(d.dir, 'public-secret', 'key'), 'secret')
  symlinkSync(join(d.dir, 'public-secret'), join(root, 'link'))
  expect(await resolvePublicFile(root, 'a.css')).toBe(join(root, 'a.css'))
  expect(await resolvePublicFile(root, 'sub/b.css')).toBe(join(root, 'sub', 'b.css'))
  expect(await resolvePublicFile(root, 'sub%2fb.css')).toBe(join(root, 'sub', 'b.css'))
  for (const path of ['', 'sub', 'sub/', 'nope.css', '../public-secret/key', '..%2fpublic-secret%2fkey', '/etc/passwd', 'a.css%00', '%E0%A4%A', 'link/key'])
    expect({ path, resolved: await resolvePublicFile(root, path) }).toEqual({ path, resolved: null })
})

test('a response that fails after its handler returned gets the JSON 500, logged by the injected logger', async () => {
  const lines: { msg: string; err?: { code?: string } }[] = []
  const logger = createLogger('error', { write: (line: string) => void lines.push(JSON.parse(line)) })
  const store = openSqliteStore(':memory:', defaultConfig())
  const switchboard = createApp({ store, broker: new LocalBroker(), config: defaultConfig({ logLevel: 'error' }), logger })
  // Stands for any body Bun fails to send: the file is gone by the time it is read.
  switchboard.app.get('/vanished', () => Bun.file(join(dir.dir, 'vanished.txt')))
  await switchboard.start()
  switchboard.listen({ port: 0, hostname: '127.0.0.1' })
  try {
    const res = await fetch(`http://127.0.0.1:${switchboard.app.server!.port}/vanished`)
    expect(res.status).toBe(500)
    expect(await res.json()).toEqual({ error: { code: 'internal', message: 'internal error' } })
    expect(lines.map((l) => [l.msg, l.err?.code])).toContainEqual(['response failed', 'ENOENT'])
  } finally {
    await switchboard.stop()
    await store.close()
  }
})
