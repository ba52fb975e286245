import { createApp } from '../../src/app'
import { RedisBroker } from '../../src/broker/redis'
import { defaultConfig, type Config } from '../../src/config'
import { openPgStore, type PgStore } from '../../src/db/pg-store'
import { seedDemo } from '../../src/db/seed'
import Redis from 'ioredis'
import { createLogger } from '../../src/observability/logger'
import { createTestDatabase } from '../helpers/services'

export interface Instance {
  name: string
  url: string
  wsUrl: string
  switchboard: ReturnType<typeof createApp>
  broker: RedisBroker
  store: PgStore
  /** A clean stop: sockets closed with 1001, presence removed at once. */
  stop(): Promise<void>
  /** Dies without a goodbye: no more heartbeats, nothing removed from Redis, the server gone. */
  crash(): Promise<void>
}

/** One Switchboard instance in cluster mode, on port 0, sharing `databaseUrl` and Redis with its peers. */
export async function startInstance(opts: {
  name: string
  databaseUrl: string
  redisUrl: string
  prefix: string
  presenceTtlMs: number
  /** Settings beyond the cluster's own (an ADMIN_TOKEN, limits). */
  config?: Partial<Config>
}): Promise<Instance> {
  const config = defaultConfig({
    databaseUrl: opts.databaseUrl,
    redisUrl: opts.redisUrl,
    redisPrefix: opts.prefix,
    presenceTtlMs: opts.presenceTtlMs,
    instanceId: opts.name,
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    ...opts.config,
  })
  const store = await openPgStore(opts.databaseUrl, { max: 4, connectTimeoutSeconds: 1 })
  // Silent: the outage tests cut Redis and PostgreSQL off on purpose.
  const logger = createLogger(config.logLevel)
  const broker = new RedisBroker({ url: opts.redisUrl, prefix: opts.prefix, instanceId: opts.name, presenceTtlMs: opts.presenceTtlMs, logger })
  const switchboard = createApp({ store, broker, config, logger })
  await switchboard.start()
  switchboard.listen({ port: 0, hostname: '127.0.0.1' })
  const port = switchboard.app.server!.port!
  let stopped = false
  return {
    name: opts.name,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    switchboard,
    broker,
    store,
    async stop() {
      if (stopped) return
      stopped = true
      await switchboard.stop()
      await store.close()
    },
    async crash() {
      if (stopped) return
      stopped = true
      await broker.close({ goodbye: false })
      await switchboard.app.server?.stop(true)
      await store.close()
    },
  }
}

export interface Cluster {
  instances: Instance[]
  databaseUrl: string
  prefix: string
  start(name: string): Promise<Instance>
  [Symbol.asyncDispose](): Promise<void>
}

/**
 * `n` instances sharing one fresh PostgreSQL database (seeded: alice 1, bob 2, carol 3, group 1)
 * and one Redis under a prefix of their own, so parallel runs never hear each other.
 */
export async function startCluster(n: number, opts: { redisUrl: string; presenceTtlMs?: number; config?: Partial<Config> }): Promise<Cluster> {
  const database = await createTestDatabase()
  const prefix = `sbtest:${database.name}`
  const presenceTtlMs = opts.presenceTtlMs ?? 3000
  const seeder = await openPgStore(database.url)
  await seedDemo(seeder)
  await seeder.close()
  const instances: Instance[] = []
  const start = async (name: string) => {
    const instance = await startInstance({ name, databaseUrl: database.url, redisUrl: opts.redisUrl, prefix, presenceTtlMs, config: opts.config })
    instances.push(instance)
    return instance
  }
  for (let i = 0; i < n; i++) await start(String.fromCharCode(65 + i))
  return {
    instances,
    databaseUrl: database.url,
    prefix,
    start,
    async [Symbol.asyncDispose]() {
      for (const instance of instances) await instance.stop().catch(() => {})
      await database.drop()
      // A crashed instance leaves its entry behind on purpose; this cluster's keys go with it.
      const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 1 })
      const keys = await redis.keys(`${prefix}:*`).catch(() => [] as string[])
      if (keys.length) await redis.del(...keys).catch(() => {})
      redis.disconnect()
    },
  }
}

/** Polls `check` until it returns true or `ms` pass; returns the last result. */
export async function eventually(check: () => Promise<boolean> | boolean, ms: number, every = 50): Promise<boolean> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await check()) return true
    await Bun.sleep(every)
  }
  return check()
}
