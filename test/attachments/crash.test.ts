// A server killed with SIGKILL in the middle of an upload (the real entry point, as a child
// process) leaves no file under any key and no record: only a spool file, which no key names and
// which a later start removes once it is stale.
import { Database } from 'bun:sqlite'
import { expect, test } from 'bun:test'
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { spawnServer, tempDir } from '../hardening/fixtures'
import { eventually } from '../helpers/server'
import { multipartBody, upload } from '../helpers/uploads'

/** Every file under the attachments folder but its spool, as paths relative to it. */
function storedFiles(root: string): string[] {
  if (!existsSync(root)) return []
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !join(e.parentPath, e.name).startsWith(join(root, 'tmp')))
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
}

test('kill -9 mid-upload: no half file under a key, no record; the stale spool file is removed at the next start', async () => {
  using dir = tempDir()
  const dbPath = join(dir.dir, 'crash.db')
  const root = join(dir.dir, 'attachments')
  const env = { AUTH: 'none', RATE_LIMIT: 'off', SEED_DEMO: '1', DATABASE_URL: dbPath, LOG_LEVEL: 'error' }
  const first = await spawnServer(env)

  const file = new Uint8Array(4 * 1024 * 1024).fill(120)
  const { body, contentType } = multipartBody(file, 'half.bin')
  const socket = connect({ host: '127.0.0.1', port: first.port })
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  socket.on('error', () => {})
  socket.write(`POST /attachments?user_id=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n\r\n`)
  socket.write(body.subarray(0, body.length / 2))
  // Half of it has reached the spool file: the upload is under way.
  const spool = join(root, 'tmp')
  await eventually(() => {
    const parts = existsSync(spool) ? readdirSync(spool) : []
    expect(parts.length).toBe(1)
    expect(statSync(join(spool, parts[0])).size).toBeGreaterThan(1024 * 1024)
  }, 5000)
  first.proc.kill('SIGKILL')
  expect(await first.exited).not.toBe(0)
  socket.destroy()

  expect(storedFiles(root)).toEqual([])
  const db = new Database(dbPath)
  expect(db.query('select count(*) as n from attachments').get()).toEqual({ n: 0 })
  db.close()

  // What it left is a spool file; made stale, the next start removes it, and uploads work again.
  const [leftover] = readdirSync(spool)
  const twoHoursAgo = new Date(Date.now() - 2 * 3600_000)
  utimesSync(join(spool, leftover), twoHoursAgo, twoHoursAgo)
  const second = await spawnServer(env)
  try {
    expect(existsSync(join(spool, leftover))).toBe(false)
    const text = await upload(second, 'fine', { name: 'ok.txt' })
    expect(text.status).toBe(201)
    expect(storedFiles(root).length).toBe(1)
  } finally {
    second.proc.kill('SIGKILL')
    await second.exited
  }
}, 30_000)
