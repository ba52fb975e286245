import { storedMessages } from './helpers/server'
import { expect, test } from 'bun:test'
import { ConfigError, loadConfig } from '../src/config'
import { startServer } from './helpers/server'
import { TestClient } from './helpers/ws-client'

test('defaults: port 8000, SQLite under data/, AUTH=jwt with rate limits on (key material required)', () => {
  expect(() => loadConfig({})).toThrow('JWT_SECRET')
  const config = loadConfig({ JWT_SECRET: 'a-development-secret-of-32-bytes-or-more' })
  expect(config).toMatchObject({ port: 8000, databaseUrl: 'data/switchboard.db', auth: 'jwt', rateLimit: true, seedDemo: false, maxMessageLength: 4000, jwtClockToleranceSeconds: 5, jwtMaxLifetimeSeconds: 86_400 })
  expect(loadConfig({ AUTH: 'none' })).toMatchObject({ auth: 'none' })
})

test('values are read from the environment', () => {
  const config = loadConfig({ AUTH: 'none', PORT: '9001', HOST: '127.0.0.1', DATABASE_URL: ':memory:', SEED_DEMO: '1', LOG_LEVEL: 'debug', MAX_MESSAGE_LENGTH: '100', COMMIT_INTERVAL_MS: '5', JWT_MAX_LIFETIME_SECONDS: '3600', BODY_TIMEOUT_SECONDS: '2' })
  expect(config).toMatchObject({ port: 9001, host: '127.0.0.1', databaseUrl: ':memory:', seedDemo: true, logLevel: 'debug', maxMessageLength: 100, commitIntervalMs: 5, jwtMaxLifetimeSeconds: 3600, bodyTimeoutMs: 2000 })
})

test.each([
  ['PORT', 'eighty'],
  ['PORT', '70000'],
  ['LOG_LEVEL', 'loud'],
  ['AUTH', 'maybe'],
  ['SEED_DEMO', 'yes please'],
  ['MAX_MESSAGE_LENGTH', '0'],
  ['COMMIT_INTERVAL_MS', '1000'],
  ['DATABASE_URL', 'mysql://localhost/db'],
  ['JWT_MAX_LIFETIME_SECONDS', '0'],
  ['JWT_MAX_LIFETIME_SECONDS', '1.5'],
  ['JWT_MAX_LIFETIME_SECONDS', '99999999999'],
  ['BODY_TIMEOUT_SECONDS', '10'],
])('%s=%s is refused with a message naming the variable', (name, value) => {
  expect(() => loadConfig({ [name]: value })).toThrow(ConfigError)
  expect(() => loadConfig({ [name]: value })).toThrow(name)
})

test('ADMIN_TOKEN: unset by default; at least 16 visible characters; never the same as JWT_SECRET', () => {
  const secret = 'a-development-secret-of-32-bytes-or-more'
  expect(loadConfig({ AUTH: 'none' }).adminToken).toBeNull()
  expect(loadConfig({ JWT_SECRET: secret, ADMIN_TOKEN: 'an-admin-token-0123' }).adminToken).toBe('an-admin-token-0123')
  for (const bad of ['short', 'sixteen chars with spaces', 'tab\tin-the-middle-of-it'])
    expect(() => loadConfig({ AUTH: 'none', ADMIN_TOKEN: bad })).toThrow('ADMIN_TOKEN')
  // One secret leaked would give both: users' tokens could be forged and the admin API opened.
  expect(() => loadConfig({ JWT_SECRET: secret, ADMIN_TOKEN: secret })).toThrow('ADMIN_TOKEN must differ from JWT_SECRET')
})

test('VAPID keys: both or neither, each of its P-256 length, with a mailto: or https: subject', () => {
  const pub = Buffer.alloc(65, 4).toString('base64url')
  const priv = Buffer.alloc(32, 1).toString('base64url')
  expect(loadConfig({ AUTH: 'none' }).vapidPublicKey).toBeNull()
  expect(loadConfig({ AUTH: 'none', VAPID_PUBLIC_KEY: pub, VAPID_PRIVATE_KEY: priv })).toMatchObject({ vapidPublicKey: pub, vapidPrivateKey: priv, pushGraceMs: 3000, pushPreview: true })
  expect(() => loadConfig({ AUTH: 'none', VAPID_PUBLIC_KEY: pub })).toThrow('both VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY')
  expect(() => loadConfig({ AUTH: 'none', VAPID_PUBLIC_KEY: priv, VAPID_PRIVATE_KEY: priv })).toThrow('VAPID_PUBLIC_KEY must be')
  expect(() => loadConfig({ AUTH: 'none', VAPID_PUBLIC_KEY: pub, VAPID_PRIVATE_KEY: pub })).toThrow('VAPID_PRIVATE_KEY must be')
  expect(() => loadConfig({ AUTH: 'none', VAPID_PUBLIC_KEY: pub, VAPID_PRIVATE_KEY: priv, VAPID_SUBJECT: 'ops@example.com' })).toThrow('VAPID_SUBJECT')
  expect(loadConfig({ AUTH: 'none', PUSH_PREVIEW: '0', PUSH_GRACE_MS: '50' })).toMatchObject({ pushPreview: false, pushGraceMs: 50 })
})

