import { sql } from 'drizzle-orm'
import { sqliteTable, integer, text, index, uniqueIndex, primaryKey } from 'drizzle-orm/sqlite-core'

/** Users; never deleted, so their existence can be cached. */
export const users = sqliteTable('users', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  username: text('username').notNull().unique(),
  displayName: text('display_name'),
  createdAt: integer('created_at').notNull(),
})

/** Groups (group chats). */
export const groups = sqliteTable('groups', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  createdBy: integer('created_by').references(() => users.id),
  createdAt: integer('created_at').notNull(),
})

/**
 * Group membership. `lastDeliveredId`/`lastReadId` are per-member watermarks: a group message is
 * delivered to (read by) a member when its id is at or below the member's mark. One row a member
 * instead of one row a member a message keeps a 1000-member group message a single insert.
 */
export const groupMembers = sqliteTable(
  'group_members',
  {
    groupId: integer('group_id').notNull().references(() => groups.id),
    userId: integer('user_id').notNull().references(() => users.id),
    joinedAt: integer('joined_at').notNull(),
    lastDeliveredId: integer('last_delivered_id').notNull().default(0),
    lastReadId: integer('last_read_id').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.userId] }), index('group_members_user').on(t.userId)],
)

/**
 * Messages. `conv` names the conversation ('d:<low id>:<high id>' or 'g:<group id>') so that a
 * history page is one index seek. `status` is the direct message's status; for a group message it
 * says whether any member had received it, and the members' watermarks say the rest.
 */
export const messages = sqliteTable(
  'messages',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    conv: text('conv').notNull(),
    senderId: integer('sender_id').notNull(),
    recipientId: integer('recipient_id'),
    groupId: integer('group_id'),
    body: text('body').notNull(),
    messageType: text('message_type').notNull().default('text'),
    clientId: text('client_id'),
    status: text('status', { enum: ['sent', 'delivered', 'read'] }).notNull().default('sent'),
    createdAt: integer('created_at').notNull(),
    readAt: integer('read_at'),
  },
  (t) => [
    index('messages_conv').on(t.conv, t.id),
    index('messages_recipient').on(t.recipientId, t.id),
    // No (sender_id, id) index: every index costs each insert the pages it dirties in the WAL
    // (see docs/BENCHMARKS.md for the figures). Lookups by
    // sender (catch-up with `since`, the conversation list) use messages_client's sender_id prefix.
    // Only messages waiting for an offline recipient: a live-delivered insert never touches it.
    index('messages_undelivered').on(t.recipientId, t.id).where(sql`status = 'sent' and recipient_id is not null`),
    // NULLs are distinct in a SQLite unique index, so messages without client_id never collide.
    uniqueIndex('messages_client').on(t.senderId, t.clientId),
  ],
)
