import { IDEMPOTENCY_DEFAULTS } from './db/idempotency-window'
import { ERASE_WITHIN_MS } from './db/checkpointer'
import { MIN_COMMIT_INTERVAL_MS } from './messages/writer'
import type { LogLevel } from './observability/logger'
import { isEventPattern } from './webhooks/events'
import { isWebhookSecret } from './webhooks/signing'
/** Configuration: read from the environment once, at start-up, and validated there. */
export interface Config {
  port: number
  /** 0.0.0.0 here and under `npm start`; `npm run dev` (package.json) defaults to 127.0.0.1, as it runs AUTH=none. */
  host: string
  /**
   * Lets several processes listen on one port (SO_REUSEPORT, the kernel splits the connections):
   * only for instances that share their state through Redis and PostgreSQL.
   */
  reusePort: boolean
  /** A SQLite file path or ':memory:', or a postgres:// URL; `npm run dev` defaults to data/dev.db, apart from production's. */
  databaseUrl: string
  /**
   * SQLite: how long a resend with the same client_id is recognised, in ms, and how many such keys
   * are kept at most. PostgreSQL recognises resends for ever (a unique index, across instances).
   */
  idempotencyWindowMs: number
  idempotencyMaxKeys: number
  /** A deleted message's text leaves the SQLite WAL at most this long after the delete (it leaves the database file at once). */
  eraseWithinMs: number
  /**
   * Under load, the least time from one commit's start to the next, in ms: longer gathers more
   * messages into a commit (less CPU a message), at the price of that much more latency.
   */
  commitIntervalMs: number
  /** 'jwt' (the default of loadConfig, so of `npm start`) or 'none' (development only). */
  auth: 'none' | 'jwt'
  seedDemo: boolean
  logLevel: LogLevel
  /** Longest chat message, in Unicode code points (an emoji is one). */
  maxMessageLength: number
  /** Largest WebSocket frame accepted; larger frames close the connection with 1009. */
  maxFrameBytes: number
  /** Largest REST body accepted; larger bodies get 413. */
  maxBodyBytes: number
  /** A REST body of which nothing more arrives for this long gets 408 (below Bun's 10 s HTTP idle timeout, which answers nothing). */
  bodyTimeoutMs: number
  /** Seconds without traffic before Bun pings, then closes, a connection. */
  idleTimeoutSeconds: number
  /** Days the stream keeps status, receipt and membership events (messages are kept); 0 keeps them forever. */
  eventRetentionDays: number
  /** Bytes queued for one slow socket before it is closed. */
  backpressureLimitBytes: number
  /** redis:// URL: cluster mode (fan-out and presence across instances); null runs one instance. */
  redisUrl: string | null
  /** Prefix of every Redis key and channel: instances sharing it form one cluster. */
  redisPrefix: string
  /** A dead instance's users leave cluster presence within this time (heartbeats every third of it). */
  presenceTtlMs: number
  /** This instance's name in the cluster; random unless INSTANCE_ID is set. */
  instanceId: string
  // --- hardening (docs/OPERATIONS.md lists every variable) ---
  /** HS256 shared secret (at least 32 bytes). Exactly one of secret, public key file, JWKS URL. */
  jwtSecret: string | null
  /** PEM public key (RSA → RS256, EC P-256 → ES256). */
  jwtPublicKeyFile: string | null
  /** JWKS endpoint (RS256/ES256 keys). */
  jwtJwksUrl: string | null
  /** Required `iss`/`aud` when set. */
  jwtIssuer: string | null
  jwtAudience: string | null
  /** Seconds of clock skew allowed on exp/nbf/iat. */
  jwtClockToleranceSeconds: number
  /** Longest a token may be valid (exp - iat, or exp - now without iat): a stolen token stops working within it. */
  jwtMaxLifetimeSeconds: number
  /** Browser origins allowed to open a WebSocket; null: any (non-browser clients send none). */
  allowedOrigins: string[] | null
  /** Live WebSockets one user may hold on this instance. */
  maxConnectionsPerUser: number
  /** Bytes queued for a socket before it counts as a slow consumer and is closed with 4002. */
  slowConsumerBytes: number
  /** How often queued bytes are checked, in ms. */
  slowConsumerCheckMs: number
  /** Token buckets; off: no rate limiting at all. */
  rateLimit: boolean
  messagesPerSecond: number
  messagesBurst: number
  typingPerSecond: number
  typingBurst: number
  /** Every other client frame (receipts, pings, invalid frames). */
  framesPerSecond: number
  framesBurst: number
  /** REST requests per authenticated user and per client IP. */
  restPerSecond: number
  restBurst: number
  restIpPerSecond: number
  restIpBurst: number
  /** Consecutive rate-limited frames after which a connection is closed with 1008. */
  floodCloseAfter: number
  /** GET /messages/conversations/{id} per user (or IP): each lists every conversation, so it has a bucket of its own. */
  conversationsPerSecond: number
  conversationsBurst: number
  /** Groups one user may be in, and members one group may have (always enforced). */
  maxGroupsPerUser: number
  maxGroupMembers: number
  /** With rate limiting on: groups one user may create an hour, and groups one user may be added to by others a day. */
  groupsPerHour: number
  groupAddsPerDay: number
  /**
   * Opens /admin and /admin/api/* to `Authorization: Bearer <adminToken>`. Unset: the admin view is
   * off under AUTH=jwt, and open only to loopback callers under AUTH=none (src/admin/access.ts).
   */
  adminToken: string | null
  tlsCertFile: string | null
  tlsKeyFile: string | null
  /** Longest a graceful shutdown may take before the process exits anyway. */
  shutdownTimeoutMs: number
  // --- attachments (src/attachments) ---
  /**
   * Where uploaded files go: null for a folder `attachments/` beside the SQLite file (`data/`
   * for :memory: and PostgreSQL), a folder path, or `s3://bucket[/prefix]` for an S3-compatible store.
   */
  attachmentsUrl: string | null
  /** The S3 client's settings (named as Bun's S3 client names them); null: Bun's own defaults and environment. */
  s3Endpoint: string | null
  s3AccessKeyId: string | null
  s3SecretAccessKey: string | null
  s3Region: string | null
  /** Largest uploaded file, in bytes, counted as it streams. */
  maxAttachmentBytes: number
  /** The types an upload may have, as detected from its bytes (MIME types; `image/*` style wildcards allowed). */
  attachmentTypes: string[]
  /** An upload never sent in a message is deleted after this long. */
  attachmentUnsentTtlSeconds: number
  /** The bytes one user's stored uploads may hold, in all. */
  attachmentQuotaBytes: number
  /** With rate limiting on: uploads per user. */
  uploadsPerSecond: number
  uploadsBurst: number
  /** The webhook endpoint the environment configures (more through /admin/api/webhooks); null: none. */
  webhookUrl: string | null
  /** Its Standard Webhooks secret, `whsec_<base64 key>` (required with WEBHOOK_URL). */
  webhookSecret: string | null
  /** The event types it receives (`reaction.*` and `*` allowed); default all. */
  webhookEvents: string[]
  /** The first retry's delay, in ms; each next one doubles (with jitter). */
  webhookRetryBaseMs: number
  /** How long one delivery attempt may take (connect, send, answer headers), in ms. */
  webhookTimeoutMs: number
  /** Lets webhook URLs resolve to loopback, link-local and private addresses (tests, a private network). */
  webhookAllowPrivate: boolean
  // --- Web Push (src/push; off unless both VAPID keys are set) ---
  /** VAPID key pair, URL-safe base64 (`npm run vapid`): the public key 65 bytes, the private 32. */
  vapidPublicKey: string | null
  vapidPrivateKey: string | null
  /** Who the push services contact about this sender: a mailto: or https: URL. */
  vapidSubject: string
  /** A message no device of its recipient confirmed within this long is pushed. */
  pushGraceMs: number
  /** Whether a push carries the message's first characters; off, only who wrote where. */
  pushPreview: boolean
  /** How long a push service keeps a push for an offline device, in seconds. */
  pushTtlSeconds: number
  /** The first delay before a failed push is tried again; it doubles each attempt. */
  pushRetryBaseMs: number
  /** Accepts http:// push endpoints (a local test push service); never in production. */
  pushAllowHttp: boolean
}

