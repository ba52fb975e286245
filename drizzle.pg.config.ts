import { defineConfig } from 'drizzle-kit'

// `npm run db:generate:pg` writes the PostgreSQL migrations that src/db/pg-store.ts applies at start-up.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/pg-schema.ts',
  out: './src/db/migrations/pg',
})
