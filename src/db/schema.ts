import { sql } from 'drizzle-orm'
import { sqliteTable, integer, text, index, primaryKey, uniqueIndex } from 'drizzle-orm/sqlite-core'

/**
 * Users; never deleted, so their existence can be cached. A username is unique without regard to
 * case ('Alice' and 'alice' are one name) and is stored as it was given. Usernames are ASCII
 * (the API's pattern), which SQLite's lower() folds.
 */
export const users = sqliteTable(
  'users',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    username: text('username').notNull(),
    displayName: text('display_name'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [uniqueIndex('users_username_lower').on(sql`lower(${t.username})`)],
)

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
    // The rowid itself, not AUTOINCREMENT, which updates sqlite_sequence at every insert
    // (docs/BENCHMARKS.md). The store hands ids out from the stream's one sequence, shared with
    // stream_events.seq, and never hands one out twice (see SqliteStore.seq).
    id: integer('id').primaryKey(),
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
    /** Set by an edit; the text is the edited one. */
    editedAt: integer('edited_at'),
    /** Set by a delete, which erases the text: the row stays as a tombstone, so threads and order hold. */
    deletedAt: integer('deleted_at'),
    /** The message of the same conversation this one replies to. */
    replyToId: integer('reply_to_id'),
    /** The members mentioned, a JSON array of user ids; null when none. */
    mentionIds: text('mention_ids'),
    /** Replies to this message, counted as they are stored. */
    replyCount: integer('reply_count').notNull().default(0),
  },
  (t) => [
    // A thread's replies: only replies are in it.
    index('messages_replies').on(t.replyToId, t.id).where(sql`reply_to_id is not null`),
    // No index a live-delivered insert touches: an index costs each commit a page per conversation
    // (or user) it holds, and each of the indexes this table once had cost a large share of the
    // insert (`bun bench/micro/indexes.ts`; docs/BENCHMARKS.md, second pass). A conversation's
    // messages are found through conversation_runs, written in bulk as runs; what concerns a user
    // through user_conversations; resends through the store's idempotency window.
    // Only messages waiting for an offline recipient: a live-delivered insert never touches it.
    index('messages_undelivered').on(t.recipientId, t.id).where(sql`status = 'sent' and recipient_id is not null`),
  ],
)

/**
 * Which messages each conversation holds: what an index on messages (conv, id) would be, written
 * every few thousand messages in one pass instead of with each commit, one row a conversation a
 * pass (a run) instead of one a message (see src/db/conversation-index.ts). `ids` is a JSON array,
 * ascending, of every message of `conv` from `firstId` to `lastId`: the runs of a conversation do
 * not overlap. The migration creates it WITHOUT ROWID, one B-tree, which Drizzle cannot declare.
 */
export const conversationRuns = sqliteTable(
  'conversation_runs',
  {
    conv: text('conv').notNull(),
    firstId: integer('first_id').notNull(),
    lastId: integer('last_id').notNull(),
    ids: text('ids').notNull(),
  },
  (t) => [primaryKey({ columns: [t.conv, t.firstId] })],
)

/**
 * The direct conversations each user takes part in, one row a user a conversation, written with
 * the conversation's first message: catch-up and the conversation list seek each conversation in
 * conversation_runs instead of indexing every message by recipient and sender.
 */
export const userConversations = sqliteTable(
  'user_conversations',
  {
    userId: integer('user_id').notNull(),
    conv: text('conv').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.conv] })],
)

/**
 * The stream's events other than messages (statuses, receipts, membership changes), in the one
 * sequence message ids are part of: a device resuming after `seq` reads messages and these side by
 * side. `frame` is the event's JSON frame without its seq. Kept EVENT_RETENTION_DAYS.
 */
export const streamEvents = sqliteTable(
  'stream_events',
  {
    seq: integer('seq').primaryKey(),
    userId: integer('user_id'),
    groupId: integer('group_id'),
    frame: text('frame').notNull(),
    createdAt: integer('created_at').notNull(),
    /** The message whose text the frame carries (an edit): a delete erases it here too. */
    textOf: integer('text_of'),
  },
  (t) => [
    index('stream_events_user').on(t.userId, t.seq).where(sql`user_id is not null`),
    index('stream_events_group').on(t.groupId, t.seq).where(sql`group_id is not null`),
    index('stream_events_text_of').on(t.textOf).where(sql`text_of is not null`),
  ],
)

/** One row: the highest seq whose events were pruned. No seq at or below it is handed out again. */
export const streamState = sqliteTable('stream_state', {
  id: integer('id').primaryKey(),
  prunedSeq: integer('pruned_seq').notNull(),
})

/** One row a user, message and emoji: a flood of reactions cannot grow past that. */
export const reactions = sqliteTable(
  'reactions',
  {
    messageId: integer('message_id').notNull(),
    userId: integer('user_id').notNull(),
    emoji: text('emoji').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.messageId, t.userId, t.emoji] })],
)

/** Who a message mentions, by conversation: unread mentions are counted from here. */
export const mentions = sqliteTable(
  'mentions',
  {
    userId: integer('user_id').notNull(),
    conv: text('conv').notNull(),
    messageId: integer('message_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.conv, t.messageId] })],
)

/**
 * Uploaded files (src/attachments). The bytes live in the attachment storage under `sha256`
 * (several uploads of one file share them); `name` is display text only. An attachment with no
 * row in message_attachments is unsent, and swept after ATTACHMENT_UNSENT_TTL_SECONDS.
 */
export const attachments = sqliteTable(
  'attachments',
  {
    id: text('id').primaryKey(),
    uploaderId: integer('uploader_id').notNull(),
    sha256: text('sha256').notNull(),
    contentType: text('content_type').notNull(),
    size: integer('size').notNull(),
    name: text('name').notNull(),
    width: integer('width'),
    height: integer('height'),
    thumbnail: integer('thumbnail', { mode: 'boolean' }).notNull().default(false),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('attachments_uploader').on(t.uploaderId), index('attachments_sha256').on(t.sha256), index('attachments_created').on(t.createdAt)],
)

/**
 * Which messages carry which attachments, written in the message's own commit. `conv` is the
 * message's conversation: whoever may read it may download the attachment.
 */
export const messageAttachments = sqliteTable(
  'message_attachments',
  {
    messageId: integer('message_id').notNull(),
    position: integer('position').notNull(),
    attachmentId: text('attachment_id').notNull(),
    conv: text('conv').notNull(),
  },
  (t) => [primaryKey({ columns: [t.messageId, t.position] }), index('message_attachments_attachment').on(t.attachmentId, t.conv)],
)
