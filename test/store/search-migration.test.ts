// The migration that adds the full-text index, run on databases made by the migrations before it
// and already holding messages: those are found by search at once, and later writes keep the
// index in step.
import { expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { SQL } from 'bun'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { drizzle as drizzleSqlite } from 'drizzle-orm/bun-sqlite'
import { migrate as migrateSqlite } from 'drizzle-orm/bun-sqlite/migrator'
import { drizzle as drizzlePg } from 'drizzle-orm/bun-sql'
import { migrate as migratePg } from 'drizzle-orm/bun-sql/migrator'
import { directConv, type Store } from '../../src/db/store'
import { openPgStore } from '../../src/db/pg-store'
import { openSqliteStore } from '../../src/db/sqlite-store'
import { createTestDatabase, postgresUnavailable } from '../helpers/services'
import { direct } from './contract'

const MIGRATIONS = join(import.meta.dir, '..', '..', 'src', 'db', 'migrations')
const TAG = 'message_search'

/** A copy of a migrations folder that stops before the migration under test. */
function migrationsBefore(dialect: 'sqlite' | 'pg', dir: string): string {
  const folder = join(dir, dialect)
  cpSync(join(MIGRATIONS, dialect), folder, { recursive: true })
  const journalPath = join(folder, 'meta', '_journal.json')
  const journal = JSON.parse(readFileSync(journalPath, 'utf8'))
  const at = journal.entries.findIndex((e: { tag: string }) => e.tag.endsWith(TAG))
  expect(at).toBeGreaterThan(0)
  journal.entries = journal.entries.slice(0, at)
  writeFileSync(journalPath, JSON.stringify(journal))
  return folder
}

const OLD = [
  ['d:1:2', 1, 2, 'stored before the index: café'],
  ['d:1:2', 2, 1, 'also old, Привет'],
] as const

/** The old messages found, and a new one too; closes the store. */
async function expectIndexed(store: Store): Promise<void> {
  try {
    const find = async (token: string) => (await store.searchMessages({ userId: 1, terms: [{ tokens: [token], prefix: false }], limit: 10 })).map((m) => m.body)
    expect(await find('café')).toEqual([OLD[0][3]])
    expect(await find('привет')).toEqual([OLD[1][3]])
    expect(await find('old')).toEqual([OLD[1][3]])
    await store.insertMessages([direct(1, 2, 'new after the index')])
    expect(await find('index')).toEqual(['new after the index', OLD[0][3]])
    expect((await store.history(directConv(1, 2), { limit: 10 })).length).toBe(3)
  } finally {
    await store.close()
  }
}

test('SQLite: messages stored before the index are found by search', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-migration-'))
  try {
    const file = join(dir, 'old.db')
    const old = new Database(file)
    migrateSqlite(drizzleSqlite(old), { migrationsFolder: migrationsBefore('sqlite', dir) })
    for (const name of ['alice', 'bob']) old.run('insert into users (username, created_at) values (?, ?)', [name, Date.now()])
    for (const [conv, from, to, body] of OLD) {
      old.run('insert into messages (conv, sender_id, recipient_id, body, created_at) values (?, ?, ?, ?, ?)', [conv, from, to, body, Date.now()])
      old.run('insert or ignore into user_conversations (user_id, conv) values (?, ?), (?, ?)', [from, conv, to, conv])
    }
    old.close()

    await expectIndexed(openSqliteStore(file))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

const skipReason = await postgresUnavailable()
test.skipIf(!!skipReason)(`PostgreSQL: messages stored before the index are found by search${skipReason ? ` (skipped: ${skipReason})` : ''}`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-migration-'))
  const database = await createTestDatabase()
  try {
    const client = new SQL(database.url, { max: 1 })
    await migratePg(drizzlePg({ client }), { migrationsFolder: migrationsBefore('pg', dir) })
    for (const name of ['alice', 'bob']) await client`insert into users (username, created_at) values (${name}, ${Date.now()})`
    for (const [conv, from, to, body] of OLD)
      await client`insert into messages (conv, sender_id, recipient_id, body, created_at) values (${conv}, ${from}, ${to}, ${body}, ${Date.now()})`
    await client.close({ timeout: 1 })

    await expectIndexed(await openPgStore(database.url))
  } finally {
    await database.drop()
    rmSync(dir, { recursive: true, force: true })
  }
})
