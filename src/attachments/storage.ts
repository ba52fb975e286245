import { dirname, join } from 'node:path'

/**
 * Where attachment bytes live: a folder (disk-storage.ts) or an S3-compatible bucket
 * (s3-storage.ts). Keys are content hashes the service makes, never anything a client sent.
 */
export interface BlobStore {
  /** A local folder uploads are spooled to while they arrive (created by the service); `putFile` moves from it. */
  readonly spoolDir: string
  /** Removes spooled files that uploads interrupted by a crash left behind. */
  cleanSpool(): void
  /** Moves a complete spooled file in under `key` (replacing one there): readers see all of it or nothing. */
  putFile(key: string, path: string, contentType: string): Promise<void>
  /** Stores small bytes (a thumbnail) under `key`, whole or not at all. */
  putBytes(key: string, bytes: Uint8Array, contentType: string): Promise<void>
  /** The bytes `start` to `end` (inclusive) of `key`, or all of it. */
  read(key: string, range?: { start: number; end: number }): Promise<BodyInit>
  /** Deletes `key`; no error when it is not there. */
  delete(key: string): Promise<void>
}

/** Keys are a sha256 in hex, or one with a suffix the service adds (`.thumb`). */
export function checkKey(key: string): string {
  if (!/^[0-9a-f]{64}(\.thumb)?$/.test(key)) throw new Error(`not a storage key: ${key.slice(0, 80)}`)
  return key
}

/** The default folder for attachments: `attachments/` beside a SQLite file, else `data/attachments`. */
export function defaultAttachmentsDir(databaseUrl: string): string {
  const isFile = databaseUrl !== ':memory:' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(databaseUrl)
  return isFile ? join(dirname(databaseUrl), 'attachments') : join('data', 'attachments')
}
