// Operations: refusing to start without key material, TLS from the environment, graceful shutdown
// on SIGTERM, /metrics and structured logs (with nothing secret in them).
import { Database } from 'bun:sqlite'
import { expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createApp } from '../../src/app'
import { LocalBroker } from '../../src/broker/broker'
import { createJwtVerifier } from '../../src/auth/verifier'
import { defaultConfig, loadConfig } from '../../src/config'
import { seedDemo } from '../../src/db/seed'
import { openSqliteStore } from '../../src/db/sqlite-store'
import { createLogger } from '../../src/observability/logger'
import { TestClient } from '../helpers/ws-client'
import { call, mintToken, runToExit, SECRET, spawnServer, tempDir } from './fixtures'

test('npm start refuses to start without usable key material, and says why', async () => {
  using dir = tempDir()
  const db = join(dir.dir, 'x.db')
  const noKey = await runToExit({ DATABASE_URL: db })
  expect(noKey.code).toBe(2)
  expect(noKey.output).toContain('AUTH=jwt (the default) needs key material')
  const missing = await runToExit({ DATABASE_URL: db, JWT_PUBLIC_KEY_FILE: join(dir.dir, 'nope.pem') })
  expect(missing.code).toBe(2)
  expect(missing.output).toContain('cannot read it')
}, 60_000)

test('the configuration refuses unusable settings with a message naming the variable', async () => {
  const refused = (env: Record<string, string>) => {
    try {
      loadConfig(env)
      return 'accepted'
    } catch (e) {
      return (e as Error).message
    }
  }
  expect(refused({ JWT_SECRET: 'short' })).toContain('at least 32 bytes')
  expect(refused({ JWT_SECRET: SECRET, JWT_JWKS_URL: 'https://id.example/jwks' })).toContain('exactly one of JWT_SECRET, JWT_JWKS_URL')
  expect(refused({ AUTH: 'none', TLS_CERT_FILE: 'cert.pem' })).toContain('TLS needs both')
  expect(refused({ AUTH: 'none', RATE_LIMIT: 'maybe' })).toContain('RATE_LIMIT')
  expect(refused({ AUTH: 'none', RATE_MESSAGES_PER_SECOND: '-1' })).toContain('RATE_MESSAGES_PER_SECOND')
  expect(refused({ AUTH: 'none', SLOW_CONSUMER_BYTES: String(8 * 1024 * 1024) })).toContain('SLOW_CONSUMER_BYTES must be below')
  // Defaults: npm start is AUTH=jwt with rate limiting on; tests and embedders (defaultConfig) are not.
  expect(loadConfig({ JWT_SECRET: SECRET })).toMatchObject({ auth: 'jwt', rateLimit: true })
  expect(defaultConfig()).toMatchObject({ auth: 'none', rateLimit: false })
  using dir = tempDir()
  writeFileSync(join(dir.dir, 'garbage.pem'), 'not a key')
  const garbage = createJwtVerifier(defaultConfig({ auth: 'jwt', jwtPublicKeyFile: join(dir.dir, 'garbage.pem') }))
  expect(garbage.init()).rejects.toThrow('not a PEM public key')
})

const openssl = Bun.which('openssl')
if (!openssl) console.warn('SKIPPED: the TLS test needs openssl to make a self-signed certificate')

test.skipIf(!openssl)('TLS_CERT_FILE/TLS_KEY_FILE: HTTPS and WSS with a self-signed certificate', async () => {
  using dir = tempDir()
  const cert = join(dir.dir, 'cert.pem')
  const key = join(dir.dir, 'key.pem')
  const made = Bun.spawnSync([
    openssl!, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert,
  ])
  expect(made.exitCode).toBe(0)
  const server = await spawnServer({ DATABASE_URL: join(dir.dir, 'tls.db'), SEED_DEMO: '1', JWT_SECRET: SECRET, TLS_CERT_FILE: cert, TLS_KEY_FILE: key })
  try {
    expect(server.url).toStartWith('https://')
    const ca = readFileSync(cert, 'utf8')
    const health = await fetch(`${server.url}/health`, { tls: { ca } } as any)
    expect(health.status).toBe(200)
    // The certificate is checked: without trusting it, the connection fails.
    expect(await fetch(`${server.url}/health`).then(() => 'connected', () => 'refused')).toBe('refused')
    const token = await mintToken(SECRET, { sub: '1' })
    const ws = new WebSocket(`wss://localhost:${server.port}/ws/1?token=${token}`, { tls: { ca } } as any)
    const first = await new Promise<any>((resolve, reject) => {
      ws.onmessage = (e) => resolve(JSON.parse(String(e.data)))
      ws.onerror = () => reject(new Error('wss failed'))
    })
    expect(first).toMatchObject({ type: 'connection_established', user_id: 1 })
    ws.close()
  } finally {
    server.proc.kill('SIGKILL')
    await server.exited
  }
}, 30_000)

