import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../../src/app'
import { LocalBroker } from '../../src/broker/broker'
import { defaultConfig, type Config } from '../../src/config'
import { seedDemo } from '../../src/db/seed'
import { openSqliteStore } from '../../src/db/sqlite-store'
import type { Store } from '../../src/db/store'
import { createLogger } from '../../src/observability/logger'

export interface TestServer {
  url: string
  wsUrl: string
  port: number
  dir: string
  dbPath: string
  switchboard: ReturnType<typeof createApp>
  store: ReturnType<typeof openSqliteStore>
  /** Stops the server and closes the database; the folder stays (see `remove`). */
  stop(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/**
 * A real server on port 0 over a real SQLite file in a temporary folder, seeded with
 * alice (1), bob (2), carol (3) and group 1 of all three unless `seed: false`. `wrapStore` puts
 * something between the server and its store (a slower commit); `store` stays the store itself.
 */
export async function startServer(
  options: { config?: Partial<Config>; seed?: boolean; dir?: string; port?: number; wrapStore?: (store: Store) => Store } = {},
): Promise<TestServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'switchboard-test-'))
  const dbPath = join(dir, 'test.db')
  const config = defaultConfig({ databaseUrl: dbPath, port: options.port ?? 0, host: '127.0.0.1', logLevel: 'silent', ...options.config })
  // One logger for the store and the app, silent unless the test asks: faults a test injects are not printed.
  const logger = createLogger(config.logLevel)
  const store = openSqliteStore(dbPath, { ...config, logger })
  if (options.seed !== false) await seedDemo(store)
  const switchboard = createApp({ store: options.wrapStore ? options.wrapStore(store) : store, broker: new LocalBroker(), config, logger })
  await switchboard.start()
  switchboard.listen({ port: config.port, hostname: config.host })
  const port = switchboard.app.server!.port!
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await switchboard.stop()
    await store.close()
  }
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    port,
    dir,
    dbPath,
    switchboard,
    store,
    stop,
    async [Symbol.asyncDispose]() {
      await stop()
      if (!options.dir) rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** JSON over fetch against a test server; a string body is sent as it is (to test malformed JSON). */
export async function api(
  server: { url: string },
  method: string,
  path: string,
  body?: unknown,
  options: { token?: string | null; headers?: Record<string, string> } = {},
) {
  const res = await fetch(server.url + path, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await res.text()
  let json: any
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = text
  }
  return { status: res.status, body: json, headers: res.headers }
}

/** How many messages a SQLite store holds (the stream's seq also counts other events). */
export async function storedMessages(store: Store): Promise<number> {
  return (store as unknown as { client: { query(sql: string): { get(): { n: number } } } }).client.query('select count(*) as n from messages').get().n
}

/** Runs `check` until it stops throwing, or rethrows its last failure after `ms`. */
export async function eventually(check: () => Promise<void> | void, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    try {
      return await check()
    } catch (error) {
      if (Date.now() > deadline) throw error
      await Bun.sleep(20)
    }
  }
}