/** What ATTACHMENT_TYPES allows by default: common images, PDF, text, zip, office documents, audio and video. */
export const DEFAULT_ATTACHMENT_TYPES = [
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/heic',
  'application/pdf',
  'text/plain',
  'application/zip',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/vnd.oasis.opendocument.text',
  'application/vnd.oasis.opendocument.spreadsheet',
  'application/vnd.oasis.opendocument.presentation',
  'application/msword',
  'application/vnd.ms-excel',
  'application/vnd.ms-powerpoint',
  'application/x-cfb',
  'audio/*',
  'video/*',
]

export class ConfigError extends Error {}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const

/** Defaults for tests and embedders; `loadConfig` starts from these. */
export function defaultConfig(overrides: Partial<Config> = {}): Config {
  return {
    port: 8000,
    host: '0.0.0.0',
    reusePort: false,
    databaseUrl: 'data/switchboard.db',
    idempotencyWindowMs: IDEMPOTENCY_DEFAULTS.windowMs,
    idempotencyMaxKeys: IDEMPOTENCY_DEFAULTS.maxKeys,
    eraseWithinMs: ERASE_WITHIN_MS,
    commitIntervalMs: MIN_COMMIT_INTERVAL_MS,
    auth: 'none',
    seedDemo: false,
    logLevel: 'info',
    maxMessageLength: 4000,
    maxFrameBytes: 64 * 1024,
    maxBodyBytes: 256 * 1024,
    bodyTimeoutMs: 5000,
    idleTimeoutSeconds: 60,
    eventRetentionDays: 30,
    backpressureLimitBytes: 4 * 1024 * 1024,
    redisUrl: null,
    redisPrefix: 'switchboard',
    presenceTtlMs: 15_000,
    instanceId: crypto.randomUUID().slice(0, 8),
    jwtSecret: null,
    jwtPublicKeyFile: null,
    jwtJwksUrl: null,
    jwtIssuer: null,
    jwtAudience: null,
    jwtClockToleranceSeconds: 5,
    // `npm run token`'s default; identity providers' access tokens are usually shorter.
    jwtMaxLifetimeSeconds: 24 * 3600,
    allowedOrigins: null,
    maxConnectionsPerUser: 10,
    slowConsumerBytes: 1024 * 1024,
    slowConsumerCheckMs: 250,
    // Off here (tests, embedders, benchmarks build with defaultConfig); loadConfig turns it on.
    rateLimit: false,
    messagesPerSecond: 10,
    messagesBurst: 30,
    typingPerSecond: 2,
    typingBurst: 4,
    framesPerSecond: 50,
    framesBurst: 200,
    restPerSecond: 20,
    restBurst: 60,
    restIpPerSecond: 100,
    restIpBurst: 300,
    floodCloseAfter: 20,
    conversationsPerSecond: 2,
    conversationsBurst: 10,
    maxGroupsPerUser: 500,
    maxGroupMembers: 10_000,
    groupsPerHour: 20,
    groupAddsPerDay: 50,
    adminToken: null,
    tlsCertFile: null,
    tlsKeyFile: null,
    shutdownTimeoutMs: 10_000,
    attachmentsUrl: null,
    s3Endpoint: null,
    s3AccessKeyId: null,
    s3SecretAccessKey: null,
    s3Region: null,
    maxAttachmentBytes: 25 * 1024 * 1024,
    attachmentTypes: DEFAULT_ATTACHMENT_TYPES,
    attachmentUnsentTtlSeconds: 24 * 3600,
    attachmentQuotaBytes: 1024 * 1024 * 1024,
    uploadsPerSecond: 0.2,
    uploadsBurst: 10,
    webhookUrl: null,
    webhookSecret: null,
    webhookEvents: ['*'],
    webhookRetryBaseMs: 1000,
    webhookTimeoutMs: 5000,
    webhookAllowPrivate: false,
    vapidPublicKey: null,
    vapidPrivateKey: null,
    vapidSubject: 'mailto:admin@localhost',
    pushGraceMs: 3000,
    pushPreview: true,
    pushTtlSeconds: 24 * 3600,
    pushRetryBaseMs: 1000,
    pushAllowHttp: false,
    ...overrides,
  }
}

