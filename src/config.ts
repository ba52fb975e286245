/** Configuration: read from the environment once, at start-up, and validated there. */
export interface Config {
  port: number
  host: string
  /** A SQLite file path or ':memory:', or a postgres:// URL. */
  databaseUrl: string
  auth: 'none'
  seedDemo: boolean
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent'
  /** Longest chat message, in characters. */
  maxMessageLength: number
  /** Largest WebSocket frame accepted; larger frames close the connection with 1009. */
  maxFrameBytes: number
  /** Largest REST body accepted; larger bodies get 413. */
  maxBodyBytes: number
  /** Seconds without traffic before Bun pings, then closes, a connection. */
  idleTimeoutSeconds: number
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
}

export class ConfigError extends Error {}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const

/** Defaults for tests and embedders; `loadConfig` starts from these. */
export function defaultConfig(overrides: Partial<Config> = {}): Config {
  return {
    port: 8000,
    host: '0.0.0.0',
    databaseUrl: 'data/switchboard.db',
    auth: 'none',
    seedDemo: false,
    logLevel: 'info',
    maxMessageLength: 4000,
    maxFrameBytes: 64 * 1024,
    maxBodyBytes: 256 * 1024,
    idleTimeoutSeconds: 60,
    backpressureLimitBytes: 4 * 1024 * 1024,
    redisUrl: null,
    redisPrefix: 'switchboard',
    presenceTtlMs: 15_000,
    instanceId: crypto.randomUUID().slice(0, 8),
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

/** Reads and validates the environment; throws ConfigError with a message naming the bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const base = defaultConfig()
  const databaseUrl = env.DATABASE_URL || base.databaseUrl
  if (/^[a-z]+:\/\//i.test(databaseUrl) && !databaseUrl.startsWith('file://') && !/^postgres(ql)?:\/\//i.test(databaseUrl))
    throw new ConfigError(`DATABASE_URL=${JSON.stringify(databaseUrl)}: give a SQLite file path, :memory: or a postgres:// URL`)
  const redisUrl = env.REDIS_URL || null
  if (redisUrl !== null && !/^rediss?:\/\/[^/]/i.test(redisUrl))
    throw new ConfigError(`REDIS_URL=${JSON.stringify(redisUrl)}: give a redis:// or rediss:// URL`)
  return {
    port: integer(env, 'PORT', base.port, 0, 65535),
    host: env.HOST || base.host,
    databaseUrl: databaseUrl.replace(/^file:\/\//, ''),
    auth: oneOf(env, 'AUTH', 'none', ['none'] as const),
    seedDemo: oneOf(env, 'SEED_DEMO', '0', ['0', '1', 'true', 'false']) === '1' || env.SEED_DEMO === 'true',
    logLevel: oneOf(env, 'LOG_LEVEL', base.logLevel, LOG_LEVELS),
    maxMessageLength: integer(env, 'MAX_MESSAGE_LENGTH', base.maxMessageLength, 1, 1_000_000),
    maxFrameBytes: integer(env, 'MAX_FRAME_BYTES', base.maxFrameBytes, 1024, 16 * 1024 * 1024),
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', base.maxBodyBytes, 1024, 64 * 1024 * 1024),
    idleTimeoutSeconds: integer(env, 'IDLE_TIMEOUT_SECONDS', base.idleTimeoutSeconds, 0, 960),
    backpressureLimitBytes: integer(env, 'BACKPRESSURE_LIMIT_BYTES', base.backpressureLimitBytes, 64 * 1024, 1024 * 1024 * 1024),
    redisUrl,
    redisPrefix: name(env, 'REDIS_PREFIX', base.redisPrefix),
    presenceTtlMs: integer(env, 'PRESENCE_TTL_SECONDS', base.presenceTtlMs / 1000, 3, 3600) * 1000,
    instanceId: name(env, 'INSTANCE_ID', base.instanceId),
  }
}
