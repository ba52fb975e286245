/**
 * Micro-benchmark of what the full-text index (SQLite migration 0007) costs the message insert:
 * SqliteStore.insertMessages on a file with the index and with its one statement skipped, and on a
 * bare table the two ways of feeding FTS5 (an AFTER INSERT trigger, one statement a batch).
 * Interleaved, REPS times each; medians of CPU per row.
 *
 *   bun bench/micro/search-index.ts            ROWS=60000 REPS=5 BATCH=200 by default
 */
import { Database } from 'bun:sqlite'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { directConv, type NewMessage } from '../../src/db/store'
import { openSqliteStore } from '../../src/db/sqlite-store'

const TOTAL = Number(process.env.ROWS ?? 60_000)
const REPS = Number(process.env.REPS ?? 5)
const BATCH = Number(process.env.BATCH ?? 200)
const USERS = 100
const body = (i: number) => `${i} load generator message, sixty-odd bytes long`

function message(i: number): NewMessage {
  const sender = 1 + (i % USERS)
  const recipient = sender % 2 ? sender + 1 : sender - 1
  return { conv: directConv(sender, recipient), senderId: sender, recipientId: recipient, groupId: null, body: body(i), messageType: 'text', clientId: `1:${sender}:${i}`, status: 'delivered', createdAt: Date.now() }
}

/** CPU µs per row over the last 80 % of TOTAL rows (the first 20 % warm the file up). */
async function measure(insert: (from: number, to: number) => unknown): Promise<number> {
  let i = 0
  for (; i < TOTAL / 5; i += BATCH) await insert(i, Math.min(i + BATCH, TOTAL))
  const cpu0 = process.cpuUsage()
  for (; i < TOTAL; i += BATCH) await insert(i, Math.min(i + BATCH, TOTAL))
  const cpu = process.cpuUsage(cpu0)
  return (cpu.user + cpu.system) / (TOTAL - TOTAL / 5)
}

async function store(indexed: boolean): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'search-bench-'))
  const s = openSqliteStore(join(dir, 'db.sqlite'))
  if (!indexed) {
    // The store's one statement into message_search, skipped: the insert as it was before 0007.
    const client = (s as any).client as Database
    const query = client.query.bind(client)
    ;(client as any).query = (text: string) => (text.includes('message_search') ? { run() {} } : query(text))
  }
  const rows = Array.from({ length: TOTAL }, (_, i) => message(i))
  const us = await measure((from, to) => s.insertMessages(rows.slice(from, to)))
  await s.close()
  rmSync(dir, { recursive: true, force: true })
  return us
}

async function bare(feed: 'trigger' | 'statement'): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'search-bench-'))
  const db = new Database(join(dir, 'db.sqlite'))
  db.exec('pragma journal_mode = wal; pragma synchronous = normal')
  db.exec('create table messages (id integer primary key, body text not null)')
  db.exec(`create virtual table message_search using fts5(body, content='messages', content_rowid='id', columnsize=0, tokenize='unicode61 remove_diacritics 2')`)
  if (feed === 'trigger') db.exec('create trigger ai after insert on messages begin insert into message_search (rowid, body) values (new.id, new.body); end')
  const insert = db.prepare('insert into messages (body) values (?)')
  const index = db.prepare('insert into message_search (rowid, body) select id, body from messages where id between ? and ?')
  const batch = db.transaction((from: number, to: number) => {
    let first = 0
    let last = 0
    for (let i = from; i < to; i++) {
      last = Number(insert.run(body(i)).lastInsertRowid)
      first ||= last
    }
    if (feed === 'statement') index.run(first, last)
  })
  const us = await measure((from, to) => batch(from, to))
  db.close()
  rmSync(dir, { recursive: true, force: true })
  return us
}

const cases: [string, () => Promise<number>][] = [
  ['store, without the index', () => store(false)],
  ['store, with the index', () => store(true)],
  ['bare table, FTS5 fed by a trigger', () => bare('trigger')],
  ['bare table, FTS5 fed once a batch', () => bare('statement')],
]
const results = new Map<string, number[]>()
for (let rep = 0; rep < REPS; rep++) for (const [name, run] of cases) results.set(name, [...(results.get(name) ?? []), await run()])
console.log(`${TOTAL} rows, ${BATCH} a commit`)
for (const [name, xs] of results) {
  xs.sort((a, b) => a - b)
  console.log(`${name.padEnd(36)} median ${xs[xs.length >> 1].toFixed(2)} µs CPU per row  [${xs.map((x) => x.toFixed(1)).join(' ')}]`)
}
