import busboy from 'busboy'
import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { AppError } from '../http/errors'
import { SNIFF_BYTES } from './types'

/** Bytes a multipart body may hold beyond its file: boundaries, part headers, a few small fields. */
export const MULTIPART_SLACK = 64 * 1024

/** A file received whole, spooled to a local file of its own. */
export interface SpooledFile {
  path: string
  size: number
  sha256: string
  /** The first SNIFF_BYTES (or all) of it, for type detection. */
  head: Uint8Array
  /** As the client named it: to be cleaned before it is shown (see names.ts). */
  filename: string
}

/** The refusal of a file past the limit, declared or counted. */
export const tooLarge = (maxBytes: number) => new AppError(413, 'attachment_too_large', `the file is larger than ${maxBytes} bytes`)
const notMultipart = () => new AppError(415, 'unsupported_media_type', 'send the file as multipart/form-data, in a field named "file"')
const malformed = (why: string) => new AppError(400, 'invalid_multipart', `the multipart body is malformed: ${why}`)

/**
 * Reads a multipart/form-data body as it arrives and spools its `file` field to a new file in
 * `spoolDir`, hashing and counting on the way: nothing holds more than a chunk of it. The body is
 * parsed by busboy, which streams each part (Bun's `request.formData()` reads the whole body into
 * memory first). Bytes are counted whatever the headers say: a file past `maxBytes` fails with
 * 413 as soon as its bytes are counted, chunked or not, and the rest is never read. A read that
 * waits `stallMs` for the next chunk fails with 408. On any failure the spooled file is removed.
 */
export async function spoolUpload(request: Request, options: { spoolDir: string; maxBytes: number; stallMs: number }): Promise<SpooledFile> {
  const { spoolDir, maxBytes, stallMs } = options
  const contentType = request.headers.get('content-type') ?? ''
  if (!/^multipart\/form-data\s*;/i.test(contentType) || request.body === null) throw notMultipart()
  let parser: busboy.Busboy
  try {
    parser = busboy({
      headers: { 'content-type': contentType },
      // RFC 7578 §4.2: a form's file names are UTF-8.
      defParamCharset: 'utf8',
      limits: { files: 1, fileSize: maxBytes, fields: 16, fieldSize: 1024, parts: 20, headerPairs: 20 },
    })
  } catch (error) {
    throw malformed((error as Error).message)
  }

  const path = join(spoolDir, `${crypto.randomUUID()}.part`)
  const { promise: failed, reject: fail } = Promise.withResolvers<never>()
  // The first failure wins; later ones (the parser's reaction to being stopped) are not news.
  let failure: unknown = null
  const stop = (error: unknown) => {
    if (failure === null) failure = error
    fail(failure)
  }
  failed.catch(() => {})
  parser.on('error', (error: Error) => stop(malformed(error.message)))

  let spooling: Promise<Omit<SpooledFile, 'path'>> | null = null
  parser.on('file', (field: string, stream: Readable, info: busboy.FileInfo) => {
    if (field !== 'file' || spooling) return void stream.resume()
    spooling = spool(stream, path, info.filename ?? '', maxBytes, () => stop(tooLarge(maxBytes)))
    spooling.catch(stop)
  })
  const closed = new Promise<void>((resolve) => parser.on('close', resolve))

  const reader = request.body.getReader()
  let received = 0
  try {
    for (;;) {
      const { done, value } = await Promise.race([readWithin(reader, stallMs), failed])
      if (done) break
      received += value.byteLength
      if (received > maxBytes + MULTIPART_SLACK) throw tooLarge(maxBytes)
      if (!parser.write(value)) await Promise.race([new Promise((resolve) => parser.once('drain', resolve)), failed])
    }
    parser.end()
    await Promise.race([closed, failed])
    if (!spooling) throw new AppError(400, 'file_required', 'the form has no field named "file" with a file in it')
    const file = await Promise.race([spooling as Promise<Omit<SpooledFile, 'path'>>, failed])
    return { path, ...file }
  } catch (error) {
    // Recorded first: stopping the parser makes it complain of the part it was cut off in.
    stop(error)
    // Stop reading what is left; the connection closes after the answer.
    reader.cancel().catch(() => {})
    parser.destroy()
    await (spooling as Promise<unknown> | null)?.catch(() => {})
    await rm(path, { force: true })
    throw failure
  }
}

/** One chunk of the body, or 408 when none arrives within `ms`. */
async function readWithin(reader: ReadableStreamDefaultReader<Uint8Array>, ms: number) {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([
      reader.read(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new AppError(408, 'body_timeout', `no part of the body arrived for ${ms / 1000} s`)), ms)
      }),
    ])
  } catch (error) {
    throw error instanceof AppError ? error : malformed('the body ended before it was complete')
  } finally {
    clearTimeout(timer)
  }
}

/** Writes one part to `path`, hashing it and keeping its head; fails with 413 past `maxBytes`. */
async function spool(stream: Readable, path: string, filename: string, maxBytes: number, onLimit: () => void): Promise<Omit<SpooledFile, 'path'>> {
  let tooBig = false
  stream.on('error', () => {})
  stream.once('limit', () => {
    tooBig = true
    // Before the parser's own complaint about the part it was cut off in.
    onLimit()
    // Ends the iteration below at once instead of after the part's end.
    stream.destroy()
  })
  const handle = await open(path, 'wx')
  const hash = new Bun.CryptoHasher('sha256')
  const head: Uint8Array[] = []
  let headBytes = 0
  let size = 0
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.byteLength
      hash.update(chunk)
      if (headBytes < SNIFF_BYTES) {
        const part = chunk.subarray(0, SNIFF_BYTES - headBytes)
        head.push(new Uint8Array(part))
        headBytes += part.byteLength
      }
      await handle.write(chunk)
    }
    if (tooBig) throw tooLarge(maxBytes)
    // On disk before it is renamed into place: a crash after the rename finds the whole file.
    await handle.sync()
  } catch (error) {
    throw tooBig ? tooLarge(maxBytes) : error
  } finally {
    await handle.close()
  }
  return { size, sha256: hash.digest('hex'), head: Buffer.concat(head, headBytes), filename }
}
