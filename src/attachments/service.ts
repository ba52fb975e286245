import { mkdir, rm } from 'node:fs/promises'
import type { Attachment, Store } from '../db/store'
import { AppError, forbidden, notFound } from '../http/errors'
import { RateLimiter } from '../limits/rate-limiter'
import type { Directory } from '../messages/directory'
import type { Logger } from '../observability/logger'
import { inspectImage } from './images'
import { attachmentView, type AttachmentView } from './model'
import { MULTIPART_SLACK, spoolUpload, tooLarge } from './multipart'
import { contentDisposition, displayName } from './names'
import type { BlobStore } from './storage'
import { detectType, isAllowed, isImage, isInlineSafe, servedType, THUMBNAIL_TYPES } from './types'

export interface AttachmentSettings {
  maxBytes: number
  allowedTypes: readonly string[]
  unsentTtlMs: number
  quotaBytes: number
  /** Null: uploads are not rate limited. */
  uploadRate: { perSecond: number; burst: number } | null
  /** A body of which nothing more arrives for this long gets 408. */
  stallMs: number
}

export interface AttachmentDeps {
  store: Store
  directory: Directory
  blobs: BlobStore
  logger: Logger
  settings: AttachmentSettings
}

/** A refusal that says when to come back (429). */
export class RetryLater extends AppError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(429, 'rate_limited', message)
  }
}

/** Attachments sent in one message, at most. */
export const MAX_ATTACHMENTS_PER_MESSAGE = 10

/** Unsent uploads deleted per sweep statement. */
const SWEEP_BATCH = 500

/** Headers every download and thumbnail carries: nothing uploaded may run as a page of this origin. */
const LOCKED_DOWN = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; sandbox",
  // Revalidated each time (If-None-Match answers 304 cheaply), so that a member who left loses access.
  'cache-control': 'private, no-cache',
  'cross-origin-resource-policy': 'same-origin',
} as const

const thumbKey = (sha256: string) => `${sha256}.thumb`
const attachmentNotFound = (id: string) => notFound('attachment_not_found', `attachment ${id} does not exist or was not sent to you`)

/**
 * Uploads, who may send and download what, and the sweep of uploads never sent. The bytes go to a
 * BlobStore under their sha256; the records and the links to messages to the Store.
 */
export class AttachmentService {
  private readonly uploads: RateLimiter<number> | null
  /** Hashes being stored by uploads in flight here: the sweep leaves their bytes alone. */
  private readonly storing = new Map<string, number>()
  private sweeper: ReturnType<typeof setInterval> | null = null

  constructor(private readonly deps: AttachmentDeps) {
    const rate = deps.settings.uploadRate
    this.uploads = rate ? new RateLimiter<number>(rate.perSecond, rate.burst) : null
  }

  /** The largest Content-Length an upload may declare before any of it is read. */
  get maxDeclaredBytes(): number {
    return this.deps.settings.maxBytes + MULTIPART_SLACK
  }

  /** Receives a multipart upload from `userId`, stores it, and answers its view. */
  async upload(userId: number, request: Request): Promise<AttachmentView> {
    const { store, directory, blobs, logger, settings } = this.deps
    if (!(await directory.userExists(userId))) throw notFound('unknown_user', `user ${userId} does not exist`)
    const wait = this.uploads?.take(userId) ?? 0
    if (wait > 0) throw new RetryLater(`too many uploads; retry in ${Math.ceil(wait / 1000)} s`, Math.ceil(wait / 1000))
    const left = settings.quotaBytes - (await store.uploadedBytes(userId))
    if (left <= 0) throw new AppError(413, 'quota_exceeded', `your uploads hold ${settings.quotaBytes} bytes, the most one user may store`)
    const declared = Number(request.headers.get('content-length') ?? 0)
    if (declared > this.maxDeclaredBytes) throw tooLarge(settings.maxBytes)

    await mkdir(blobs.spoolDir, { recursive: true })
    const maxBytes = Math.min(settings.maxBytes, left)
    let file
    try {
      file = await spoolUpload(request, { spoolDir: blobs.spoolDir, maxBytes, stallMs: settings.stallMs })
    } catch (error) {
      if (error instanceof AppError && error.code === 'attachment_too_large' && maxBytes < settings.maxBytes)
        throw new AppError(413, 'quota_exceeded', `the file is larger than the ${maxBytes} bytes left of your upload quota`)
      throw error
    }
    this.storing.set(file.sha256, (this.storing.get(file.sha256) ?? 0) + 1)
    try {
      if (file.size === 0) throw new AppError(400, 'empty_file', 'the file is empty')
      const contentType = await detectType(file.head, file.size <= file.head.byteLength)
      if (!isAllowed(contentType, settings.allowedTypes))
        throw new AppError(415, 'type_not_allowed', `files of type ${contentType} are not accepted (ATTACHMENT_TYPES)`)
      const image = THUMBNAIL_TYPES.has(contentType) ? await inspectImage(file.path, logger) : null
      // The thumbnail first and the record last: a crash in between leaves whole files no record
      // names, never a record without its bytes.
      if (image?.thumbnail) await blobs.putBytes(thumbKey(file.sha256), image.thumbnail, 'image/webp')
      await blobs.putFile(file.sha256, file.path, contentType)
      const attachment: Attachment = {
        id: newAttachmentId(),
        uploaderId: userId,
        sha256: file.sha256,
        contentType,
        size: file.size,
        name: displayName(file.filename),
        width: image?.width ?? null,
        height: image?.height ?? null,
        thumbnail: image?.thumbnail != null,
        createdAt: Date.now(),
      }
      await store.createAttachment(attachment)
      logger.debug({ user: userId, attachment: attachment.id, type: contentType, size: file.size }, 'attachment stored')
      return attachmentView(attachment)
    } finally {
      await rm(file.path, { force: true })
      const n = this.storing.get(file.sha256)! - 1
      if (n === 0) this.storing.delete(file.sha256)
      else this.storing.set(file.sha256, n)
    }
  }

