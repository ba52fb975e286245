import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkKey, type BlobStore } from './storage'

export interface S3Settings {
  /** `s3://bucket` or `s3://bucket/prefix`. */
  url: string
  endpoint: string | null
  accessKeyId: string | null
  secretAccessKey: string | null
  region: string | null
  /** Where uploads are spooled before they are sent (a local folder). */
  spoolDir?: string
}

/**
 * Attachment bytes in an S3-compatible bucket, through Bun's built-in S3 client. An upload is
 * spooled to a local file while it arrives (its hash, the key, is known only at its end), then
 * sent; S3 makes an object visible only once it is complete, so a crash mid-upload shows nothing.
 */
export class S3Storage implements BlobStore {
  readonly spoolDir: string
  private readonly client: Bun.S3Client
  private readonly prefix: string

  constructor(settings: S3Settings) {
    const match = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(settings.url)
    if (!match) throw new Error(`not an s3:// URL: ${settings.url}`)
    const [, bucket, prefix] = match
    this.prefix = prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix
    // Unset settings are left to Bun, which reads S3_* (and AWS_*) from the environment itself.
    this.client = new Bun.S3Client({
      bucket,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      ...(settings.accessKeyId ? { accessKeyId: settings.accessKeyId } : {}),
      ...(settings.secretAccessKey ? { secretAccessKey: settings.secretAccessKey } : {}),
      ...(settings.region ? { region: settings.region } : {}),
    })
    this.spoolDir = settings.spoolDir ?? join(tmpdir(), 'switchboard-uploads')
  }

  cleanSpool(): void {}

  private keyOf(key: string): string {
    return this.prefix + checkKey(key)
  }

  async putFile(key: string, path: string, contentType: string): Promise<void> {
    try {
      await this.client.write(this.keyOf(key), Bun.file(path), { type: contentType })
    } finally {
      await rm(path, { force: true })
    }
  }

  async putBytes(key: string, bytes: Uint8Array, contentType: string): Promise<void> {
    await this.client.write(this.keyOf(key), bytes, { type: contentType })
  }

  async read(key: string, range?: { start: number; end: number }): Promise<BodyInit> {
    const file = this.client.file(this.keyOf(key))
    return (range ? file.slice(range.start, range.end + 1) : file).stream()
  }

  async delete(key: string): Promise<void> {
    await this.client.delete(this.keyOf(key))
  }
}
