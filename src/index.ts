import { existsSync } from 'node:fs'
import { createApp } from './app'
import { LocalBroker } from './broker/broker'
import { RedisBroker } from './broker/redis'
import { ConfigError, loadConfig, type Config } from './config'
import { seedDemo } from './db/seed'
import { openStore } from './db/open-store'
import { createLogger } from './observability/logger'
import { browserAssets } from './page/assets'

// The entry point: the only place that reads the environment, opens files and listens.
let config: Config
try {
  config = loadConfig()
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(`switchboard: bad configuration: ${e.message}`)
    process.exit(2)
  }
  throw e
}
const logger = createLogger(config.logLevel)
// The last fence: every request, frame, timer and callback handles its own faults, and one that
// slips through is logged here instead of ending the process for every other connection.
process.on('uncaughtException', (error) => logger.error({ err: error }, 'uncaught exception; the server keeps running'))
process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection; the server keeps running'))

if (config.auth === 'none') {
  console.warn('\n*** WARNING: AUTH=none — anyone can connect as any user. For development only. ***\n')
  logger.warn({ auth: 'none' }, 'authentication is off: anyone can act as any user (development only)')
}

let tls: { cert: ReturnType<typeof Bun.file>; key: ReturnType<typeof Bun.file> } | undefined
if (config.tlsCertFile && config.tlsKeyFile) {
  for (const [name, path] of [['TLS_CERT_FILE', config.tlsCertFile], ['TLS_KEY_FILE', config.tlsKeyFile]] as const)
    if (!existsSync(path)) {
      console.error(`switchboard: bad configuration: ${name}=${path}: no such file`)
      process.exit(2)
    }
  tls = { cert: Bun.file(config.tlsCertFile), key: Bun.file(config.tlsKeyFile) }
}

const store = await openStore(config.databaseUrl, { ...config, logger }).catch((e: Error) => {
  console.error(`switchboard: cannot open the database: ${e.message}`)
  process.exit(2)
})
if (config.seedDemo && (await seedDemo(store))) logger.info('seeded demo data: alice (1), bob (2), carol (3), group 1 "everyone"')

// Bundle the test page's scripts now rather than on the first page load.
browserAssets().catch((error) => console.error('bundling the test page failed', error))
const broker = config.redisUrl
  ? new RedisBroker({ url: config.redisUrl, prefix: config.redisPrefix, instanceId: config.instanceId, presenceTtlMs: config.presenceTtlMs, logger })
  : new LocalBroker()
const switchboard = createApp({ store, broker, config, logger })
try {
  await switchboard.start()
} catch (e) {
  console.error(`switchboard: cannot start: ${(e as Error).message}`)
  process.exit(2)
}
try {
  switchboard.listen({ port: config.port, hostname: config.host, ...(tls && { tls }) })
} catch (e) {
  if ((e as { code?: string }).code === 'EADDRINUSE')
    console.error(
      `switchboard: port ${config.port} is in use on ${config.host}: another process (perhaps another switchboard) listens there; ` +
        'stop it or set another PORT (several instances on one port need REUSE_PORT=1, REDIS_URL and PostgreSQL)',
    )
  else console.error(`switchboard: cannot listen on ${config.host}:${config.port}: ${(e as Error).message}`)
  await store.close().catch(() => undefined)
  process.exit(2)
}
const scheme = tls ? 'https' : 'http'
const url = `${scheme}://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${switchboard.app.server!.port}`
logger.info({ url, auth: config.auth, rate_limit: config.rateLimit, tls: Boolean(tls) }, 'switchboard listening')
if (config.redisUrl) logger.info({ instance: config.instanceId, redis_prefix: config.redisPrefix }, 'cluster mode')
console.log(`switchboard listening on ${url} — test page ${url}/ — API docs ${url}/docs`)

let stopping = false
async function shutdown(signal: string) {
  if (stopping) return
  stopping = true
  logger.info({ signal }, 'shutting down: no new connections, storing pending messages, closing sockets with 1001')
  // A stuck shutdown must not keep an orchestrator waiting forever.
  setTimeout(() => {
    logger.error({ timeout_ms: config.shutdownTimeoutMs }, 'shutdown timed out; exiting')
    process.exit(1)
  }, config.shutdownTimeoutMs).unref()
  await switchboard.stop()
  await store.close()
  logger.info('stopped')
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))
