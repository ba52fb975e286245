import { Database } from 'bun:sqlite'
import { afterEach, describe, expect, test } from 'bun:test'
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { drizzle } from 'drizzle-orm/bun-sqlite'
import { migrate } from 'drizzle-orm/bun-sqlite/migrator'
import { openSqliteStore, type SqliteOptions } from '../../src/db/sqlite-store'
import { directConv } from '../../src/db/store'
import { direct, since, undelivered } from './contract'

/** What the SQLite store does beyond the shared contract: on a real file, across restarts. */
describe('SQLite store on a file', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })
  const newPath = () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-sqlite-'))
    dirs.push(dir)
    return join(dir, 'store.db')
  }
  const WINDOW: SqliteOptions = { idempotencyWindowMs: 60_000, idempotencyMaxKeys: 10_000 }

  test('a resend is recognised after a restart: the window is rebuilt from the stored messages', async () => {
    const path = newPath()
    let store = openSqliteStore(path, WINDOW)
    const [a, b] = [(await store.createUser({ username: 'a' })).id, (await store.createUser({ username: 'b' })).id]
    const [first] = await store.insertMessages([direct(a, b, 'before the crash', { clientId: 'k-1' })])
    await store.close()
    store = openSqliteStore(path, WINDOW)
    const [again] = await store.insertMessages([direct(a, b, 'resent after reconnecting', { clientId: 'k-1' })])
    expect(again).toMatchObject({ duplicate: true, message: { id: first.message.id, body: 'before the crash' } })
    expect(await store.history(directConv(a, b), { limit: 10 })).toHaveLength(1)
    await store.close()
  })

  test('a resend older than the window is stored again (the documented bound)', async () => {
    const store = openSqliteStore(newPath(), { idempotencyWindowMs: 5_000, idempotencyMaxKeys: 10_000 })
    const [a, b] = [(await store.createUser({ username: 'a' })).id, (await store.createUser({ username: 'b' })).id]
    await store.insertMessages([direct(a, b, 'an hour ago', { clientId: 'old', createdAt: Date.now() - 3_600_000 })])
    const [recent] = await store.insertMessages([direct(a, b, 'just now', { clientId: 'recent' })])
    const [old, fresh] = await store.insertMessages([
      direct(a, b, 'an hour ago, resent', { clientId: 'old' }),
      direct(a, b, 'just now, resent', { clientId: 'recent' }),
    ])
    expect(old.duplicate).toBe(false)
    expect(fresh).toMatchObject({ duplicate: true, message: { id: recent.message.id } })
    await store.close()
  })

  test('a hash that names another message is not taken for a resend', async () => {
    const store = openSqliteStore(newPath(), WINDOW)
    const [a, b] = [(await store.createUser({ username: 'a' })).id, (await store.createUser({ username: 'b' })).id]
    const [first] = await store.insertMessages([direct(a, b, 'first', { clientId: 'x' })])
    // As if 'y' hashed like 'x': the store must look at the candidate before answering.
    const window = (store as unknown as { recent: { candidate(s: number, c: string): number | undefined } }).recent
    window.candidate = () => first.message.id
    const [second] = await store.insertMessages([direct(a, b, 'second', { clientId: 'y' })])
    expect(second.duplicate).toBe(false)
    expect(second.message.id).not.toBe(first.message.id)
    await store.close()
  })

  test('a batch that fails stores nothing and forgets its keys: the resend is stored once', async () => {
    const store = openSqliteStore(newPath(), WINDOW)
    const [a, b] = [(await store.createUser({ username: 'a' })).id, (await store.createUser({ username: 'b' })).id]
    const broken = { ...direct(a, b, 'x'), body: null as unknown as string }
    expect(store.insertMessages([direct(a, b, 'hello', { clientId: 'k' }), broken])).rejects.toThrow()
    const [retry] = await store.insertMessages([direct(a, b, 'hello', { clientId: 'k' })])
    expect(retry.duplicate).toBe(false)
    expect((await store.history(directConv(a, b), { limit: 10 })).map((m) => m.body)).toEqual(['hello'])
    expect((await since(store, b, [], 0, 10)).map((m) => m.body)).toEqual(['hello'])
    await store.close()
  })

  test('messages stored since the last pass over conversation_runs are found after a crash', async () => {
    const path = newPath()
    let store = openSqliteStore(path, { ...WINDOW, indexEveryRows: 5 })
    const [a, b, c] = [await store.createUser({ username: 'a' }), await store.createUser({ username: 'b' }), await store.createUser({ username: 'c' })].map((u) => u.id)
    for (let i = 1; i <= 12; i++) await store.insertMessages([direct(i % 3 ? a : c, b, `m${i}`)])
    // Closed with two messages not yet listed, as a crash would leave them (close does not list them).
    await store.close()
    const raw = new Database(path)
    expect(raw.query("select sum(json_array_length(ids)) as n from conversation_runs").get()).toEqual({ n: 10 })
    raw.close()

    store = openSqliteStore(path, { ...WINDOW, indexEveryRows: 5 })
    expect((await store.history(directConv(a, b), { limit: 20 })).map((m) => m.body)).toEqual(['m1', 'm2', 'm4', 'm5', 'm7', 'm8', 'm10', 'm11'])
    expect((await store.history(directConv(c, b), { limit: 2 })).map((m) => m.body)).toEqual(['m9', 'm12'])
    expect((await since(store, b, [], 10, 10)).map((m) => m.body)).toEqual(['m11', 'm12'])
    const [next] = await store.insertMessages([direct(b, c, 'm13')])
    expect((await store.history(directConv(b, c), { after: 9, limit: 5 })).map((m) => m.body)).toEqual(['m12', 'm13'])
    expect(next.message.id).toBe(13)
    await store.close()
  })

  test('upgrading a database from before user_conversations keeps every message findable', async () => {
    const path = newPath()
    // The schema as the first two migrations left it, with messages in it.
    const old = join(path, '..', 'old-migrations')
    cpSync(join(import.meta.dir, '../../src/db/migrations/sqlite'), old, { recursive: true })
    const journal = JSON.parse(readFileSync(join(old, 'meta/_journal.json'), 'utf8'))
    journal.entries = journal.entries.filter((e: { tag: string }) => e.tag.startsWith('0000') || e.tag.startsWith('0001'))
    writeFileSync(join(old, 'meta/_journal.json'), JSON.stringify(journal))
    const client = new Database(path, { create: true })
    migrate(drizzle({ client }), { migrationsFolder: old })
    client.exec(`insert into users (id, username, created_at) values (1, 'a', 0), (2, 'b', 0), (3, 'c', 0)`)
    client.exec(`insert into messages (conv, sender_id, recipient_id, body, client_id, status, created_at) values
      ('d:1:2', 1, 2, 'a to b', 'c-1', 'delivered', ${Date.now()}), ('d:2:3', 3, 2, 'c to b', null, 'sent', ${Date.now()})`)
    client.close()

    const store = openSqliteStore(path, WINDOW)
    expect((await since(store, 2, [], 0, 10)).map((m) => m.body)).toEqual(['a to b', 'c to b'])
    expect((await since(store, 1, [], 0, 10)).map((m) => m.body)).toEqual(['a to b'])
    expect((await store.conversations(2)).map((c) => c.otherUserId).sort()).toEqual([1, 3])
    expect((await store.history('d:1:2', { limit: 10 })).map((m) => m.body)).toEqual(['a to b'])
    const [resent, next] = await store.insertMessages([direct(1, 2, 'a to b again', { clientId: 'c-1' }), direct(2, 1, 'b to a')])
    expect(resent.duplicate).toBe(true)
    expect(next.message.id).toBe(3)
    await store.close()
  })

  test('a thread copies the WAL into the database file while the main connection only commits', async () => {
    const path = newPath()
    const store = openSqliteStore(path, WINDOW)
    const [a, b] = [(await store.createUser({ username: 'a' })).id, (await store.createUser({ username: 'b' })).id]
    const before = statSync(path).size
    // About 3 MB: far below the main connection's own checkpoint threshold (200 MB), so only the
    // thread (and the main connection when the thread says it is done) can have moved it.
    for (let i = 0; i < 15; i++) await store.insertMessages(Array.from({ length: 200 }, () => direct(a, b, 'x'.repeat(1000))))
    const deadline = performance.now() + 5000
    while (statSync(path).size - before < 3_000_000 && performance.now() < deadline) await Bun.sleep(20)
    expect(statSync(path).size - before).toBeGreaterThan(3_000_000)
    await store.close()
  })

  test('under a steady stream of commits the WAL stays small', async () => {
    const path = newPath()
    const store = openSqliteStore(path, WINDOW)
    const [a, b] = [(await store.createUser({ username: 'a' })).id, (await store.createUser({ username: 'b' })).id]
    let written = 0
    const started = performance.now()
    while (performance.now() - started < 2000) {
      await store.insertMessages(Array.from({ length: 200 }, () => direct(a, b, 'x'.repeat(1000))))
      written += 200 * 1000
      await Bun.sleep(2)
    }
    expect(written).toBeGreaterThan(20_000_000)
    expect(statSync(`${path}-wal`).size).toBeLessThan(written / 2)
    await store.close()
  })
})
