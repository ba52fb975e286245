/**
 * Micro-benchmark of the message insert: Drizzle's prepared statement against the raw bun:sqlite
 * statement, at several batch sizes, with recipients spread as in the 1:1 scenario (50 pairs).
 *
 *   bun bench/micro/insert.ts [rows per batch ...]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { directConv, type NewMessage } from '../../src/db/store'
import { openSqliteStore } from '../../src/db/sqlite-store'

const sizes = process.argv.slice(2).map(Number).filter(Boolean)
const batches = sizes.length ? sizes : [25, 100, 400]
const TOTAL = 40_000
const USERS = 100

function message(i: number): NewMessage {
  const sender = 1 + (i % USERS)
  const recipient = sender % 2 ? sender + 1 : sender - 1
  return { conv: directConv(sender, recipient), senderId: sender, recipientId: recipient, groupId: null, body: `${i} load generator message, sixty-odd bytes long`, messageType: 'text', clientId: `1:${sender}:${i}`, status: 'delivered', createdAt: Date.now() }
}

for (const size of [...batches, ...batches]) {
  for (const variant of ['drizzle', 'raw'] as const) {
    const dir = mkdtempSync(join(tmpdir(), 'insert-bench-'))
    const store = openSqliteStore(join(dir, 'db.sqlite'))
    const rows = Array.from({ length: TOTAL }, (_, i) => message(i))
    // Warm-up: a first 10% of rows, so the indexes are not empty.
    const insert = variant === 'drizzle' ? (b: NewMessage[]) => store.insertMessages(b) : (b: NewMessage[]) => (store as any).insertMessagesRaw(b)
    let i = 0
    for (; i < TOTAL / 10; i += size) await insert(rows.slice(i, i + size))
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    for (; i < TOTAL; i += size) await insert(rows.slice(i, i + size))
    const cpu = process.cpuUsage(cpu0)
    const n = TOTAL - TOTAL / 10
    console.log(`${variant.padEnd(8)} ${String(size).padStart(4)} rows/commit: ${((cpu.user + cpu.system) / n).toFixed(2)} µs CPU per row, ${(((performance.now() - t0) * 1000) / n).toFixed(2)} µs wall per row`)
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
