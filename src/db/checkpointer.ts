import type { Database } from 'bun:sqlite'
import type { Logger } from '../observability/logger'

/**
 * The thread checkpoints after this many stored messages (a few MB of WAL under load), and at least
 * every FALLBACK_MS for the other writes (receipts, marks). Each checkpoint copies every page the
 * WAL holds once, however often it was rewritten: rarer checkpoints copy hot pages (a busy
 * conversation's index page, the table's last page) fewer times.
 */
export const CHECKPOINT_EVERY_ROWS = 8192
const FALLBACK_MS = 1000

/**
 * The main connection's own automatic checkpoint, only for when the thread is gone (200 MB).
 */
const FALLBACK_AUTOCHECKPOINT_PAGES = 50_000

/** A checkpoint refused because another one (on the other connection) is running: the next catches up. */
export function isBusy(error: unknown): boolean {
  return error instanceof Error && /busy|locked/i.test(error.message)
}

/**
 * A deleted message's text is gone from the database file at once (secure_delete), but the WAL
 * still holds the pages it was on until a checkpoint copies them back and the WAL starts over:
 * at most this long after a delete, a TRUNCATE checkpoint empties the WAL file.
 */
export const ERASE_WITHIN_MS = 10_000

export interface Checkpointer {
  /** The main connection stored `rows` messages. */
  wrote(rows: number): void
  /** Text was erased (a delete): the WAL is emptied within ERASE_WITHIN_MS. */
  erased(): void
  stop(): Promise<void>
}

/**
 * SQLite's automatic checkpoint runs inside the commit that crosses `wal_autocheckpoint`: with
 * 10,000 pages (40 MB) it held the event loop for tens of ms every second or so under load, the
 * largest part of the 1:1 p99 latency (docs/BENCHMARKS.md). A worker thread with its own connection
 * copies the bulk instead. When it has, the main connection copies what was committed during that
 * pass (a few commits' pages): a checkpoint that leaves nothing behind is what lets the next commit
 * start the WAL over from its beginning, and only the writer can be sure nothing was committed
 * meanwhile.
 */
export function startCheckpointer(client: Database, path: string, logger: Logger, eraseWithinMs = ERASE_WITHIN_MS): Checkpointer {
  const worker = new Worker(new URL('./checkpoint-worker.ts', import.meta.url))
  // Bun's Worker: the thread must not keep a process alive that is otherwise done...
  const handle = worker as Worker & { ref(): void; unref(): void }
  handle.unref()
  worker.onerror = (event) => {
    logger.error({ error: event.message }, 'the SQLite checkpoint thread failed; checkpoints run on the main thread again')
    client.exec('PRAGMA wal_autocheckpoint = 10000')
  }
  const finish = client.prepare('PRAGMA wal_checkpoint(PASSIVE)')
  worker.onmessage = () => {
    try {
      finish.get()
    } catch (error) {
      // The thread's next pass has begun: it will say so again when done.
      if (!isBusy(error)) logger.error({ err: error }, 'finishing a checkpoint failed')
    }
  }
  const closed = new Promise<void>((resolve) => worker.addEventListener('close', () => resolve(), { once: true }))
  worker.postMessage({ path, fallbackMs: FALLBACK_MS })
  client.exec(`PRAGMA wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`)
  let unsynced = 0
  let eraseTimer: ReturnType<typeof setTimeout> | null = null
  const truncate = client.prepare('PRAGMA wal_checkpoint(TRUNCATE)')
  const erase = () => {
    eraseTimer = null
    try {
      const result = truncate.get() as { busy: number } | null
      // A reader or the thread's pass held it: try again shortly.
      if (result?.busy) eraseTimer = setTimeout(erase, 100)
    } catch (error) {
      if (isBusy(error)) eraseTimer = setTimeout(erase, 100)
      else logger.error({ err: error }, 'emptying the WAL after a delete failed')
    }
  }
  return {
    erased() {
      eraseTimer ??= setTimeout(erase, eraseWithinMs)
    },
    wrote(rows) {
      unsynced += rows
      if (unsynced < CHECKPOINT_EVERY_ROWS) return
      unsynced = 0
      worker.postMessage('checkpoint')
    },
    async stop() {
      if (eraseTimer) clearTimeout(eraseTimer)
      // ...but while it stops, it must: the database closes after it.
      handle.ref()
      worker.terminate()
      await closed
    },
  }
}
