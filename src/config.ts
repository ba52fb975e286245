/** Configuration: read from the environment once, at start-up, and validated there. */
export interface Config {
  port: number
  host: string
  /** A SQLite file path or ':memory:'. */
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

/** Reads and validates the environment; throws ConfigError with a message naming the bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const base = defaultConfig()
  const databaseUrl = env.DATABASE_URL || base.databaseUrl
  if (/^[a-z]+:\/\//i.test(databaseUrl) && !databaseUrl.startsWith('file://'))
    throw new ConfigError(`DATABASE_URL=${JSON.stringify(databaseUrl)}: only a SQLite file path or :memory: is supported`)
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
  }
}