test('SIGTERM: every received message is stored and confirmed, sockets close with 1001, the process exits 0', async () => {
  using dir = tempDir()
  const dbPath = join(dir.dir, 'term.db')
  const server = await spawnServer({ AUTH: 'none', RATE_LIMIT: 'off', SEED_DEMO: '1', DATABASE_URL: dbPath, LOG_LEVEL: 'info' })
  const wsUrl = server.url.replace('http', 'ws')
  const alice = await TestClient.connect(wsUrl, '/ws/1')
  const bob = await TestClient.connect(wsUrl, '/ws/2')
  for (let i = 0; i < 50; i++) alice.send({ type: 'message', recipient_id: 2, message: `bye ${i}`, client_id: `t${i}` })
  await alice.next('message_sent')
  server.proc.kill('SIGTERM')
  expect((await alice.waitClosed(5000)).code).toBe(1001)
  expect((await bob.waitClosed(5000)).code).toBe(1001)
  expect(await server.exited).toBe(0)
  const confirmed = alice.frames.filter((f) => f.type === 'message_sent').length + 1
  const db = new Database(dbPath, { readonly: true })
  const stored = (db.query('SELECT COUNT(*) AS n FROM messages').get() as any).n
  db.close()
  // Everything the server had received was stored, and each stored message was confirmed, in order.
  expect(stored).toBe(confirmed)
  const acked = alice.frames.filter((f) => f.type === 'message_sent').map((f) => f.client_id)
  expect(acked).toEqual(acked.map((_, i) => `t${i + 1}`))
  expect(server.output()).toContain('"msg":"stopped"')
  console.log(`SIGTERM: ${confirmed} of 50 messages had reached the server; all stored and confirmed before the 1001 close`)
}, 30_000)

