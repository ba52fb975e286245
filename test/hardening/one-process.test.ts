// One process per port and per SQLite file. Two processes on one port split its connections
// between them (the kernel balances a port bound with SO_REUSEPORT), and two on one SQLite file
// each keep their own idempotency window and conversation index, so history is corrupted: a
// second `npm start` must refuse, loudly, instead of starting beside the first.
import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { loadConfig } from '../../src/config'
import { openSqliteStore } from '../../src/db/sqlite-store'
import { runToExit, spawnServer, tempDir } from './fixtures'

const env = { AUTH: 'none', RATE_LIMIT: 'off', LOG_LEVEL: 'warn' }

test('a second process on the same SQLite file refuses to start, whatever the port; after kill -9 of the first, a new one starts', async () => {
  using dir = tempDir()
  const db = join(dir.dir, 'one.db')
  const first = await spawnServer({ ...env, DATABASE_URL: db })
  try {
    const second = await runToExit({ ...env, DATABASE_URL: db })
    expect(second.code).toBe(2)
    expect(second.output).toContain(`cannot open the database: ${db} is in use by another process`)
    // The first one is unaffected and still the only one serving.
    expect((await fetch(`${first.url}/health`)).status).toBe(200)
  } finally {
    first.proc.kill('SIGKILL')
    await first.exited
  }
  // The kernel releases the lock of a killed process: no stale lock to clean up by hand.
  const third = await spawnServer({ ...env, DATABASE_URL: db })
  expect((await fetch(`${third.url}/health`)).status).toBe(200)
  third.proc.kill('SIGTERM')
  expect(await third.exited).toBe(0)
}, 60_000)

test('a second process on a busy port exits with code 2 and says so, instead of sharing the port', async () => {
  using dir = tempDir()
  const first = await spawnServer({ ...env, DATABASE_URL: join(dir.dir, 'a.db') })
  try {
    const second = await runToExit({ ...env, DATABASE_URL: join(dir.dir, 'b.db'), PORT: String(first.port) })
    expect(second.code).toBe(2)
    expect(second.output).toContain(`port ${first.port} is in use`)
    expect(second.output).not.toContain('switchboard listening')
  } finally {
    first.proc.kill('SIGTERM')
    await first.exited
  }
}, 60_000)

test('in one process too: a second store on an open SQLite file is refused until the first is closed', async () => {
  using dir = tempDir()
  const path = join(dir.dir, 'store.db')
  const store = openSqliteStore(path)
  expect(() => openSqliteStore(path)).toThrow(`${path} is in use by another process`)
  await store.close()
  const again = openSqliteStore(path)
  await again.close()
})

test('REUSE_PORT=1 is accepted only with the Redis broker and PostgreSQL', () => {
  const refused = (extra: Record<string, string>) => {
    try {
      loadConfig({ AUTH: 'none', REUSE_PORT: '1', ...extra })
      return 'accepted'
    } catch (e) {
      return (e as Error).message
    }
  }
  expect(refused({})).toContain('REUSE_PORT')
  expect(refused({ REDIS_URL: 'redis://localhost:6379' })).toContain('REUSE_PORT')
  expect(refused({ DATABASE_URL: 'postgres://u:p@localhost/db' })).toContain('REUSE_PORT')
  expect(refused({ REDIS_URL: 'redis://localhost:6379', DATABASE_URL: 'data/x.db' })).toContain('DATABASE_URL')
  expect(loadConfig({ AUTH: 'none', REUSE_PORT: '1', REDIS_URL: 'redis://localhost:6379', DATABASE_URL: 'postgres://u:p@localhost/db' }).reusePort).toBe(true)
  expect(loadConfig({ AUTH: 'none' }).reusePort).toBe(false)
})