function integer(env: Record<string, string | undefined>, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max)
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a whole number from ${min} to ${max}`)
  return value
}

function oneOf<T extends string>(env: Record<string, string | undefined>, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!(allowed as readonly string[]).includes(raw))
    throw new ConfigError(`${name}=${JSON.stringify(raw)} must be one of: ${allowed.join(', ')}`)
  return raw as T
}

function name(env: Record<string, string | undefined>, key: string, fallback: string): string {
  const raw = env[key]
  if (raw === undefined || raw === '') return fallback
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(raw)) throw new ConfigError(`${key}=${JSON.stringify(raw)}: use 1 to 64 letters, digits, '_', '.' or '-'`)
  return raw
}

function text(env: Record<string, string | undefined>, name: string): string | null {
  const raw = env[name]
  return raw === undefined || raw.trim() === '' ? null : raw.trim()
}

function onOff(env: Record<string, string | undefined>, name: string, fallback: boolean): boolean {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (['on', '1', 'true'].includes(raw)) return true
  if (['off', '0', 'false'].includes(raw)) return false
  throw new ConfigError(`${name}=${JSON.stringify(raw)} must be on or off`)
}

/** Per-second rates may be fractional (0.5 = one every two seconds). */
function rate(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0 || value > 1_000_000) throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a positive rate per second`)
  return value
}

