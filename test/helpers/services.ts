import { SQL } from 'bun'
import Redis from 'ioredis'

/** The PostgreSQL server tests use: TEST_POSTGRES_URL, else the local one (trust auth). */
export const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
/** The Redis server tests use: TEST_REDIS_URL, else the local one. */
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** Why PostgreSQL cannot be used, or undefined when it answers. */
export async function postgresUnavailable(): Promise<string | undefined> {
  const sql = new SQL(POSTGRES_ADMIN_URL, { max: 1, connectionTimeout: 2 })
  try {
    await sql`select 1`
    return undefined
  } catch (e) {
    return `no PostgreSQL at ${POSTGRES_ADMIN_URL} (${(e as Error).message})`
  } finally {
    await sql.close({ timeout: 1 })
  }
}

/** Why Redis cannot be used, or undefined when it answers. */
export async function redisUnavailable(url = REDIS_URL): Promise<string | undefined> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null })
  redis.on('error', () => {})
  try {
    await redis.connect()
    await redis.ping()
    return undefined
  } catch (e) {
    return `no Redis at ${url} (${(e as Error).message})`
  } finally {
    redis.disconnect()
  }
}

/** A fresh database of our own on the test server; `drop` removes it. */
export async function createTestDatabase(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `switchboard_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  const admin = new SQL(POSTGRES_ADMIN_URL, { max: 1, connectionTimeout: 2 })
  await admin.unsafe(`create database ${name}`)
  const url = new URL(POSTGRES_ADMIN_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    name,
    async drop() {
      await admin.unsafe(`drop database if exists ${name} with (force)`)
      await admin.close({ timeout: 1 })
    },
  }
}