  /**
   * The attachments of a message `senderId` sends, in the order given, or why not: each must exist
   * and be the sender's own upload; a message of type `image` carries images only.
   */
  async forSend(senderId: number, ids: string[], messageType: string): Promise<Attachment[] | AppError> {
    if (messageType !== 'image' && messageType !== 'file')
      return new AppError(400, 'invalid_message_type', `a message with attachment_ids has message_type "image" or "file", not "${messageType}"`)
    if (ids.length === 0) return new AppError(400, 'invalid_request', 'attachment_ids is empty')
    if (ids.length > MAX_ATTACHMENTS_PER_MESSAGE) return new AppError(400, 'too_many_attachments', `a message carries at most ${MAX_ATTACHMENTS_PER_MESSAGE} attachments`)
    if (new Set(ids).size !== ids.length) return new AppError(400, 'invalid_request', 'attachment_ids names an attachment twice')
    const byId = new Map((await this.deps.store.getAttachments(ids)).map((a) => [a.id, a]))
    const found: Attachment[] = []
    for (const id of ids) {
      const a = byId.get(id)
      // Someone else's upload answers as one that does not exist: ids are not to be probed.
      if (!a || a.uploaderId !== senderId) return forbidden('attachment_not_allowed', `attachment ${id} does not exist or was not uploaded by user ${senderId}`)
      if (messageType === 'image' && !isImage(a.contentType))
        return new AppError(400, 'not_an_image', `attachment ${id} is ${a.contentType}: send it with message_type "file"`)
      found.push(a)
    }
    // An unsent upload close to its sweep is refused, so that none is swept between this check
    // and the commit that links it: what passes has at least `margin` left.
    const { unsentTtlMs } = this.deps.settings
    const staleBefore = Date.now() - unsentTtlMs + Math.min(60_000, unsentTtlMs / 4)
    for (const a of found)
      if (a.createdAt < staleBefore && (await this.deps.store.attachmentConversations(a.id)).length === 0)
        return new AppError(410, 'attachment_expired', `attachment ${a.id} was not sent within ATTACHMENT_UNSENT_TTL_SECONDS of its upload; upload it again`)
    return found
  }

  /** The attachment, when `userId` may download it: its uploader, or a member of a conversation it was sent to. */
  async readable(userId: number, id: string): Promise<Attachment> {
    const [a] = await this.deps.store.getAttachments([id])
    if (!a) throw attachmentNotFound(id)
    if (a.uploaderId === userId) return a
    for (const conv of await this.deps.store.attachmentConversations(id)) {
      if (conv.startsWith('d:')) {
        const [, low, high] = conv.split(':').map(Number)
        if (low === userId || high === userId) return a
      } else if (conv.startsWith('g:')) {
        const members = await this.deps.directory.membersOf(Number(conv.slice(2)))
        if (members?.has(userId)) return a
      }
    }
    throw attachmentNotFound(id)
  }

