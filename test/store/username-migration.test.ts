// The migration that makes usernames unique without regard to case, run on databases made by the
// migrations before it and holding names that differ only in case: the oldest keeps its name, the
// later ones get '-<id>', and nothing else changes.
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
import { ConflictError, type Store } from '../../src/db/store'
import { openPgStore } from '../../src/db/pg-store'
import { openSqliteStore } from '../../src/db/sqlite-store'
import { createTestDatabase, postgresUnavailable } from '../helpers/services'

const MIGRATIONS = join(import.meta.dir, '..', '..', 'src', 'db', 'migrations')
const TAG = 'usernames_without_case'

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

const before = ['alice', 'Alice', 'bob', 'ALICE', 'carol', 'Bob']
const after = ['alice', 'Alice-2', 'bob', 'ALICE-4', 'carol', 'Bob-6']

/** The renamed users, the rule in force, and no id used up by a refusal; closes the store. */
async function expectMigrated(store: Store): Promise<void> {
  try {
    for (let id = 1; id <= before.length; id++) expect((await store.getUser(id))!.username).toBe(after[id - 1])
    await expect(store.createUser({ username: 'CAROL' })).rejects.toBeInstanceOf(ConflictError)
    expect((await store.createUser({ username: 'dave' })).id).toBe(before.length + 1)
  } finally {
    await store.close()
  }
}

test('SQLite: case duplicates are renamed, the oldest keeps its name, and the rule holds after', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-migration-'))
  try {
    const file = join(dir, 'old.db')
    const old = new Database(file)
    migrateSqlite(drizzleSqlite(old), { migrationsFolder: migrationsBefore('sqlite', dir) })
    for (const name of before) old.run('insert into users (username, created_at) values (?, ?)', [name, Date.now()])
    old.close()

    await expectMigrated(openSqliteStore(file))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

const skipReason = await postgresUnavailable()
test.skipIf(!!skipReason)(`PostgreSQL: case duplicates are renamed the same way${skipReason ? ` (skipped: ${skipReason})` : ''}`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-migration-'))
  const database = await createTestDatabase()
  try {
    const client = new SQL(database.url, { max: 1 })
    await migratePg(drizzlePg({ client }), { migrationsFolder: migrationsBefore('pg', dir) })
    for (const name of before) await client`insert into users (username, created_at) values (${name}, ${Date.now()})`
    await client.close({ timeout: 1 })

    await expectMigrated(await openPgStore(database.url))
  } finally {
    await database.drop()
    rmSync(dir, { recursive: true, force: true })
  }
})
