import { describe, expect, test } from 'bun:test'
import { RUN_MAX_IDS } from '../../src/db/conversation-index'
import { openSqliteStore, DEFAULT_SQLITE_OPTIONS } from '../../src/db/sqlite-store'
import { directConv } from '../../src/db/store'
import { direct } from './contract'

/**
 * History pages read from conversation_runs against the plain answer (the messages filtered and
 * sorted), over conversations of every shape: one that fills more than RUN_MAX_IDS in a pass, quiet
 * ones with a message every few passes, and messages still waiting for a pass.
 */
describe('SQLite history through conversation runs', () => {
  test('every page, backwards and forwards, at random bounds, is the messages in that range', async () => {
    const store = openSqliteStore(':memory:', { ...DEFAULT_SQLITE_OPTIONS, indexEveryRows: 700 })
    const users: number[] = []
    for (let i = 0; i < 6; i++) users.push((await store.createUser({ username: `u${i}` })).id)
    // A seeded generator (mulberry32): a failure replays.
    let seed = 42
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
    }
    const all: { id: number; conv: string; senderId: number; recipientId: number; read?: boolean }[] = []
    for (let batch = 0; batch < 200; batch++) {
      const messages = Array.from({ length: 1 + Math.floor(random() * 20) }, () => {
        // Three in four to the busy pair, the rest spread over the quiet ones.
        const [a, b] = random() < 0.75 ? [users[0], users[1]] : [users[1 + Math.floor(random() * 5)], users[Math.floor(random() * 6)]]
        return direct(a, b, `m${all.length}`)
      })
      for (const r of await store.insertMessages(messages)) all.push({ id: r.message.id, conv: r.message.conv, senderId: r.message.senderId, recipientId: r.message.recipientId! })
    }
    const busy = directConv(users[0], users[1])
    expect(all.filter((m) => m.conv === busy).length).toBeGreaterThan(2 * RUN_MAX_IDS)
    const convs = [...new Set(all.map((m) => m.conv))]
    const maxId = all[all.length - 1].id
    for (let q = 0; q < 400; q++) {
      const conv = convs[Math.floor(random() * convs.length)]
      const after = random() < 0.5 ? Math.floor(random() * maxId) : undefined
      const before = random() < 0.5 ? Math.floor(random() * (maxId + 2)) : undefined
      const limit = 1 + Math.floor(random() * 300)
      const inRange = all.filter((m) => m.conv === conv && m.id > (after ?? 0) && m.id < (before ?? Infinity)).map((m) => m.id)
      const expected = after !== undefined ? inRange.slice(0, limit) : inRange.slice(-limit)
      const page = await store.history(conv, { after, before, limit })
      expect({ conv, after, before, limit, ids: page.map((m) => m.id) }).toEqual({ conv, after, before, limit, ids: expected })
    }
    // Unread counts go over every run of a conversation: against the plain count, after some reads.
    for (const m of all) if (random() < 0.3 && (await store.markDirectRead(m.id, Date.now(), []))) m.read = true
    for (const user of users) {
      const counts = Object.fromEntries((await store.conversations(user)).map((c) => [c.conv, c.unreadCount]))
      const expected = Object.fromEntries(Object.keys(counts).map((conv) => [conv, all.filter((m) => m.conv === conv && m.recipientId === user && m.senderId !== user && !m.read).length]))
      expect(counts).toEqual(expected)
    }
    await store.close()
  })

})
