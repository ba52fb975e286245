import { afterAll, beforeAll } from 'bun:test'
import { openPgStore, type PgStore } from '../../src/db/pg-store'
import { createTestDatabase, postgresUnavailable } from '../helpers/services'
import { storeContract } from './contract'

const skipReason = await postgresUnavailable()
if (skipReason) console.warn(`PostgreSQL store contract skipped: ${skipReason}`)

let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined
let store: PgStore | undefined

beforeAll(async () => {
  if (skipReason) return
  database = await createTestDatabase()
  // Migrating twice is how a second instance starts: it must be a no-op.
  await (await openPgStore(database.url)).close()
  store = await openPgStore(database.url)
})

afterAll(async () => {
  await store?.close()
  await database?.drop()
})

storeContract(
  'PostgreSQL',
  {
    async open() {
      await (store as any).client`truncate messages, stream_events, group_members, groups, users, attachments, message_attachments restart identity cascade`
      await (store as any).client`update stream_state set pruned_seq = 0`
      return store!
    },
    release: async () => {},
  },
  skipReason,
)
