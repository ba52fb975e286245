/**
 * Micro-benchmark of the message insert: Drizzle's prepared statement against the store's raw
 * bun:sqlite statement, at several batch sizes (each twice, interleaved), with recipients spread as in the 1:1 scenario (50 pairs).
 *
 *   bun bench/micro/insert.ts [rows per batch ...]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/bun-sqlite'
import { messages } from '../../src/db/schema'
import { directConv, type NewMessage } from '../../src/db/store'
import { openSqliteStore } from '../../src/db/sqlite-store'

/** The Drizzle prepared insert the store used before (same SQL semantics, one transaction per batch). */
function drizzleInsert(store: any) {
  const db = drizzle({ client: store.client })
  const p = (name: string) => sql.placeholder(name)
  const insert = db
    .insert(messages)
    .values({ conv: p('conv'), senderId: p('senderId'), recipientId: p('recipientId'), groupId: p('groupId'), body: p('body'), messageType: p('messageType'), clientId: p('clientId'), status: p('status'), createdAt: p('createdAt') })
    .onConflictDoNothing({ target: [messages.senderId, messages.clientId] })
    .returning({ id: messages.id })
    .prepare()
  return (batch: NewMessage[]) =>
    store.client.transaction(() => batch.map((m) => ({ message: { ...m, id: insert.get(m)!.id, readAt: null }, duplicate: false })))()
}

const sizes = process.argv.slice(2).map(Number).filter(Boolean)
const batches = sizes.length ? sizes : [25, 100, 400]
const TOTAL = Number(process.env.ROWS ?? 40_000)
const USERS = 100

function message(i: number): NewMessage {
  const sender = 1 + (i % USERS)
  const recipient = sender % 2 ? sender + 1 : sender - 1
  return { conv: directConv(sender, recipient), senderId: sender, recipientId: recipient, groupId: null, body: `${i} load generator message, sixty-odd bytes long`, messageType: 'text', clientId: `1:${sender}:${i}`, status: 'delivered', createdAt: Date.now() }
}

for (const size of [...batches, ...batches]) {
  for (const variant of ['drizzle', 'bun:sqlite'] as const) {
    const dir = mkdtempSync(join(tmpdir(), 'insert-bench-'))
    const store = openSqliteStore(join(dir, 'db.sqlite'))
    const rows = Array.from({ length: TOTAL }, (_, i) => message(i))
    // Warm-up: a first 10% of rows, so the indexes are not empty.
    const insert = variant === 'drizzle' ? drizzleInsert(store) : (b: NewMessage[]) => store.insertMessages(b)
    let i = 0
    for (; i < TOTAL / 10; i += size) await insert(rows.slice(i, i + size))
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    for (; i < TOTAL; i += size) await insert(rows.slice(i, i + size))
    const cpu = process.cpuUsage(cpu0)
    const n = TOTAL - TOTAL / 10
    console.log(`${variant.padEnd(10)} ${String(size).padStart(4)} rows/commit: ${((cpu.user + cpu.system) / n).toFixed(2)} µs CPU per row, ${(((performance.now() - t0) * 1000) / n).toFixed(2)} µs wall per row`)
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