test('a bad value stops `bun src/index.ts` with a clear message and exit code 2', () => {
  const result = Bun.spawnSync([process.execPath, 'src/index.ts'], { env: { ...process.env, PORT: 'eighty' }, stderr: 'pipe' })
  expect(result.exitCode).toBe(2)
  expect(result.stderr.toString()).toContain('PORT="eighty"')
})

test('MAX_MESSAGE_LENGTH is what the server enforces and announces', async () => {
  await using server = await startServer({ config: { maxMessageLength: 10 } })
  const alice = await TestClient.connect(server.wsUrl, '/ws/1', { waitSynced: false })
  alice.send({ type: 'message', recipient_id: 2, message: '12345678901' })
  expect((await alice.next('error')).code).toBe('message_too_long')
  alice.send({ type: 'message', recipient_id: 2, message: '1234567890' })
  expect((await alice.next('message_sent')).status).toBe('sent')
  alice.close()
})

test('stopping the server stores what was queued and closes sockets with 1001', async () => {
  await using server = await startServer()
  const alice = await TestClient.connect(server.wsUrl, '/ws/1')
  for (let i = 0; i < 20; i++) alice.send({ type: 'message', recipient_id: 2, message: `m${i}`, client_id: `s${i}` })
  await alice.next('message_sent')
  await server.switchboard.stop()
  expect((await alice.waitClosed()).code).toBe(1001)
  const acked = 1 + alice.frames.filter((f) => f.type === 'message_sent').length
  // Every acknowledged message is stored.
  expect(await storedMessages(server.store)).toBeGreaterThanOrEqual(acked)
})

test('WEBHOOK_*: off by default; a URL needs a whsec_ secret; event types and the retry base are checked', () => {
  const secret = 'whsec_' + Buffer.alloc(32, 7).toString('base64')
  const base = loadConfig({ AUTH: 'none' })
  expect(base).toMatchObject({ webhookUrl: null, webhookSecret: null, webhookEvents: ['*'], webhookRetryBaseMs: 1000, webhookTimeoutMs: 5000, webhookAllowPrivate: false })
  const set = loadConfig({ AUTH: 'none', WEBHOOK_URL: 'https://hooks.example.com/x', WEBHOOK_SECRET: secret, WEBHOOK_EVENTS: 'message.created, reaction.*', WEBHOOK_RETRY_BASE_MS: '5', WEBHOOK_TIMEOUT_MS: '250', WEBHOOK_ALLOW_PRIVATE: '1' })
  expect(set).toMatchObject({ webhookUrl: 'https://hooks.example.com/x', webhookSecret: secret, webhookEvents: ['message.created', 'reaction.*'], webhookRetryBaseMs: 5, webhookTimeoutMs: 250, webhookAllowPrivate: true })
  expect(() => loadConfig({ AUTH: 'none', WEBHOOK_URL: 'https://hooks.example.com/x' })).toThrow('WEBHOOK_SECRET')
  expect(() => loadConfig({ AUTH: 'none', WEBHOOK_URL: 'https://hooks.example.com/x', WEBHOOK_SECRET: 'not-a-secret' })).toThrow('whsec_')
  expect(() => loadConfig({ AUTH: 'none', WEBHOOK_URL: 'https://hooks.example.com/x', WEBHOOK_SECRET: 'whsec_c2hvcnQ=' })).toThrow('24 to 64 bytes')
  expect(() => loadConfig({ AUTH: 'none', WEBHOOK_URL: 'ftp://hooks.example.com/x', WEBHOOK_SECRET: secret })).toThrow('WEBHOOK_URL')
  expect(() => loadConfig({ AUTH: 'none', WEBHOOK_EVENTS: 'message.sent' })).toThrow('WEBHOOK_EVENTS')
  expect(() => loadConfig({ AUTH: 'none', WEBHOOK_RETRY_BASE_MS: '0' })).toThrow('WEBHOOK_RETRY_BASE_MS')
  expect(() => loadConfig({ AUTH: 'none', WEBHOOK_SECRET: secret })).toThrow('without WEBHOOK_URL')
})
