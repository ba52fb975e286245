import { Elysia } from 'elysia'
import { AppError, errorBody } from './errors'
import { requestPath } from './url'

/** True for `application/json`, with or without parameters, in any letter case (RFC 9110 §8.3.1). */
export function isJsonMediaType(contentType: string | null): boolean {
  if (contentType === null) return false
  const end = contentType.indexOf(';')
  return (end < 0 ? contentType : contentType.slice(0, end)).trim().toLowerCase() === 'application/json'
}

/** What refuses a body: each a status with the JSON error body, and the connection closed after it. */
const tooLarge = (maxBytes: number) => new AppError(413, 'body_too_large', `the body is larger than ${maxBytes} bytes`)
const notJson = (contentType: string | null) =>
  new AppError(415, 'unsupported_media_type', `send the body as JSON with Content-Type: application/json${contentType ? ` (not ${contentType.slice(0, 100)})` : ''}`)

/**
 * Body reads pending, each with the time it began, and one timer for all of them: a
 * timer per request cost more CPU than the rest of reading a small body. A read that has had
 * nothing new for `timeoutMs` is failed with 408, so that a body that stops coming (a
 * Content-Length larger than what is sent) is answered before Bun's idle timeout closes the
 * connection without any answer. The timer runs only while a read is pending.
 */
class StallWatch {
  private readonly reads = new Map<object, { since: number; fail: (error: AppError) => void }>()
  private sweeper: ReturnType<typeof setInterval> | null = null

  constructor(private readonly timeoutMs: number) {}

  /** Settles with `read`, or fails with 408 when it has not settled within the timeout. */
  watch<T>(read: Promise<T>): Promise<T> {
    const { promise, resolve, reject } = Promise.withResolvers<T>()
    const key = {}
    this.reads.set(key, { since: performance.now(), fail: reject })
    if (this.sweeper === null) {
      this.sweeper = setInterval(() => this.sweep(), Math.min(250, this.timeoutMs / 4))
      this.sweeper.unref()
    }
    read.then(resolve, reject).finally(() => this.reads.delete(key))
    return promise
  }

  private sweep(): void {
    if (this.reads.size === 0) {
      clearInterval(this.sweeper!)
      this.sweeper = null
      return
    }
    const stalledBefore = performance.now() - this.timeoutMs
    for (const [key, read] of this.reads) {
      if (read.since > stalledBefore) continue
      this.reads.delete(key)
      read.fail(new AppError(408, 'body_timeout', `no part of the body arrived for ${this.timeoutMs / 1000} s`))
    }
  }
}

const decoder = new TextDecoder()
const invalidJson = () => new AppError(400, 'invalid_json', 'the body is not valid JSON')

/**
 * Reads and parses a JSON body within `maxBytes`. A declared length was checked on arrival, so
 * such a body is parsed by Bun in one step; a chunked one declares nothing and is counted here as
 * it arrives.
 */
async function readJson(request: Request, maxBytes: number, stalls: StallWatch): Promise<unknown> {
  if (request.headers.get('content-length') !== null) {
    const parsed = request.json()
    return stalls.watch(parsed).catch((error) => {
      throw error instanceof AppError ? error : invalidJson()
    })
  }
  const reader = request.body!.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (;;) {
      // Each chunk is watched on its own: a body that keeps arriving is never cut off.
      const { done, value } = await stalls.watch(reader.read())
      if (done) break
      size += value.byteLength
      if (size > maxBytes) throw tooLarge(maxBytes)
      chunks.push(value)
    }
  } catch (error) {
    // Stop reading what is left; the connection closes after the answer.
    reader.cancel().catch(() => {})
    throw error instanceof AppError ? error : new AppError(400, 'bad_request', 'the body ended before it was complete')
  }
  if (size === 0) return null
  try {
    return JSON.parse(decoder.decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)))
  } catch {
    throw invalidJson()
  }
}

/**
 * REST bodies are JSON and nothing else, within `maxBytes`. Elysia's own parsers accept forms,
 * multipart and text on every route with a body (a form created users) and read a body whole
 * before anything counts it; this plugin replaces them for every route. Refusals: `413
 * body_too_large` (declared or counted), `415 unsupported_media_type`, `408 body_timeout`, `400
 * invalid_json`, each with the JSON error body and `Connection: close`, so that bytes left unread
 * are never taken for the next request. A request without a body gets `null` as its body.
 */
export function jsonBodies(options: { maxBytes: number; timeoutMs: number; streamed?: { method: string; path: string } }) {
  const { maxBytes, timeoutMs, streamed } = options
  const stalls = new StallWatch(timeoutMs)
  // The documented exception (POST /attachments): its body is left unread for its route to stream,
  // within limits of its own.
  const isStreamed = (request: Request) => streamed !== undefined && request.method === streamed.method && requestPath(request.url) === streamed.path
  return new Elysia({ name: 'json-bodies' })
    .onRequest(({ request, set, status }) => {
      if (isStreamed(request)) return
      // A declared size beyond the limit is refused before a byte of the body is read.
      const length = Number(request.headers.get('content-length') ?? 0)
      if (length > maxBytes) {
        set.headers.connection = 'close'
        const { code, message } = tooLarge(maxBytes)
        return status(413, errorBody(code, message))
      }
    })
    .onParse({ as: 'global' }, async ({ request, set }) => {
      // Whatever is returned becomes the body; undefined would hand the request to Elysia's parsers.
      if (request.body === null || request.headers.get('content-length') === '0' || isStreamed(request)) return null
      try {
        const contentType = request.headers.get('content-type')
        if (!isJsonMediaType(contentType)) throw notJson(contentType)
        return await readJson(request, maxBytes, stalls)
      } catch (error) {
        set.headers.connection = 'close'
        throw error
      }
    })
}

/** The refusal a body parser threw, which Elysia hands to onError wrapped in its ParseError. */
export function bodyRefusal(error: unknown): AppError | null {
  const cause = (error as { cause?: unknown } | null)?.cause
  return cause instanceof AppError ? cause : null
}
