import type { Database } from 'bun:sqlite'

/**
 * The thread checkpoints after this many stored messages (about 0.5 to 2 MB of WAL under load),
 * and at least every FALLBACK_MS for the other writes (receipts, marks). A checkpoint on a timer
 * alone either lags under load or, at a few hundred messages a second, copies a handful of pages
 * and syncs the file twice every few ms.
 */
export const CHECKPOINT_EVERY_ROWS = 512
const FALLBACK_MS = 1000

/**
 * At this many pages (8 MB) the main connection checkpoints itself after a commit, as SQLite
 * always does; by then the thread has copied all but the last few hundred messages of it, so that
 * call is short, and it is what lets the next commit start the WAL over from its beginning (a
 * checkpoint on another connection cannot: the writer keeps adding frames while it runs).
 */
const MAIN_AUTOCHECKPOINT_PAGES = 2000

export interface Checkpointer {
  /** The main connection stored `rows` messages. */
  wrote(rows: number): void
  stop(): Promise<void>
}

/**
 * SQLite's automatic checkpoint runs inside the commit that crosses `wal_autocheckpoint`: with
 * 10,000 pages (40 MB) it held the event loop for tens of ms every second or so under load, the
 * largest part of the 1:1 p99 latency (docs/BENCHMARKS.md). A worker thread with its own connection
 * does the copying instead. If the thread fails, the main connection checkpoints as before.
 */
export function startCheckpointer(client: Database, path: string): Checkpointer {
  const worker = new Worker(new URL('./checkpoint-worker.ts', import.meta.url))
  // Bun's Worker: the thread must not keep a process alive that is otherwise done...
  const handle = worker as Worker & { ref(): void; unref(): void }
  handle.unref()
  worker.onerror = (event) => console.error('the SQLite checkpoint thread failed; checkpoints run on the main thread alone', event.message)
  const closed = new Promise<void>((resolve) => worker.addEventListener('close', () => resolve(), { once: true }))
  worker.postMessage({ path, fallbackMs: FALLBACK_MS })
  client.exec(`PRAGMA wal_autocheckpoint = ${MAIN_AUTOCHECKPOINT_PAGES}`)
  let unsynced = 0
  return {
    wrote(rows) {
      unsynced += rows
      if (unsynced < CHECKPOINT_EVERY_ROWS) return
      unsynced = 0
      worker.postMessage('checkpoint')
    },
    async stop() {
      // ...but while it stops, it must: the database closes after it.
      handle.ref()
      worker.terminate()
      await closed
    },
  }
}
