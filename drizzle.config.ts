import { defineConfig } from 'drizzle-kit'

// `npm run db:generate` writes the SQLite migrations that src/db/migrate.ts applies at start-up.
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/db/schema.ts',
  out: './src/db/migrations/sqlite',
})