test('/metrics and logs: the figures move, one line per connection open and close, request ids, no token anywhere', async () => {
  using dir = tempDir()
  const lines: string[] = []
  const logger = createLogger('debug', { write: (line: string) => void lines.push(line) })
  const store = openSqliteStore(join(dir.dir, 'm.db'))
  await seedDemo(store)
  const app = createApp({ store, broker: new LocalBroker(), config: defaultConfig({ auth: 'jwt', jwtSecret: SECRET, rateLimit: true }), logger })
  await app.start()
  app.listen({ port: 0, hostname: '127.0.0.1' })
  const base = { url: `http://127.0.0.1:${app.app.server!.port}` }
  try {
    const aliceToken = await mintToken(SECRET, { sub: '1' })
    const bobToken = await mintToken(SECRET, { sub: '2' })
    const alice = await TestClient.connect(base.url.replace('http', 'ws'), `/ws/1?token=${aliceToken}`)
    const bob = await TestClient.connect(base.url.replace('http', 'ws'), `/ws/2?token=${bobToken}`)
    for (let i = 0; i < 3; i++) alice.send({ type: 'message', recipient_id: 2, message: `m${i}` })
    for (let i = 0; i < 3; i++) await bob.next('message')
    alice.sendRaw('{oops')
    await alice.next('error')
    const res = await call(base, 'GET', '/messages/conversations/1', aliceToken, undefined, { 'x-request-id': 'req-abc-123' })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-request-id')).toBe('req-abc-123')
    expect((await call(base, 'GET', '/messages/conversations/1')).status).toBe(401)
    alice.close()
    await alice.waitClosed()
    await Bun.sleep(20)

    const metrics = await (await fetch(`${base.url}/metrics`)).text()
    const value = (pattern: RegExp) => Number(pattern.exec(metrics)?.[1])
    expect(value(/^switchboard_connections (\d+)/m)).toBe(1)
    expect(value(/^switchboard_frames_in_total\{type="message"\} (\d+)/m)).toBe(3)
    expect(value(/^switchboard_frames_in_total\{type="invalid"\} (\d+)/m)).toBe(1)
    expect(value(/^switchboard_frames_out_total\{type="message"\} (\d+)/m)).toBe(3)
    expect(value(/^switchboard_frames_out_total\{type="message_sent"\} (\d+)/m)).toBe(3)
    expect(value(/^switchboard_message_delivery_seconds_count (\d+)/m)).toBe(3)
    expect(value(/^switchboard_commit_batch_size_count (\d+)/m)).toBeGreaterThanOrEqual(1)
    expect(value(/^switchboard_commit_seconds_count (\d+)/m)).toBeGreaterThanOrEqual(1)
    // A Prometheus histogram as scrapers read it: typed, cumulative buckets ending in +Inf = count.
    expect(metrics).toContain('# TYPE switchboard_message_delivery_seconds histogram')
    const buckets = [...metrics.matchAll(/^switchboard_message_delivery_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)]
    expect(buckets.map((b) => b[1])).toEqual(['0.0005', '0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '+Inf'])
    const counts = buckets.map((b) => Number(b[2]))
    expect(counts).toEqual([...counts].sort((a, b) => a - b))
    expect(counts.at(-1)).toBe(3)
    expect(value(/^switchboard_message_delivery_seconds_sum ([\d.e-]+)/m)).toBeGreaterThan(0)
    expect(value(/^switchboard_errors_total\{code="invalid_json",transport="ws"\} (\d+)/m)).toBe(1)
    expect(value(/^switchboard_errors_total\{code="missing_token",transport="rest"\} (\d+)/m)).toBe(1)
    // The test client closes without a status code: RFC 6455 §7.1.5 reports that as 1005.
    expect(value(/^switchboard_connections_closed_total\{code="1005"\} (\d+)/m)).toBe(1)
    expect(metrics).toContain('switchboard_rate_limited_total')
    expect(metrics).toContain('switchboard_slow_consumer_closes_total 0')
    expect(metrics).toContain('switchboard_http_requests_total{method="GET",status="200"}')

    const parsed = lines.map((l) => JSON.parse(l))
    expect(parsed.filter((l) => l.msg === 'connection open').map((l) => l.user)).toEqual([1, 2])
    expect(parsed.filter((l) => l.msg === 'connection closed')).toEqual([expect.objectContaining({ user: 1, code: 1005, level: 30 })])
    expect(parsed.find((l) => l.req === 'req-abc-123')).toMatchObject({ msg: 'request', method: 'GET', path: '/messages/conversations/1', status: 200 })
    expect(parsed.find((l) => l.msg === 'frame refused')).toMatchObject({ code: 'invalid_json', user: 1 })
    // The upgrade URL carried ?token=: no log line may contain a token.
    for (const line of lines) {
      expect(line).not.toContain(aliceToken)
      expect(line).not.toContain(bobToken)
      expect(line).not.toContain(aliceToken.split('.')[2])
    }
    bob.close()
  } finally {
    await app.stop()
    await store.close()
  }
})

test('npm run token -- <user_id> mints a token the server accepts for that user', async () => {
  const proc = Bun.spawn([join(import.meta.dir, '..', '..', 'node_modules', '.bin', 'bun'), 'scripts/token.ts', '7', '600'], {
    cwd: join(import.meta.dir, '..', '..'),
    env: { PATH: process.env.PATH ?? '', JWT_SECRET: SECRET },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const token = (await new Response(proc.stdout).text()).trim()
  expect(await proc.exited).toBe(0)
  const principal = await createJwtVerifier(defaultConfig({ auth: 'jwt', jwtSecret: SECRET })).verify(token)
  expect(principal.userId).toBe(7)
  expect(principal.expiresAt! - Date.now()).toBeLessThanOrEqual(600_000)
  // A lifetime the server would refuse is refused here, with the reason.
  const tooLong = Bun.spawnSync([join(import.meta.dir, '..', '..', 'node_modules', '.bin', 'bun'), 'scripts/token.ts', '7', '7200'], {
    cwd: join(import.meta.dir, '..', '..'),
    env: { PATH: process.env.PATH ?? '', JWT_SECRET: SECRET, JWT_MAX_LIFETIME_SECONDS: '3600' },
    stderr: 'pipe',
  })
  expect(tooLong.exitCode).toBe(2)
  expect(tooLong.stderr.toString()).toContain('JWT_MAX_LIFETIME_SECONDS')
}, 30_000)
