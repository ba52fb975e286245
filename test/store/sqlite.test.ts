import { DEFAULT_SQLITE_OPTIONS, openSqliteStore } from '../../src/db/sqlite-store'
import { expect, test } from 'bun:test'
import { direct, insertMany, storeContract, undelivered } from './contract'

storeContract('SQLite (:memory:)', {
  open: async () => openSqliteStore(':memory:'),
  release: (store) => store.close(),
})

// conversation_runs listed by the writer every 2 messages, so that reads find some messages
// listed in a batch's own transaction and the rest listed on the way.
storeContract('SQLite (:memory:), conversations listed every 2 messages', {
  open: async () => openSqliteStore(':memory:', { ...DEFAULT_SQLITE_OPTIONS, indexEveryRows: 2 }),
  release: (store) => store.close(),
})

test('a backlog beyond SQLite’s variable limit (250,000 in this build) is marked delivered', async () => {
  const store = openSqliteStore(':memory:')
  const a = (await store.createUser({ username: 'a' })).id
  const b = (await store.createUser({ username: 'b' })).id
  const stored = await insertMany(store, 260_000, (i) => direct(a, b, `m${i}`))
  const events = await store.recordDelivered([{ userId: b, messageIds: stored, groupsUpTo: 0 }], (m, by) => ({
    userId: m.senderId,
    groupId: null,
    frame: { type: 'message_status', message_id: m.id, status: 'delivered', user_id: by, timestamp: '' },
  }))
  expect(events.length).toBe(260_000)
  expect(await undelivered(store, b)).toEqual([])
  await store.close()
}, 60_000)
