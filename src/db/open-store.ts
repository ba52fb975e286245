import { isPostgresUrl, openPgStore } from './pg-store'
import { DEFAULT_SQLITE_OPTIONS, openSqliteStore, type SqliteOptions } from './sqlite-store'
import type { Store } from './store'

/** Opens the store DATABASE_URL names: postgres://… for PostgreSQL, else a SQLite path or :memory:. */
export async function openStore(databaseUrl: string, sqlite: SqliteOptions = DEFAULT_SQLITE_OPTIONS): Promise<Store> {
  return isPostgresUrl(databaseUrl) ? openPgStore(databaseUrl) : openSqliteStore(databaseUrl, sqlite)
}