  /** GET /attachments/{id}: the bytes, whole or a range, with headers that keep them inert. */
  async download(userId: number, id: string, headers: Headers): Promise<Response> {
    const a = await this.readable(userId, id)
    const etag = `"${a.sha256}"`
    const common: Record<string, string> = {
      ...LOCKED_DOWN,
      etag,
      'accept-ranges': 'bytes',
      'content-type': servedType(a.contentType),
      'content-disposition': contentDisposition(isInlineSafe(a.contentType) ? 'inline' : 'attachment', a.name),
    }
    if (matchesEtag(headers.get('if-none-match'), etag)) return new Response(null, { status: 304, headers: common })
    const ifRange = headers.get('if-range')
    const range = ifRange === null || ifRange === etag ? parseRange(headers.get('range'), a.size) : null
    if (range === 'unsatisfiable')
      return Response.json(
        { error: { code: 'range_not_satisfiable', message: `the file has ${a.size} bytes` } },
        { status: 416, headers: { ...LOCKED_DOWN, 'content-range': `bytes */${a.size}` } },
      )
    if (range) {
      const body = await this.deps.blobs.read(a.sha256, range)
      return new Response(body, {
        status: 206,
        headers: { ...common, 'content-range': `bytes ${range.start}-${range.end}/${a.size}`, 'content-length': String(range.end - range.start + 1) },
      })
    }
    return new Response(await this.deps.blobs.read(a.sha256), { headers: { ...common, 'content-length': String(a.size) } })
  }

  /** GET /attachments/{id}/thumbnail: a WebP of at most 320 pixels a side, for images. */
  async thumbnail(userId: number, id: string, headers: Headers): Promise<Response> {
    const a = await this.readable(userId, id)
    if (!a.thumbnail) throw notFound('no_thumbnail', `attachment ${id} has no thumbnail (it is not an image sharp can read)`)
    const etag = `"${a.sha256}.thumb"`
    const common = { ...LOCKED_DOWN, etag, 'content-type': 'image/webp', 'content-disposition': contentDisposition('inline', `${a.name}.webp`) }
    if (matchesEtag(headers.get('if-none-match'), etag)) return new Response(null, { status: 304, headers: common })
    return new Response(await this.deps.blobs.read(thumbKey(a.sha256)), { headers: common })
  }

  /** Deletes uploads older than the TTL that were never sent, and the bytes nothing else shares; returns how many. */
  async sweep(now = Date.now()): Promise<number> {
    let swept = 0
    for (;;) {
      const { deleted, orphaned } = await this.deps.store.sweepUnsentAttachments(now - this.deps.settings.unsentTtlMs, SWEEP_BATCH)
      for (const sha256 of orphaned) {
        if (this.storing.has(sha256)) continue
        await this.deps.blobs.delete(sha256)
        await this.deps.blobs.delete(thumbKey(sha256))
      }
      swept += deleted
      if (deleted < SWEEP_BATCH) return swept
    }
  }

  /**
   * Called when messages are deleted (the lifecycle's delete): their links go, then the
   * attachments no other message carries, then the bytes no other attachment shares.
   */
  async messagesDeleted(messageIds: number[]): Promise<void> {
    for (const sha256 of await this.deps.store.releaseMessageAttachments(messageIds)) {
      if (this.storing.has(sha256)) continue
      await this.deps.blobs.delete(sha256)
      await this.deps.blobs.delete(thumbKey(sha256))
    }
  }

  /** Cleans the spool and sweeps now and then: every quarter of the TTL, between 250 ms and a minute. */
  start(): void {
    this.deps.blobs.cleanSpool()
    const every = Math.min(60_000, Math.max(250, this.deps.settings.unsentTtlMs / 4))
    this.sweeper = setInterval(() => {
      this.sweep().catch((error) => this.deps.logger.warn({ err: error }, 'sweeping unsent attachments failed'))
    }, every)
    this.sweeper.unref()
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper)
    this.sweeper = null
  }
}

/** 128 random bits in base64url. */
function newAttachmentId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64url')
}

/** If-None-Match against one strong ETag, by weak comparison (RFC 9110 §13.1.2). */
function matchesEtag(header: string | null, etag: string): boolean {
  if (header === null) return false
  if (header.trim() === '*') return true
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)
}

/**
 * One byte range of a `Range: bytes=...` header (RFC 9110 §14.2). Null serves the whole file:
 * no header, another unit, several ranges or a malformed one, which a server may ignore.
 */
export function parseRange(header: string | null, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  if (header === null) return null
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!match) return null
  const [, first, last] = match
  if (first === '' && last === '') return null
  if (first === '') {
    const suffix = Number(last)
    if (suffix === 0 || size === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(first)
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1)
  if (last !== '' && Number(last) < start) return null
  if (start >= size) return 'unsatisfiable'
  return { start, end }
}
