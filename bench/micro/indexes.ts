/**
 * Micro-benchmark: what the shape of `messages` costs an insert, on a bare bun:sqlite table (WAL,
 * synchronous=NORMAL), with 100 users in 50 pairs as in the 1:1 scenario, at one batch size.
 * Every variant runs REPS times, interleaved; the median is printed.
 *
 *   bun bench/micro/indexes.ts [rows per commit]          default 200
 *
 * Variants: the index set and insert before migration 0002 (conv, recipient, undelivered and the
 * unique client index; AUTOINCREMENT; RETURNING id), then one change at a time, then the shape after
 * 0002 (conv and undelivered; rowid; lastInsertRowid), what the store did with 0003 (undelivered
 * only; conversation_messages filled in one sorted pass every 4,096 rows, a row a message), what it
 * does since 0004 (the same every 4,096 rows, as a row a conversation: conversation_runs), and a
 * table with no secondary index.
 */
import { Database } from 'bun:sqlite'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const TOTAL = Number(process.env.ROWS ?? 100_000)
const REPS = Number(process.env.REPS ?? 5)
const USERS = 100
const size = Number(process.argv[2] ?? 200)

const table = (autoincrement: boolean) =>
  `create table messages (id integer primary key${autoincrement ? ' autoincrement' : ''}, conv text not null, sender_id integer not null, recipient_id integer, group_id integer, body text not null, message_type text not null default 'text', client_id text, status text not null default 'sent', created_at integer not null, read_at integer)`
const INDEX = {
  conv: 'create index messages_conv on messages (conv, id)',
  recipient: 'create index messages_recipient on messages (recipient_id, id)',
  undelivered: "create index messages_undelivered on messages (recipient_id, id) where status = 'sent' and recipient_id is not null",
  client: 'create unique index messages_client on messages (sender_id, client_id)',
}
/** `listEvery`: rows between two passes over conversation_messages, or conversation_runs with `runs`. */
type Variant = { indexes: (keyof typeof INDEX)[]; autoincrement: boolean; returning: boolean; listEvery?: number; runs?: boolean }
const before: Variant = { indexes: ['conv', 'recipient', 'undelivered', 'client'], autoincrement: true, returning: true }
const VARIANTS: Record<string, Variant> = {
  'before 0002': before,
  'no client index': { ...before, indexes: ['conv', 'recipient', 'undelivered'] },
  'no recipient index': { ...before, indexes: ['conv', 'undelivered', 'client'] },
  'no RETURNING': { ...before, returning: false },
  'no AUTOINCREMENT': { ...before, autoincrement: false },
  'after 0002': { indexes: ['conv', 'undelivered'], autoincrement: false, returning: false },
  '0003 (a row a msg)': { indexes: ['undelivered'], autoincrement: false, returning: false, listEvery: 4096 },
  'now (store, runs)': { indexes: ['undelivered'], autoincrement: false, returning: false, listEvery: 4096, runs: true },
  'no secondary index': { indexes: [], autoincrement: false, returning: false },
}
// client_ids as they arrive from a socket: flat strings, as JSON.parse makes them.
const clientIds = Array.from({ length: TOTAL }, (_, i) => JSON.parse(JSON.stringify(`1:${1 + (i % USERS)}:${i}`)) as string)

function cpuPerRow(v: Variant): number {
  const dir = mkdtempSync(join(tmpdir(), 'idx-'))
  const db = new Database(join(dir, 'db'), { create: true, strict: true })
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA synchronous = NORMAL')
  db.exec('PRAGMA wal_autocheckpoint = 10000')
  db.exec(table(v.autoincrement))
  for (const i of v.indexes) db.exec(INDEX[i])
  const conflict = v.indexes.includes('client') ? ' on conflict do nothing' : ''
  const insert = db.prepare(
    `insert into messages (conv, sender_id, recipient_id, group_id, body, message_type, client_id, status, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)${conflict}${v.returning ? ' returning id' : ''}`,
  )
  db.exec('create table conversation_messages (conv text not null, id integer not null, primary key (conv, id)) without rowid')
  const list = db.prepare('insert into conversation_messages (conv, id) select conv, id from messages where id > ? order by 1, 2')
  db.exec('create table conversation_runs (conv text not null, first_id integer not null, last_id integer not null, ids text not null, primary key (conv, first_id)) without rowid')
  const addRun = db.prepare('insert into conversation_runs (conv, first_id, last_id, ids) values (?, ?, ?, ?)')
  // As ConversationIndex holds them: each stored message's conversation and id, grouped at a pass.
  let waitingConvs: string[] = []
  let waitingIds: number[] = []
  let listed = 0
  let waiting = 0
  const batch = db.transaction((from: number) => {
    if (v.listEvery && (waiting += size) >= v.listEvery) {
      if (v.runs) {
        const byConv = new Map<string, number[]>()
        for (let j = 0; j < waitingIds.length; j++) {
          const ids = byConv.get(waitingConvs[j])
          if (ids) ids.push(waitingIds[j])
          else byConv.set(waitingConvs[j], [waitingIds[j]])
        }
        for (const [conv, ids] of byConv) addRun.run(conv, ids[0], ids[ids.length - 1], JSON.stringify(ids))
        waitingConvs = []
        waitingIds = []
      } else list.run(listed)
      listed = from
      waiting = 0
    }
    for (let i = from; i < from + size; i++) {
      const s = 1 + (i % USERS)
      const r = s % 2 ? s + 1 : s - 1
      const args = [s < r ? `d:${s}:${r}` : `d:${r}:${s}`, s, r, null, 'load generator message, sixty-odd bytes long', 'text', clientIds[i], 'delivered', Date.now()] as const
      if (v.returning) insert.get(...args)
      else {
        const id = Number(insert.run(...args).lastInsertRowid)
        if (v.runs) waitingConvs.push(args[0]), waitingIds.push(id)
      }
    }
  })
  let i = 0
  for (; i < TOTAL / 5; i += size) batch(i)
  const cpu0 = process.cpuUsage()
  for (; i < TOTAL; i += size) batch(i)
  const cpu = process.cpuUsage(cpu0)
  db.close()
  rmSync(dir, { recursive: true, force: true })
  return (cpu.user + cpu.system) / (TOTAL - TOTAL / 5)
}

const results = new Map<string, number[]>()
for (let rep = 0; rep < REPS; rep++) for (const [name, v] of Object.entries(VARIANTS)) results.set(name, [...(results.get(name) ?? []), cpuPerRow(v)])
console.log(`${size} rows per commit, ${TOTAL} rows, median of ${REPS}:`)
for (const [name, xs] of results) {
  xs.sort((a, b) => a - b)
  console.log(`${name.padEnd(20)} ${xs[xs.length >> 1].toFixed(2)} µs CPU per row  [${xs.map((x) => x.toFixed(1)).join(' ')}]`)
}
