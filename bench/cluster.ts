/**
 * Cluster scenario: one sender on instance A, recipients on instance B (PostgreSQL + Redis),
 * beside the single-instance figures (same PostgreSQL, no Redis, everyone on one instance),
 * measured in the same run, alternating single / cluster.
 *
 *   node_modules/.bin/bun bench/cluster.ts [--messages 20000] [--recipients 50] [--window 200] [--rounds 2]
 *
 * Needs PostgreSQL (BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres) and
 * Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379). Servers run as child processes so their
 * CPU time can be read from /proc; the load generator runs in this process.
 */
import net from 'node:net'
import { parseArgs } from 'node:util'
import { join } from 'node:path'
import { SQL } from 'bun'
import Redis from 'ioredis'
import { openPgStore } from '../src/db/pg-store'
import { procCpuSeconds } from './lib/server-process'

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    recipients: { type: 'string', default: '50' },
    window: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '2' },
  },
})
const MESSAGES = Number(args.messages)
const RECIPIENTS = Number(args.recipients)
const WINDOW = Number(args.window)
const ROUNDS = Number(args.rounds)
const ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'
const ROOT = join(import.meta.dir, '..')

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const port = (server.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

type Server = { proc: ReturnType<typeof Bun.spawn>; url: string; wsUrl: string }

async function startServer(env: Record<string, string>): Promise<Server> {
  const port = await freePort()
  const proc = Bun.spawn([process.execPath, 'src/index.ts'], {
    cwd: ROOT,
    // Measures the delivery path: no authentication, no rate limits (both are per-request costs measured elsewhere).
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', AUTH: 'none', RATE_LIMIT: 'off', ...env },
    stdout: 'ignore',
    stderr: 'inherit',
  })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${url}/ready`)).status === 200) return { proc, url, wsUrl: `ws://127.0.0.1:${port}` }
    } catch {}
    await Bun.sleep(100)
  }
  proc.kill()
  throw new Error(`server on ${port} did not become ready`)
}

async function stopServer(server: Server): Promise<void> {
  server.proc.kill('SIGTERM')
  await server.proc.exited
}

async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu')
  const get = (k: string) => Number(info.match(new RegExp(`${k}:([0-9.]+)`))?.[1] ?? 0)
  return get('used_cpu_sys') + get('used_cpu_user')
}

/** Connects and resolves once the server sent `synced` (listening from the start: it can come early). */
function connect(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.onmessage = (e) => {
      if (JSON.parse(e.data as string).type === 'synced') resolve(ws)
    }
    ws.onerror = () => reject(new Error(`cannot connect ${url}`))
  })
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

interface Result {
  scenario: string
  delivered: number
  seconds: number
  perSecond: number
  p50: number
  p90: number
  p99: number
  max: number
  serverUsPerMsg: number
  /** µs per message on each instance (A, B). */
  perInstance: number[]
  redisUsPerMsg: number | null
}

/** Sender on `senderServer`, recipients on `recipientServer`; `count` messages, at most WINDOW unacknowledged. */
async function drive(scenario: string, servers: Server[], senderServer: Server, recipientServer: Server, count: number, redis: Redis | null, prefix: string): Promise<Result> {
  const recipients = await Promise.all(Array.from({ length: RECIPIENTS }, (_, i) => connect(`${recipientServer.wsUrl}/ws/${i + 2}`)))
  const sender = await connect(`${senderServer.wsUrl}/ws/1`)

  const sentAt = new Float64Array(count)
  const latencies: number[] = []
  let delivered = 0
  let acked = 0
  let sent = 0
  let done!: () => void
  const finished = new Promise<void>((r) => (done = r))
  for (const ws of recipients)
    ws.onmessage = (e) => {
      const f = JSON.parse(e.data as string)
      if (f.type !== 'message' || !f.client_id?.startsWith(prefix)) return
      latencies.push(performance.now() - sentAt[Number(f.client_id.slice(prefix.length))])
      if (++delivered === count) done()
    }
  const pump = () => {
    while (sent < count && sent - acked < WINDOW) {
      sentAt[sent] = performance.now()
      sender.send(JSON.stringify({ type: 'message', recipient_id: (sent % RECIPIENTS) + 2, message: `bench ${sent}`, client_id: `${prefix}${sent}` }))
      sent++
    }
  }
  sender.onmessage = (e) => {
    const f = JSON.parse(e.data as string)
    if (f.type === 'message_sent') {
      acked++
      pump()
    } else if (f.type === 'error') console.error('error frame', f)
  }

  const cpuBefore = servers.map((s) => procCpuSeconds(s.proc.pid))
  const redisBefore = redis ? await redisCpuSeconds(redis) : 0
  sender.onclose = (e) => {
    if (delivered < count) console.error(`${scenario}: the sender's connection closed (${e.code} ${e.reason}) after ${sent} sent, ${acked} acked, ${delivered} delivered`)
  }
  const started = performance.now()
  pump()
  const stalled = setInterval(() => {
    if (performance.now() - started > 60_000) console.error(`${scenario}: still waiting: ${sent} sent, ${acked} acked, ${delivered} delivered`)
  }, 10_000)
  await finished
  clearInterval(stalled)
  const seconds = (performance.now() - started) / 1000
  const perServer = servers.map((s, i) => procCpuSeconds(s.proc.pid) - cpuBefore[i])
  const cpuSecondsUsed = perServer.reduce((a, b) => a + b, 0)
  const redisSeconds = redis ? (await redisCpuSeconds(redis)) - redisBefore : 0
  for (const ws of [sender, ...recipients]) ws.close()
  latencies.sort((a, b) => a - b)
  return {
    scenario,
    delivered,
    seconds,
    perSecond: delivered / seconds,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1],
    serverUsPerMsg: (cpuSecondsUsed * 1e6) / delivered,
    perInstance: perServer.map((t) => (t * 1e6) / delivered),
    redisUsPerMsg: redis ? (redisSeconds * 1e6) / delivered : null,
  }
}

