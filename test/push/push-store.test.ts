// The PushStore contract on both databases: subscriptions move between users by endpoint, a gone
// subscription takes its retries with it, and a claimed retry is not claimed again during its lease.
import { afterAll, describe, expect, test } from 'bun:test'
import { openPgStore } from '../../src/db/pg-store'
import { openSqliteStore } from '../../src/db/sqlite-store'
import type { Store } from '../../src/db/store'
import { createTestDatabase, postgresUnavailable } from '../helpers/services'

const pgSkip = await postgresUnavailable()
if (pgSkip) console.warn(`PostgreSQL push store skipped: ${pgSkip}`)
const cleanups: (() => Promise<unknown>)[] = []
afterAll(async () => {
  for (const c of cleanups.reverse()) await c()
})

const stores: [string, () => Promise<Store>, boolean][] = [
  ['SQLite', async () => openSqliteStore(':memory:'), false],
  [
    'PostgreSQL',
    async () => {
      const db = await createTestDatabase()
      const store = await openPgStore(db.url)
      cleanups.push(() => db.drop(), () => store.close())
      return store
    },
    !!pgSkip,
  ],
]

for (const [name, open, skip] of stores) {
  describe.skipIf(skip)(`${name} push store`, () => {
    test('subscriptions, retries and their claims', async () => {
      const store = await open()
      const { push } = store
      await push.saveSubscription({ userId: 1, endpoint: 'https://p.example/a', p256dh: 'k1', auth: 'a1' })
      await push.saveSubscription({ userId: 2, endpoint: 'https://p.example/a', p256dh: 'k2', auth: 'a2' })
      expect(await push.subscriptionsOf([1])).toEqual([])
      const [sub] = await push.subscriptionsOf([1, 2])
      expect(sub).toMatchObject({ userId: 2, p256dh: 'k2', auth: 'a2' })
      expect(await push.deleteSubscription(1, 'https://p.example/a')).toBe(false)

      await push.addRetry({ subscriptionId: sub.id, payload: '{}', topic: 'd_1_2', urgency: 'high', ttl: 60, attempts: 1, dueAt: 1000, firstFailedAt: 900 })
      expect(await push.claimRetries(999, 10, 5000)).toEqual([])
      const [claimed] = await push.claimRetries(1000, 10, 5000)
      expect(claimed).toMatchObject({ subscriptionId: sub.id, topic: 'd_1_2', urgency: 'high', ttl: 60, attempts: 1, firstFailedAt: 900 })
      // Leased: not due again until the lease is over.
      expect(await push.claimRetries(2000, 10, 5000)).toEqual([])
      expect((await push.claimRetries(6000, 10, 5000)).length).toBe(1)
      await push.deleteSubscriptionById(sub.id)
      expect(await push.claimRetries(1e12, 10, 0)).toEqual([])
      await store.close()
    })
  })
}
