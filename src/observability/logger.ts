import pino, { type Logger } from 'pino'

export type { Logger }

/** The levels LOG_LEVEL may name. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

/**
 * Structured JSON logs (pino). Nothing secret is logged by construction: request lines carry the
 * path without its query (where `?token=` lives) and never headers; the redaction below is a
 * second fence in case a caller passes a header or token object anyway.
 */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'switchboard' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization'], censor: '[redacted]' },
    },
    destination,
  )
}

let fallback: Logger | undefined

/** The logger of a part built without one (embedders, benchmarks): pino at info on stdout, as createApp's default. */
export function fallbackLogger(): Logger {
  return (fallback ??= createLogger('info'))
}
