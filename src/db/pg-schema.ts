import { sql } from 'drizzle-orm'
import { bigint, boolean, index, integer, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core'

// The same model as schema.ts (SQLite), in PostgreSQL types. Times are epoch milliseconds in
// bigint columns read back as JavaScript numbers, so both stores return identical domain rows.

/** Users; never deleted, so their existence can be cached. A username is unique without regard to case (see schema.ts). */
export const users = pgTable(
  'users',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    username: text('username').notNull(),
    displayName: text('display_name'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [uniqueIndex('users_username_lower').on(sql`lower(${t.username})`)],
)

/** Groups (group chats). */
export const groups = pgTable('groups', {
  id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
  name: text('name').notNull(),
  createdBy: integer('created_by').references(() => users.id),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
})

/** Group membership with per-member delivered/read watermarks (see schema.ts). */
export const groupMembers = pgTable(
  'group_members',
  {
    groupId: integer('group_id').notNull().references(() => groups.id),
    userId: integer('user_id').notNull().references(() => users.id),
    joinedAt: bigint('joined_at', { mode: 'number' }).notNull(),
    lastDeliveredId: bigint('last_delivered_id', { mode: 'number' }).notNull().default(0),
    lastReadId: bigint('last_read_id', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.userId] }), index('group_members_user').on(t.userId)],
)

/** Messages; one sequence for the whole cluster, so ids order messages across instances. */
export const messages = pgTable(
  'messages',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    conv: text('conv').notNull(),
    senderId: integer('sender_id').notNull(),
    recipientId: integer('recipient_id'),
    groupId: integer('group_id'),
    body: text('body').notNull(),
    messageType: text('message_type').notNull().default('text'),
    clientId: text('client_id'),
    status: text('status', { enum: ['sent', 'delivered', 'read'] }).notNull().default('sent'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    readAt: bigint('read_at', { mode: 'number' }),
    editedAt: bigint('edited_at', { mode: 'number' }),
    deletedAt: bigint('deleted_at', { mode: 'number' }),
    replyToId: bigint('reply_to_id', { mode: 'number' }),
    mentionIds: text('mention_ids'),
    replyCount: integer('reply_count').notNull().default(0),
  },
  (t) => [
    index('messages_conv').on(t.conv, t.id),
    index('messages_recipient').on(t.recipientId, t.id),
    index('messages_sender').on(t.senderId, t.id),
    index('messages_undelivered').on(t.recipientId, t.id).where(sql`status = 'sent' and recipient_id is not null`),
    index('messages_replies').on(t.replyToId, t.id).where(sql`reply_to_id is not null`),
    // NULLs are distinct in a PostgreSQL unique index too: messages without client_id never collide.
    uniqueIndex('messages_client').on(t.senderId, t.clientId),
  ],
)

/** The stream's events other than messages (see schema.ts); seqs come from messages_id_seq, the one sequence. */
export const streamEvents = pgTable(
  'stream_events',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey(),
    userId: integer('user_id'),
    groupId: integer('group_id'),
    frame: text('frame').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    textOf: bigint('text_of', { mode: 'number' }),
  },
  (t) => [
    index('stream_events_user').on(t.userId, t.seq).where(sql`user_id is not null`),
    index('stream_events_group').on(t.groupId, t.seq).where(sql`group_id is not null`),
    index('stream_events_text_of').on(t.textOf).where(sql`text_of is not null`),
  ],
)

/** One row: the highest seq whose events were pruned. */
export const streamState = pgTable('stream_state', {
  id: integer('id').primaryKey(),
  prunedSeq: bigint('pruned_seq', { mode: 'number' }).notNull(),
})

/** One row a user, message and emoji (see schema.ts). */
export const reactions = pgTable(
  'reactions',
  {
    messageId: bigint('message_id', { mode: 'number' }).notNull(),
    userId: integer('user_id').notNull(),
    emoji: text('emoji').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ name: 'reactions_pk', columns: [t.messageId, t.userId, t.emoji] })],
)

/** Who a message mentions, by conversation (see schema.ts). */
export const mentions = pgTable(
  'mentions',
  {
    userId: integer('user_id').notNull(),
    conv: text('conv').notNull(),
    messageId: bigint('message_id', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ name: 'mentions_pk', columns: [t.userId, t.conv, t.messageId] })],
)

/** Uploaded files (see schema.ts). */
export const attachments = pgTable(
  'attachments',
  {
    id: text('id').primaryKey(),
    uploaderId: integer('uploader_id').notNull(),
    sha256: text('sha256').notNull(),
    contentType: text('content_type').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    name: text('name').notNull(),
    width: integer('width'),
    height: integer('height'),
    thumbnail: boolean('thumbnail').notNull().default(false),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [index('attachments_uploader').on(t.uploaderId), index('attachments_sha256').on(t.sha256), index('attachments_created').on(t.createdAt)],
)

/** Which messages carry which attachments (see schema.ts). */
export const messageAttachments = pgTable(
  'message_attachments',
  {
    messageId: bigint('message_id', { mode: 'number' }).notNull(),
    position: integer('position').notNull(),
    attachmentId: text('attachment_id').notNull(),
    conv: text('conv').notNull(),
  },
  (t) => [primaryKey({ columns: [t.messageId, t.position] }), index('message_attachments_attachment').on(t.attachmentId, t.conv)],
)
