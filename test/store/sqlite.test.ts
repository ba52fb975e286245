import { DEFAULT_SQLITE_OPTIONS, openSqliteStore } from '../../src/db/sqlite-store'
import { storeContract } from './contract'

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
