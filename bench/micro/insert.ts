/**
 * Micro-benchmark of the store's message insert (SqliteStore.insertMessages, on a file, with its
 * idempotency window), at several batch sizes, with recipients spread as in the 1:1 scenario
 * (50 pairs). Each size runs REPS times, interleaved; the median is printed.
 *
 *   bun bench/micro/insert.ts [rows per batch ...]        default: 25 100 400
 *   ROWS=20000 REPS=3 bun bench/micro/insert.ts 1 10 100
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { directConv, type NewMessage } from '../../src/db/store'
import { openSqliteStore } from '../../src/db/sqlite-store'

const sizes = process.argv.slice(2).map(Number).filter(Boolean)
const batches = sizes.length ? sizes : [25, 100, 400]
const TOTAL = Number(process.env.ROWS ?? 60_000)
const REPS = Number(process.env.REPS ?? 5)
const USERS = 100

// client_ids as they arrive from a socket: flat strings, as JSON.parse makes them.
const clientIds = Array.from({ length: TOTAL }, (_, i) => JSON.parse(JSON.stringify(`1:${1 + (i % USERS)}:${i}`)) as string)

function message(i: number): NewMessage {
  const sender = 1 + (i % USERS)
  const recipient = sender % 2 ? sender + 1 : sender - 1
  return { conv: directConv(sender, recipient), senderId: sender, recipientId: recipient, groupId: null, body: `${i} load generator message, sixty-odd bytes long`, messageType: 'text', clientId: clientIds[i], status: 'delivered', createdAt: Date.now() }
}

async function cpuPerRow(size: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'insert-bench-'))
  const store = openSqliteStore(join(dir, 'db.sqlite'))
  const rows = Array.from({ length: TOTAL }, (_, i) => message(i))
  // Warm-up: a first 20% of rows, so the index is not empty.
  let i = 0
  for (; i < TOTAL / 5; i += size) await store.insertMessages(rows.slice(i, i + size))
  const cpu0 = process.cpuUsage()
  for (; i < TOTAL; i += size) await store.insertMessages(rows.slice(i, i + size))
  const cpu = process.cpuUsage(cpu0)
  await store.close()
  rmSync(dir, { recursive: true, force: true })
  return (cpu.user + cpu.system) / (TOTAL - TOTAL / 5)
}

const results = new Map<number, number[]>()
for (let rep = 0; rep < REPS; rep++) for (const size of batches) results.set(size, [...(results.get(size) ?? []), await cpuPerRow(size)])
for (const [size, xs] of results) {
  xs.sort((a, b) => a - b)
  console.log(`${String(size).padStart(5)} rows/commit: median ${xs[xs.length >> 1].toFixed(2)} µs CPU per row  [${xs.map((x) => x.toFixed(1)).join(' ')}]`)
}
