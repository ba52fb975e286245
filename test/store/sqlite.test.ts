import { openSqliteStore } from '../../src/db/sqlite-store'
import { storeContract } from './contract'

storeContract('SQLite (:memory:)', {
  open: async () => openSqliteStore(':memory:'),
  release: (store) => store.close(),
})
