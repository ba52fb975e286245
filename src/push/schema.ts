import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import { bigint, index as pgIndex, integer as pgInteger, pgTable, text as pgText, uniqueIndex as pgUniqueIndex } from 'drizzle-orm/pg-core'

// The push tables (migrations sqlite/0010_push.sql, pg/0006_push.sql), for SQLite and for
// PostgreSQL: times are epoch milliseconds in both.

/** A browser's push subscription: one row an endpoint, owned by the user who last registered it. */
export const pushSubscriptions = sqliteTable(
  'push_subscriptions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    userId: integer('user_id').notNull(),
    endpoint: text('endpoint').notNull(),
    p256dh: text('p256dh').notNull(),
    auth: text('auth').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [uniqueIndex('push_subscriptions_endpoint').on(t.endpoint), index('push_subscriptions_user').on(t.userId)],
)

/**
 * A push the push service refused for a while (5xx, 429, a timeout): tried again at `dueAt`. Its
 * own table for now; webhooks' outbox takes these rows when the two are merged.
 */
export const pushRetries = sqliteTable(
  'push_retries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    subscriptionId: integer('subscription_id').notNull().references(() => pushSubscriptions.id, { onDelete: 'cascade' }),
    payload: text('payload').notNull(),
    topic: text('topic'),
    urgency: text('urgency').notNull(),
    ttl: integer('ttl').notNull(),
    attempts: integer('attempts').notNull(),
    dueAt: integer('due_at').notNull(),
    firstFailedAt: integer('first_failed_at').notNull(),
  },
  (t) => [index('push_retries_due').on(t.dueAt), index('push_retries_subscription').on(t.subscriptionId)],
)

export const pgPushSubscriptions = pgTable(
  'push_subscriptions',
  {
    id: pgInteger('id').primaryKey().generatedByDefaultAsIdentity(),
    userId: pgInteger('user_id').notNull(),
    endpoint: pgText('endpoint').notNull(),
    p256dh: pgText('p256dh').notNull(),
    auth: pgText('auth').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [pgUniqueIndex('push_subscriptions_endpoint').on(t.endpoint), pgIndex('push_subscriptions_user').on(t.userId)],
)

export const pgPushRetries = pgTable(
  'push_retries',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    subscriptionId: pgInteger('subscription_id').notNull().references(() => pgPushSubscriptions.id, { onDelete: 'cascade' }),
    payload: pgText('payload').notNull(),
    topic: pgText('topic'),
    urgency: pgText('urgency').notNull(),
    ttl: pgInteger('ttl').notNull(),
    attempts: pgInteger('attempts').notNull(),
    dueAt: bigint('due_at', { mode: 'number' }).notNull(),
    firstFailedAt: bigint('first_failed_at', { mode: 'number' }).notNull(),
  },
  (t) => [pgIndex('push_retries_due').on(t.dueAt), pgIndex('push_retries_subscription').on(t.subscriptionId)],
)
