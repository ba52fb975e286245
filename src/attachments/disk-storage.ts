import { readdirSync, statSync, unlinkSync } from 'node:fs'
import { mkdir, open, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { checkKey, type BlobStore } from './storage'

/** Spooled files older than this at start-up are left over from a process that died mid-upload. */
const STALE_SPOOL_MS = 3600_000

/**
 * Attachment bytes in a folder: `<root>/<first two hex digits>/<sha256>`. Uploads are spooled to
 * `<root>/tmp/` (the same file system, so that the move is a rename: atomic, and a crash mid-upload
 * leaves only a temporary file, which no key names and which the next start removes).
 */
export class DiskStorage implements BlobStore {
  readonly spoolDir: string

  constructor(private readonly root: string) {
    this.spoolDir = join(root, 'tmp')
  }

  /** Removes what uploads interrupted by a crash left in the spool folder (nothing else ever reads it). */
  cleanSpool(): void {
    let names: string[]
    try {
      names = readdirSync(this.spoolDir)
    } catch {
      return
    }
    const staleBefore = Date.now() - STALE_SPOOL_MS
    for (const name of names) {
      const path = join(this.spoolDir, name)
      try {
        if (statSync(path).mtimeMs < staleBefore) unlinkSync(path)
      } catch {
        // Gone already, or another process's: nothing to clean.
      }
    }
  }

  private pathOf(key: string): string {
    return join(this.root, checkKey(key).slice(0, 2), key)
  }

  async putFile(key: string, path: string): Promise<void> {
    const target = this.pathOf(key)
    await mkdir(join(this.root, key.slice(0, 2)), { recursive: true })
    await rename(path, target)
  }

  async putBytes(key: string, bytes: Uint8Array): Promise<void> {
    const spooled = join(this.spoolDir, `${crypto.randomUUID()}.part`)
    const handle = await open(spooled, 'w')
    try {
      await handle.write(bytes)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await this.putFile(key, spooled)
  }

  async read(key: string, range?: { start: number; end: number }): Promise<BodyInit> {
    const file = Bun.file(this.pathOf(key))
    return range ? file.slice(range.start, range.end + 1) : file
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true })
  }
}