/** The key material AUTH=jwt needs: exactly one source, checked before anything starts. */
function checkAuth(config: Config): void {
  if (config.auth !== 'jwt') return
  const sources = [config.jwtSecret && 'JWT_SECRET', config.jwtPublicKeyFile && 'JWT_PUBLIC_KEY_FILE', config.jwtJwksUrl && 'JWT_JWKS_URL'].filter(Boolean)
  if (sources.length === 0)
    throw new ConfigError(
      'AUTH=jwt (the default) needs key material: set JWT_SECRET (HS256, at least 32 bytes), JWT_PUBLIC_KEY_FILE (RS256/ES256 PEM) or JWT_JWKS_URL; ' +
        'for local development only, AUTH=none (npm run dev) accepts anyone as any user',
    )
  if (sources.length > 1) throw new ConfigError(`AUTH=jwt: give exactly one of ${sources.join(', ')}, not several`)
  if (config.jwtSecret && new TextEncoder().encode(config.jwtSecret).length < 32)
    throw new ConfigError('JWT_SECRET must be at least 32 bytes (e.g. `openssl rand -base64 48`)')
  if (config.jwtJwksUrl && !/^https?:\/\//.test(config.jwtJwksUrl)) throw new ConfigError(`JWT_JWKS_URL=${JSON.stringify(config.jwtJwksUrl)} is not an http(s) URL`)
}

/** ADMIN_TOKEN: long enough not to be guessed, sendable in a header, and a secret of its own. */
function checkAdminToken(config: Config): void {
  const token = config.adminToken
  if (token === null) return
  if (!/^[\x21-\x7e]{16,}$/.test(token))
    throw new ConfigError('ADMIN_TOKEN must be at least 16 visible ASCII characters without spaces (e.g. `openssl rand -base64 32`)')
  // One leaked secret must not give both: forged user tokens and the admin API.
  if (token === config.jwtSecret) throw new ConfigError('ADMIN_TOKEN must differ from JWT_SECRET')
}

/** WEBHOOK_*: an http(s) URL with a secret in the Standard Webhooks form, and event types that exist. */
function checkWebhook(config: Config): void {
  for (const e of config.webhookEvents)
    if (!isEventPattern(e)) throw new ConfigError(`WEBHOOK_EVENTS: ${JSON.stringify(e)} is not an event type (message.created, reaction.*, *, ...; see README)`)
  if (config.webhookUrl === null) {
    if (config.webhookSecret !== null) throw new ConfigError('WEBHOOK_SECRET is set without WEBHOOK_URL')
    return
  }
  if (!/^https?:\/\/[^/]/.test(config.webhookUrl) || !URL.canParse(config.webhookUrl)) throw new ConfigError(`WEBHOOK_URL=${JSON.stringify(config.webhookUrl)} is not an http(s) URL`)
  if (config.webhookSecret === null) throw new ConfigError('WEBHOOK_URL needs WEBHOOK_SECRET (whsec_ and a base64 key of 24 to 64 bytes, e.g. `echo whsec_$(openssl rand -base64 32)`)')
  if (!isWebhookSecret(config.webhookSecret)) throw new ConfigError('WEBHOOK_SECRET must be whsec_ followed by a base64 key of 24 to 64 bytes')
}

/** The VAPID keys: both or neither, each the length P-256 gives it, and a subject push services accept. */
function checkVapid(config: Config): void {
  const { vapidPublicKey: pub, vapidPrivateKey: priv } = config
  if (pub === null && priv === null) return
  if (pub === null || priv === null) throw new ConfigError('Web Push needs both VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY (`npm run vapid` prints a pair)')
  const bytes = (key: string) => (/^[A-Za-z0-9_-]+$/.test(key) ? Buffer.from(key, 'base64url').length : -1)
  if (bytes(pub) !== 65) throw new ConfigError('VAPID_PUBLIC_KEY must be URL-safe base64 (no "=") of a 65-byte P-256 public key (`npm run vapid`)')
  if (bytes(priv) !== 32) throw new ConfigError('VAPID_PRIVATE_KEY must be URL-safe base64 (no "=") of a 32-byte P-256 private key (`npm run vapid`)')
  if (!/^(mailto:[^\s@]+@[^\s@]+|https:\/\/[^\s/]+.*)$/.test(config.vapidSubject))
    throw new ConfigError(`VAPID_SUBJECT=${JSON.stringify(config.vapidSubject)} must be a mailto: or https: URL`)
}

/** Reads and validates the environment; throws ConfigError with a message naming the bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const base = defaultConfig()
  const databaseUrl = env.DATABASE_URL || base.databaseUrl
  if (/^[a-z]+:\/\//i.test(databaseUrl) && !databaseUrl.startsWith('file://') && !/^postgres(ql)?:\/\//i.test(databaseUrl))
    throw new ConfigError(`DATABASE_URL=${JSON.stringify(databaseUrl)}: give a SQLite file path, :memory: or a postgres:// URL`)
  const redisUrl = env.REDIS_URL || null
  if (redisUrl !== null && !/^rediss?:\/\/[^/]/i.test(redisUrl))
    throw new ConfigError(`REDIS_URL=${JSON.stringify(redisUrl)}: give a redis:// or rediss:// URL`)
  const config: Config = {
    port: integer(env, 'PORT', base.port, 0, 65535),
    host: env.HOST || base.host,
    reusePort: onOff(env, 'REUSE_PORT', base.reusePort),
    databaseUrl: databaseUrl.replace(/^file:\/\//, ''),
    idempotencyWindowMs: integer(env, 'IDEMPOTENCY_WINDOW_SECONDS', base.idempotencyWindowMs / 1000, 1, 7 * 24 * 3600) * 1000,
    idempotencyMaxKeys: integer(env, 'IDEMPOTENCY_MAX_KEYS', base.idempotencyMaxKeys, 1000, 100_000_000),
    eraseWithinMs: base.eraseWithinMs,
    commitIntervalMs: integer(env, 'COMMIT_INTERVAL_MS', base.commitIntervalMs, 0, 100),
    auth: oneOf(env, 'AUTH', 'jwt', ['none', 'jwt'] as const),
    seedDemo: oneOf(env, 'SEED_DEMO', '0', ['0', '1', 'true', 'false']) === '1' || env.SEED_DEMO === 'true',
    logLevel: oneOf(env, 'LOG_LEVEL', base.logLevel, LOG_LEVELS),
    maxMessageLength: integer(env, 'MAX_MESSAGE_LENGTH', base.maxMessageLength, 1, 1_000_000),
    maxFrameBytes: integer(env, 'MAX_FRAME_BYTES', base.maxFrameBytes, 1024, 16 * 1024 * 1024),
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', base.maxBodyBytes, 1024, 64 * 1024 * 1024),
    bodyTimeoutMs: integer(env, 'BODY_TIMEOUT_SECONDS', base.bodyTimeoutMs / 1000, 1, 9) * 1000,
    idleTimeoutSeconds: integer(env, 'IDLE_TIMEOUT_SECONDS', base.idleTimeoutSeconds, 0, 960),
    eventRetentionDays: integer(env, 'EVENT_RETENTION_DAYS', base.eventRetentionDays, 0, 36_500),
    backpressureLimitBytes: integer(env, 'BACKPRESSURE_LIMIT_BYTES', base.backpressureLimitBytes, 64 * 1024, 1024 * 1024 * 1024),
    redisUrl,
    redisPrefix: name(env, 'REDIS_PREFIX', base.redisPrefix),
    presenceTtlMs: integer(env, 'PRESENCE_TTL_SECONDS', base.presenceTtlMs / 1000, 3, 3600) * 1000,
    instanceId: name(env, 'INSTANCE_ID', base.instanceId),
    jwtSecret: text(env, 'JWT_SECRET'),
    jwtPublicKeyFile: text(env, 'JWT_PUBLIC_KEY_FILE'),
    jwtJwksUrl: text(env, 'JWT_JWKS_URL'),
    jwtIssuer: text(env, 'JWT_ISSUER'),
    jwtAudience: text(env, 'JWT_AUDIENCE'),
    jwtClockToleranceSeconds: integer(env, 'JWT_CLOCK_TOLERANCE_SECONDS', base.jwtClockToleranceSeconds, 0, 600),
    jwtMaxLifetimeSeconds: integer(env, 'JWT_MAX_LIFETIME_SECONDS', base.jwtMaxLifetimeSeconds, 60, 366 * 24 * 3600),
    allowedOrigins: text(env, 'ALLOWED_ORIGINS')?.split(',').map((o) => o.trim().replace(/\/$/, '')).filter(Boolean) ?? null,
    maxConnectionsPerUser: integer(env, 'MAX_CONNECTIONS_PER_USER', base.maxConnectionsPerUser, 1, 10_000),
    slowConsumerBytes: integer(env, 'SLOW_CONSUMER_BYTES', base.slowConsumerBytes, 16 * 1024, 1024 * 1024 * 1024),
    slowConsumerCheckMs: integer(env, 'SLOW_CONSUMER_CHECK_MS', base.slowConsumerCheckMs, 10, 60_000),
    rateLimit: onOff(env, 'RATE_LIMIT', true),
    messagesPerSecond: rate(env, 'RATE_MESSAGES_PER_SECOND', base.messagesPerSecond),
    messagesBurst: integer(env, 'RATE_MESSAGES_BURST', base.messagesBurst, 1, 1_000_000),
    typingPerSecond: rate(env, 'RATE_TYPING_PER_SECOND', base.typingPerSecond),
    typingBurst: integer(env, 'RATE_TYPING_BURST', base.typingBurst, 1, 1_000_000),
    framesPerSecond: rate(env, 'RATE_FRAMES_PER_SECOND', base.framesPerSecond),
    framesBurst: integer(env, 'RATE_FRAMES_BURST', base.framesBurst, 1, 1_000_000),
    restPerSecond: rate(env, 'RATE_REST_PER_SECOND', base.restPerSecond),
    restBurst: integer(env, 'RATE_REST_BURST', base.restBurst, 1, 1_000_000),
    restIpPerSecond: rate(env, 'RATE_REST_IP_PER_SECOND', base.restIpPerSecond),
    restIpBurst: integer(env, 'RATE_REST_IP_BURST', base.restIpBurst, 1, 1_000_000),
    floodCloseAfter: integer(env, 'FLOOD_CLOSE_AFTER', base.floodCloseAfter, 1, 1_000_000),
    conversationsPerSecond: rate(env, 'RATE_CONVERSATIONS_PER_SECOND', base.conversationsPerSecond),
    conversationsBurst: integer(env, 'RATE_CONVERSATIONS_BURST', base.conversationsBurst, 1, 1_000_000),
    maxGroupsPerUser: integer(env, 'MAX_GROUPS_PER_USER', base.maxGroupsPerUser, 1, 1_000_000),
    maxGroupMembers: integer(env, 'MAX_GROUP_MEMBERS', base.maxGroupMembers, 2, 1_000_000),
    groupsPerHour: integer(env, 'RATE_GROUPS_PER_HOUR', base.groupsPerHour, 1, 1_000_000),
    groupAddsPerDay: integer(env, 'RATE_GROUP_ADDS_PER_DAY', base.groupAddsPerDay, 1, 1_000_000),
    adminToken: text(env, 'ADMIN_TOKEN'),
    tlsCertFile: text(env, 'TLS_CERT_FILE'),
    tlsKeyFile: text(env, 'TLS_KEY_FILE'),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', base.shutdownTimeoutMs, 100, 600_000),
    attachmentsUrl: text(env, 'ATTACHMENTS_URL'),
    s3Endpoint: text(env, 'S3_ENDPOINT'),
    s3AccessKeyId: text(env, 'S3_ACCESS_KEY_ID'),
    s3SecretAccessKey: text(env, 'S3_SECRET_ACCESS_KEY'),
    s3Region: text(env, 'S3_REGION'),
    maxAttachmentBytes: integer(env, 'MAX_ATTACHMENT_BYTES', base.maxAttachmentBytes, 1024, 5 * 1024 * 1024 * 1024),
    attachmentTypes: text(env, 'ATTACHMENT_TYPES')?.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean) ?? base.attachmentTypes,
    attachmentUnsentTtlSeconds: integer(env, 'ATTACHMENT_UNSENT_TTL_SECONDS', base.attachmentUnsentTtlSeconds, 1, 365 * 24 * 3600),
    attachmentQuotaBytes: integer(env, 'ATTACHMENT_QUOTA_BYTES', base.attachmentQuotaBytes, 1024, Number.MAX_SAFE_INTEGER),
    uploadsPerSecond: rate(env, 'RATE_UPLOADS_PER_SECOND', base.uploadsPerSecond),
    uploadsBurst: integer(env, 'RATE_UPLOADS_BURST', base.uploadsBurst, 1, 1_000_000),
    webhookUrl: text(env, 'WEBHOOK_URL'),
    webhookSecret: text(env, 'WEBHOOK_SECRET'),
    webhookEvents: text(env, 'WEBHOOK_EVENTS')?.split(',').map((e) => e.trim()).filter(Boolean) ?? base.webhookEvents,
    webhookRetryBaseMs: integer(env, 'WEBHOOK_RETRY_BASE_MS', base.webhookRetryBaseMs, 1, 3_600_000),
    webhookTimeoutMs: integer(env, 'WEBHOOK_TIMEOUT_MS', base.webhookTimeoutMs, 1, 60_000),
    webhookAllowPrivate: onOff(env, 'WEBHOOK_ALLOW_PRIVATE', base.webhookAllowPrivate),
    vapidPublicKey: text(env, 'VAPID_PUBLIC_KEY'),
    vapidPrivateKey: text(env, 'VAPID_PRIVATE_KEY'),
    vapidSubject: text(env, 'VAPID_SUBJECT') ?? base.vapidSubject,
    pushGraceMs: integer(env, 'PUSH_GRACE_MS', base.pushGraceMs, 0, 600_000),
    pushPreview: onOff(env, 'PUSH_PREVIEW', base.pushPreview),
    pushTtlSeconds: integer(env, 'PUSH_TTL_SECONDS', base.pushTtlSeconds, 0, 28 * 24 * 3600),
    pushRetryBaseMs: integer(env, 'PUSH_RETRY_BASE_MS', base.pushRetryBaseMs, 1, 3_600_000),
    pushAllowHttp: onOff(env, 'PUSH_ALLOW_HTTP', base.pushAllowHttp),
  }
  checkWebhook(config)
  checkAuth(config)
  checkVapid(config)
  checkAdminToken(config)
  if (config.attachmentsUrl !== null && /^[a-z][a-z0-9+.-]*:\/\//i.test(config.attachmentsUrl) && !/^s3:\/\/[^/]+/i.test(config.attachmentsUrl))
    throw new ConfigError(`ATTACHMENTS_URL=${JSON.stringify(config.attachmentsUrl)}: give a folder path or s3://bucket`)
  for (const type of config.attachmentTypes)
    if (!/^[a-z0-9!#$&^_.+-]+\/([a-z0-9!#$&^_.+-]+|\*)$/.test(type)) throw new ConfigError(`ATTACHMENT_TYPES: ${JSON.stringify(type)} is not a MIME type such as image/png or audio/*`)
  if ((config.tlsCertFile === null) !== (config.tlsKeyFile === null)) throw new ConfigError('TLS needs both TLS_CERT_FILE and TLS_KEY_FILE')
  if (config.reusePort && (config.redisUrl === null || !/^postgres(ql)?:\/\//i.test(config.databaseUrl)))
    throw new ConfigError(
      'REUSE_PORT=1 lets several processes share one port, so each must share its state with the others: it needs REDIS_URL and a postgres:// DATABASE_URL ' +
        '(a SQLite file serves one process)',
    )
  if (config.slowConsumerBytes >= config.backpressureLimitBytes)
    throw new ConfigError('SLOW_CONSUMER_BYTES must be below BACKPRESSURE_LIMIT_BYTES (the slow consumer is closed with 4002 before Bun drops frames)')
  return config
}
