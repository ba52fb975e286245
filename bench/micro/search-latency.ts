/**
 * Search latency over a large store: MESSAGES messages (default 1,000,000) between USERS users
 * (pairs, plus one group of 50 for every 50 users), bodies of 8 words drawn from a Zipf-like
 * vocabulary of 5,000 words, then searches for random users: a frequent word, a middling one, a
 * rare one, a 3-letter prefix and a two-word phrase. Prints p50 and p99 per kind.
 *
 *   bun bench/micro/search-latency.ts              SQLite on a file
 *   bun bench/micro/search-latency.ts --pg         PostgreSQL (TEST_POSTGRES_URL or the local one; a database of its own)
 *   MESSAGES=200000 SEARCHES=200 bun bench/micro/search-latency.ts
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { SearchTerm } from '../../src/db/search'
import { directConv, groupConv, type NewMessage, type Store } from '../../src/db/store'
import { openPgStore } from '../../src/db/pg-store'
import { openSqliteStore } from '../../src/db/sqlite-store'
import { createTestDatabase } from '../../test/helpers/services'

const MESSAGES = Number(process.env.MESSAGES ?? 1_000_000)
const USERS = Number(process.env.USERS ?? 1_000)
const SEARCHES = Number(process.env.SEARCHES ?? 300)
const VOCABULARY = 5_000
const pg = process.argv.includes('--pg')

// A fixed pseudo-random sequence, so that runs compare.
let seed = 42
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31)
const letters = 'abcdefghijklmnopqrstuvwxyz'
const words = Array.from({ length: VOCABULARY }, (_, i) => {
  let w = ''
  for (let n = i + 17_576; n > 0; n = Math.floor(n / 26)) w += letters[n % 26]
  return w
})
// Zipf-like: word rank r is drawn with probability about 1/r.
const zipf = () => words[Math.min(VOCABULARY - 1, Math.floor(Math.exp(random() * Math.log(VOCABULARY))) - 1)]
const body = () => Array.from({ length: 8 }, zipf).join(' ')

async function fill(store: Store): Promise<void> {
  for (let i = 0; i < USERS; i++) await store.createUser({ username: `u${i}` })
  for (let g = 0; g < USERS / 50; g++) await store.createGroup({ name: `g${g}`, createdBy: 1, memberIds: Array.from({ length: 50 }, (_, i) => g * 50 + i + 1) })
  for (let i = 0; i < MESSAGES; i += 5_000) {
    const batch: NewMessage[] = []
    for (let j = i; j < Math.min(i + 5_000, MESSAGES); j++) {
      const sender = 1 + Math.floor(random() * USERS)
      if (j % 10 === 0) {
        const group = 1 + Math.floor((sender - 1) / 50)
        batch.push({ conv: groupConv(group), senderId: sender, recipientId: null, groupId: group, body: body(), messageType: 'text', clientId: null, status: 'delivered', createdAt: Date.now() })
      } else {
        const recipient = sender % 2 ? Math.min(sender + 1, USERS) : sender - 1
        batch.push({ conv: directConv(sender, recipient), senderId: sender, recipientId: recipient, groupId: null, body: body(), messageType: 'text', clientId: null, status: 'delivered', createdAt: Date.now() })
      }
    }
    await store.insertMessages(batch)
  }
}

const kinds: [string, () => SearchTerm[]][] = [
  ['frequent word (rank 1-10)', () => [{ tokens: [words[Math.floor(random() * 10)]], prefix: false }]],
  ['middling word (rank 100-200)', () => [{ tokens: [words[100 + Math.floor(random() * 100)]], prefix: false }]],
  ['rare word (rank 4000-5000)', () => [{ tokens: [words[4_000 + Math.floor(random() * 1_000)]], prefix: false }]],
  ['3-letter prefix', () => [{ tokens: [words[Math.floor(random() * VOCABULARY)].slice(0, 3)], prefix: true }]],
  ['two-word phrase', () => [{ tokens: [words[Math.floor(random() * 20)], words[Math.floor(random() * 20)]], prefix: false }]],
]

const dir = mkdtempSync(join(tmpdir(), 'search-latency-'))
const database = pg ? await createTestDatabase() : undefined
const store: Store = database ? await openPgStore(database.url) : openSqliteStore(join(dir, 'db.sqlite'))
try {
  const t0 = performance.now()
  await fill(store)
  console.log(`${pg ? 'PostgreSQL' : 'SQLite'}: ${MESSAGES.toLocaleString()} messages, ${USERS} users, stored in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  // Statistics, as autovacuum gathers them after a bulk load: the planner needs them to choose the GIN index.
  if (pg && process.env.ANALYZE !== '0') await (store as any).client`analyze messages`
  for (const [kind, terms] of kinds) {
    const ms: number[] = []
    let found = 0
    for (let i = 0; i < SEARCHES; i++) {
      const userId = 1 + Math.floor(random() * USERS)
      const start = performance.now()
      found += (await store.searchMessages({ userId, terms: terms(), limit: 51 })).length
      ms.push(performance.now() - start)
    }
    ms.sort((a, b) => a - b)
    const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))].toFixed(2)
    console.log(`${kind.padEnd(30)} p50 ${at(0.5).padStart(8)} ms   p99 ${at(0.99).padStart(8)} ms   (${(found / SEARCHES).toFixed(1)} results a search)`)
  }
} finally {
  await store.close()
  await database?.drop()
  rmSync(dir, { recursive: true, force: true })
}
