/**
 * Copies the WAL of one SQLite database back into the database file, on its own thread and
 * connection (see checkpointer.ts): when told that enough was written, and at least every
 * `fallbackMs`. PASSIVE: it never waits for the writer or for readers. After a pass that copied
 * something it says so, and the main connection copies the few frames committed meanwhile.
 */
import { Database } from 'bun:sqlite'
import { isBusy } from './checkpointer'

declare const self: Worker

let checkpoint: (() => void) | null = null

self.onmessage = (event: MessageEvent<{ path: string; fallbackMs: number } | 'checkpoint'>) => {
  if (event.data === 'checkpoint') return checkpoint?.()
  const db = new Database(event.data.path)
  db.exec('PRAGMA busy_timeout = 1000')
  db.exec('PRAGMA synchronous = NORMAL')
  const statement = db.prepare<{ busy: number; log: number; checkpointed: number }, []>('PRAGMA wal_checkpoint(PASSIVE)')
  checkpoint = () => {
    try {
      const result = statement.get()
      if (!result || result.checkpointed <= 0) return
      // Again at once: it copies what was committed during the first pass, little, so that the main
      // connection is left with less still.
      statement.get()
      self.postMessage('checkpointed')
    } catch (error) {
      if (!isBusy(error)) throw error
    }
  }
  setInterval(checkpoint, event.data.fallbackMs)
}