async function main() {
  const admin = new SQL(ADMIN_URL, { max: 1, connectionTimeout: 2 })
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await admin`select 1`
    await redis.connect()
  } catch (e) {
    console.error(`bench/cluster.ts needs PostgreSQL (${ADMIN_URL}) and Redis (${REDIS_URL}): ${(e as Error).message}`)
    process.exit(2)
  }
  const name = `switchboard_bench_${Date.now().toString(36)}`
  await admin.unsafe(`create database ${name}`)
  const dbUrl = new URL(ADMIN_URL)
  dbUrl.pathname = `/${name}`
  const databaseUrl = dbUrl.toString()
  const results: Result[] = []
  try {
    const store = await openPgStore(databaseUrl)
    for (let i = 0; i <= RECIPIENTS; i++) await store.createUser({ username: `bench${i + 1}` })
    await store.close()
    console.log(`${MESSAGES} direct messages per run, ${RECIPIENTS} recipients, window ${WINDOW}, ${ROUNDS} rounds; PostgreSQL ${name}`)
    for (let round = 0; round < ROUNDS; round++) {
      for (const scenario of round % 2 === 0 ? ['single', 'cluster'] : ['cluster', 'single']) {
        const prefix = `r${round}${scenario[0]}-`
        const redisPrefix = `${name}-${round}`
        const servers: Server[] = []
        try {
          // Started one by one inside the try: a server that started is stopped even if the next fails.
          if (scenario === 'single') servers.push(await startServer({ DATABASE_URL: databaseUrl }))
          else
            for (const id of ['A', 'B']) servers.push(await startServer({ DATABASE_URL: databaseUrl, REDIS_URL, REDIS_PREFIX: redisPrefix, INSTANCE_ID: id }))
          const [a, b] = [servers[0], servers[servers.length - 1]]
          await drive(`${scenario} warm-up`, servers, a, b, Math.min(2000, MESSAGES), null, `w${prefix}`)
          const result = await drive(scenario === 'single' ? 'single instance' : 'cluster A→B', servers, a, b, MESSAGES, scenario === 'cluster' ? redis : null, prefix)
          results.push(result)
          console.log(format(result))
        } finally {
          for (const s of servers) await stopServer(s)
        }
      }
    }
    const mean = (rows: Result[], f: (r: Result) => number) => rows.reduce((sum, r) => sum + f(r), 0) / rows.length
    const single = results.filter((r) => r.scenario === 'single instance')
    const cluster = results.filter((r) => r.scenario !== 'single instance')
    if (single.length && cluster.length)
      console.log(
        `cluster / single, same run: server CPU per message ×${(mean(cluster, (r) => r.serverUsPerMsg) / mean(single, (r) => r.serverUsPerMsg)).toFixed(2)}, ` +
          `delivered/s ×${(mean(cluster, (r) => r.perSecond) / mean(single, (r) => r.perSecond)).toFixed(2)}`,
      )
  } finally {
    await admin.unsafe(`drop database if exists ${name} with (force)`)
    await admin.close()
    redis.disconnect()
  }
}

function format(r: Result): string {
  const f = (n: number) => n.toFixed(2)
  return [
    r.scenario.padEnd(16),
    `${Math.round(r.perSecond)} delivered/s`.padEnd(20),
    `latency ms p50 ${f(r.p50)} p90 ${f(r.p90)} p99 ${f(r.p99)} max ${f(r.max)}`.padEnd(56),
    `server CPU ${r.serverUsPerMsg.toFixed(1)} µs/msg` + (r.perInstance.length > 1 ? ` (A ${r.perInstance[0].toFixed(1)} + B ${r.perInstance[1].toFixed(1)})` : ''),
    r.redisUsPerMsg === null ? '' : `, Redis ${r.redisUsPerMsg.toFixed(1)} µs/msg`,
  ].join(' ')
}

await main()
