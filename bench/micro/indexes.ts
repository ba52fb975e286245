/**
 * Micro-benchmark: what each secondary index of `messages` costs an insert, on a bare bun:sqlite
 * table (WAL, synchronous=NORMAL), with 100 users in 50 pairs as in the 1:1 scenario.
 *
 *   bun bench/micro/indexes.ts [rows per commit]          index sets
 *   V=2 bun bench/micro/indexes.ts [rows per commit]      index sets and page size
 *   V=3 bun bench/micro/indexes.ts [rows per commit]      pragmas on the current index set
 */
import { Database } from 'bun:sqlite'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
const TOTAL = 60000, USERS = 100
const base = `create table messages (id integer primary key autoincrement, conv text not null, sender_id integer not null, recipient_id integer, group_id integer, body text not null, message_type text not null default 'text', client_id text, status text not null default 'sent', created_at integer not null, read_at integer)`
const IDX: Record<string,string> = {
  conv: 'create index messages_conv on messages (conv, id)',
  recipient: 'create index messages_recipient on messages (recipient_id, id)',
  sender: 'create index messages_sender on messages (sender_id, id)',
  undelivered: "create index messages_undelivered on messages (recipient_id, id) where status = 'sent' and recipient_id is not null",
  client: 'create unique index messages_client on messages (sender_id, client_id)',
}
const cur = ['conv','recipient','undelivered','client']
const v3: [string, string[], string[]][] = [
  ['cur', cur, []],
  ['cur cache64M', cur, ['pragma cache_size = -65536']],
  ['cur mmap', cur, ['pragma mmap_size = 268435456']],
  ['cur exclusive', cur, ['pragma locking_mode = exclusive']],
  ['cur all3', cur, ['pragma cache_size = -65536', 'pragma mmap_size = 268435456', 'pragma locking_mode = exclusive']],
]
const variants: [string, string[], string[]][] = process.env.V === '3' ? [...v3, ...v3] : process.env.V === '2' ? [
  ['all', Object.keys(IDX), []],
  ['all page1024', Object.keys(IDX), ['pragma page_size = 1024']],
  ['all-no-sender', ['conv','recipient','undelivered','client'], []],
  ['all-no-sender page1024', ['conv','recipient','undelivered','client'], ['pragma page_size = 1024']],
  ['all-no-sender-no-recipient', ['conv','undelivered','client'], []],
] : [
  ['none', [], []],
  ['all', Object.keys(IDX), []],
  ['all-no-sender', ['conv','recipient','undelivered','client'], []],
  ['all-no-client', ['conv','recipient','sender','undelivered'], []],
  ['all cache64M', Object.keys(IDX), ['pragma cache_size = -65536']],
  ['all cache64M ckpt100k', Object.keys(IDX), ['pragma cache_size = -65536', 'pragma wal_autocheckpoint = 100000']],
]
const size = Number(process.argv[2] ?? 100)
for (const [name, idx, pragmas] of variants) {
  const dir = mkdtempSync(join(tmpdir(), 'idx-'))
  const db = new Database(join(dir, 'db'), { create: true })
  for (const p of pragmas) db.exec(p)
  db.exec('PRAGMA journal_mode = WAL'); db.exec('PRAGMA synchronous = NORMAL'); db.exec('PRAGMA wal_autocheckpoint = 10000')
  db.exec(base); for (const i of idx) db.exec(IDX[i])
  const st = db.prepare('insert into messages (conv, sender_id, recipient_id, group_id, body, message_type, client_id, status, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing returning id')
  const tx = db.transaction((from: number) => { for (let i = from; i < from + size; i++) { const s = 1 + (i % USERS); const r = s % 2 ? s + 1 : s - 1; st.get(`d:${Math.min(s,r)}:${Math.max(s,r)}`, s, r, null, `${i} load generator message, sixty-odd bytes long`, 'text', `1:${s}:${i}`, 'delivered', Date.now()) } })
  let i = 0
  for (; i < TOTAL / 6; i += size) tx(i)
  const c0 = process.cpuUsage(); const t0 = performance.now()
  for (; i < TOTAL; i += size) tx(i)
  const c = process.cpuUsage(c0); const n = TOTAL - TOTAL / 6
  console.log(`${name.padEnd(24)} ${size}/commit: ${((c.user + c.system) / n).toFixed(2)} µs CPU/row (user ${(c.user/n).toFixed(2)} sys ${(c.system/n).toFixed(2)}), ${((performance.now() - t0) * 1000 / n).toFixed(2)} µs wall/row`)
  db.close(); rmSync(dir, { recursive: true, force: true })
}
