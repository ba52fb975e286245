import { isPostgresUrl, openPgStore } from './pg-store'
import { openSqliteStore } from './sqlite-store'
import type { Store } from './store'

/** Opens the store DATABASE_URL names: postgres://… for PostgreSQL, else a SQLite path or :memory:. */
export async function openStore(databaseUrl: string): Promise<Store> {
  return isPostgresUrl(databaseUrl) ? openPgStore(databaseUrl) : openSqliteStore(databaseUrl)
}
