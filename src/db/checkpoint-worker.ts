/**
 * Copies the WAL of one SQLite database back into the database file, on its own thread and
 * connection (see checkpointer.ts). PASSIVE: it never waits for the writer or for readers.
 */
import { Database } from 'bun:sqlite'

declare const self: Worker

self.onmessage = (event: MessageEvent<{ path: string; intervalMs: number }>) => {
  const { path, intervalMs } = event.data
  const db = new Database(path)
  db.exec('PRAGMA busy_timeout = 1000')
  db.exec('PRAGMA synchronous = NORMAL')
  const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)')
  setInterval(() => {
    try {
      checkpoint.get()
    } catch (error) {
      // Another checkpoint (the main connection's) is running: the next round catches up.
      if (!(error instanceof Error && /busy|locked/i.test(error.message))) throw error
    }
  }, intervalMs)
}
