import { createApp } from './app'
import { LocalBroker } from './broker/broker'
import { RedisBroker } from './broker/redis'
import { ConfigError, loadConfig } from './config'
import { seedDemo } from './db/seed'
import { openStore } from './db/open-store'

// The entry point: the only place that reads the environment, opens files and listens.
let config
try {
  config = loadConfig()
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(`switchboard: bad configuration: ${e.message}`)
    process.exit(2)
  }
  throw e
}

if (config.auth === 'none')
  console.warn('\n*** WARNING: AUTH=none — anyone can connect as any user. For development only. ***\n')

const store = await openStore(config.databaseUrl)
if (config.seedDemo && (await seedDemo(store))) console.log('seeded demo data: alice (1), bob (2), carol (3), group 1 "everyone"')

const broker = config.redisUrl
  ? new RedisBroker({ url: config.redisUrl, prefix: config.redisPrefix, instanceId: config.instanceId, presenceTtlMs: config.presenceTtlMs })
  : new LocalBroker()
const switchboard = createApp({ store, broker, config })
await switchboard.start()
switchboard.app.listen({ port: config.port, hostname: config.host })
const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${switchboard.app.server!.port}`
if (config.redisUrl) console.log(`cluster mode: instance ${config.instanceId}, Redis prefix ${config.redisPrefix}`)
console.log(`switchboard listening on ${url} — test page ${url}/ — API docs ${url}/docs`)

let stopping = false
async function shutdown(signal: string) {
  if (stopping) return
  stopping = true
  console.log(`${signal}: shutting down`)
  await switchboard.stop()
  await store.close()
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))
