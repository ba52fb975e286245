/**
 * Copies the WAL of one SQLite database back into the database file, on its own thread and
 * connection (see checkpointer.ts): when told that enough was written, and at least every
 * `fallbackMs`. PASSIVE: it never waits for the writer or for readers.
 */
import { Database } from 'bun:sqlite'

declare const self: Worker

let checkpoint: (() => void) | null = null

self.onmessage = (event: MessageEvent<{ path: string; fallbackMs: number } | 'checkpoint'>) => {
  if (event.data === 'checkpoint') return checkpoint?.()
  const db = new Database(event.data.path)
  db.exec('PRAGMA busy_timeout = 1000')
  db.exec('PRAGMA synchronous = NORMAL')
  const statement = db.prepare('PRAGMA wal_checkpoint(PASSIVE)')
  checkpoint = () => {
    try {
      statement.get()
    } catch (error) {
      // Another checkpoint (the main connection's) is running: the next one catches up.
      if (!(error instanceof Error && /busy|locked/i.test(error.message))) throw error
    }
  }
  setInterval(checkpoint, event.data.fallbackMs)
}
