import { Database, type Statement } from 'bun:sqlite'
import { existsSync, mkdirSync, realpathSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { and, asc, desc, eq, getTableColumns, getTableName, gt, inArray, lt, lte, ne, sql, type SQL } from 'drizzle-orm'
import { drizzle, type BunSQLiteDatabase } from 'drizzle-orm/bun-sqlite'
import { migrate } from 'drizzle-orm/bun-sqlite/migrator'
import { fallbackLogger, type Logger } from '../observability/logger'
import { SqlitePushStore } from '../push/sqlite-store'
import { startCheckpointer, type Checkpointer } from './checkpointer'
import { ConversationIndex, countAbove, INDEX_EVERY_ROWS } from './conversation-index'
import { IDEMPOTENCY_DEFAULTS, IdempotencyWindow } from './idempotency-window'
import { fts5Match, type SearchRequest } from './search'
import { SqliteWebhookStorage } from '../webhooks/sqlite-storage'
import * as schema from './schema'
import { attachments, groupMembers, groups, mentions, messageAttachments, messages, reactions, streamEvents, streamState, userConversations, users } from './schema'
import {
  ConflictError,
  containsPattern,
  CONVERSATIONS_PER_TURN,
  groupConv,
  nextTurn,
  ROWS_PER_STATEMENT,
  ATTACHMENT_MESSAGE_TYPES,
  mayCarryAttachments,
  slices,
  storedMessage,
  collectReactions,
  type Attachment,
  type Confirmation,
  type ConversationSummary,
  type DeliveredEvent,
  type EventDraft,
  type Group,
  type InsertResult,
  type Reactions,
  type NewMessage,
  type Page,
  type Store,
  type StoredMessage,
  type StreamEvent,
  type User,
} from './store'

const MIGRATIONS = join(import.meta.dir, 'migrations', 'sqlite')

export interface SqliteOptions {
  /** How long a (sender, client_id) is recognised as a resend, in ms. */
  idempotencyWindowMs: number
  /** At most this many (sender, client_id) are kept for that (about 50 bytes each, reserved at start). */
  idempotencyMaxKeys: number
  /** Messages stored between two passes over conversation_runs (tests make it small). */
  indexEveryRows?: number
  /** Where faults and warnings go; pino at info on stdout without one. */
  logger?: Logger
  /** How soon after a delete the WAL is emptied (tests make it small). */
  eraseWithinMs?: number
}

export const DEFAULT_SQLITE_OPTIONS: SqliteOptions = {
  idempotencyWindowMs: IDEMPOTENCY_DEFAULTS.windowMs,
  idempotencyMaxKeys: IDEMPOTENCY_DEFAULTS.maxKeys,
}

/**
 * Opens (creating if needed) a SQLite database, applies the migrations and returns the store.
 * Throws when another store, in this process or another, has the file open.
 */
export function openSqliteStore(path: string, options: SqliteOptions = DEFAULT_SQLITE_OPTIONS): SqliteStore {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const lock = path === ':memory:' ? null : lockDatabase(path)
  const client = new Database(path, { create: true, strict: true })
  // WAL lets readers run beside the writer; synchronous=NORMAL syncs at checkpoints, not at every
  // commit: a committed message survives a process crash, and may be lost only with the last
  // commits before a power loss or OS crash.
  client.exec('PRAGMA journal_mode = WAL')
  client.exec('PRAGMA synchronous = NORMAL')
  client.exec('PRAGMA busy_timeout = 5000')
  client.exec('PRAGMA foreign_keys = ON')
  // A deleted message's text is overwritten, not only unlinked (see deleteMessage).
  client.exec('PRAGMA secure_delete = ON')
  const db = drizzle({ client, schema })
  migrate(db, { migrationsFolder: MIGRATIONS })
  const logger = options.logger ?? fallbackLogger()
  const checkpointer = path === ':memory:' ? null : startCheckpointer(client, path, logger, options.eraseWithinMs)
  const window = new IdempotencyWindow(options.idempotencyWindowMs, options.idempotencyMaxKeys, (message) => logger.warn(message))
  return new SqliteStore(db, client, window, new ConversationIndex(client, options.indexEveryRows ?? INDEX_EVERY_ROWS), checkpointer, lock)
}

/**
 * One store per database file: the idempotency window and the conversation index live in its
 * memory, so a second writer would store resends twice and interleave conversation runs.
 *
 * The lock is an exclusive transaction, never committed, on a database of its own next to the
 * file (`<file>-lock`, empty): SQLite holds it with fcntl(2), which the kernel takes atomically and
 * drops when the process ends however it ends (kill -9 included), so it cannot go stale, and
 * SQLite refuses it to a second connection in the same process too. It is not taken on the
 * database itself because exclusive locking there would change how WAL works and shut out the
 * checkpoint thread's connection.
 */
function lockDatabase(path: string): Database {
  // The same file under another name (a symlink, another working directory) shares one lock.
  const real = existsSync(path) ? realpathSync(path) : join(realpathSync(dirname(path)), basename(path))
  const lock = new Database(`${real}-lock`, { create: true })
  try {
    lock.exec('PRAGMA locking_mode = EXCLUSIVE')
    lock.exec('BEGIN EXCLUSIVE')
    return lock
  } catch (error) {
    lock.close()
    if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error
    throw new Error(`${path} is in use by another process (it holds ${real}-lock): one switchboard process per SQLite database`)
  }
}

type Db = BunSQLiteDatabase<typeof schema>
type InsertParams = [number, string, number, number | null, number | null, string, string, string | null, string, number, number | null, string | null]

/**
 * Adds the bodies of messages just stored to the full-text index (migration 0007), one statement a
 * batch in the batch's own transaction. Not an insert trigger, as edits and deletes have: a trigger
 * writing to FTS5 makes each message insert a statement with its own savepoint, and FTS5 writes its
 * pending words to disk at every savepoint, once a message instead of once a batch
 * (docs/BENCHMARKS.md). Every message is stored through insertMessages, hence indexed here.
 */
const INDEX_BODIES = 'insert into "message_search" (rowid, body) select "id", "body" from "messages" where "id" between ? and ?'

/** Direct conversations known to be in user_conversations: most messages need no write there. */
const KNOWN_CONVERSATIONS_MAX = 100_000

/**
 * The SQLite implementation of Store. Every call is synchronous underneath. One process writes a
 * database file at a time: the idempotency window and the conversation cache live in it.
 */
export class SqliteStore implements Store {
  private readonly insertMessage: Statement<unknown, InsertParams>
  private readonly addConversation: Statement<unknown, [number, string]>
  private readonly knownConversations = new Set<string>()
  private readonly convsOf
  private readonly byIds: Statement<StoredMessage, [string]>
  private readonly unreadDirect
  private readonly unreadInGroup
  private readonly byId
  private readonly insertEvent: Statement<unknown, [number, number | null, number | null, string, number, number | null]>
  private readonly insertMention: Statement<unknown, [number, string, number]>
  private readonly countReply: Statement<unknown, [number]>
  private readonly mentionsInDirect: Statement<{ n: number }, [number, string]>
  private readonly mentionsInGroup: Statement<{ n: number }, [number, string, number]>
  // The lifecycle's statements, prepared once: an edit or a reaction is as frequent as a send.
  private readonly reactionsOfUser: Statement<{ n: number; has: number }, [number, number, string]>
  private readonly insertReaction: Statement<unknown, [number, number, string, number]>
  private readonly deleteReaction: Statement<{ n: number }, [number, number, string]>
  private readonly editBody: Statement<{ id: number }, [string, number, number]>
  private readonly markSentDelivered: Statement<{ id: number; senderId: number }, [string]>
  private readonly raiseDeliveredMark: Statement<unknown, [number, number, number]>
  private readonly linkAttachment: Statement<unknown, [number, number, string, string]>
  /**
   * The last seq handed out: message ids and event seqs are one sequence, and this process is the
   * only writer of the file (see lockDatabase), so it is kept here rather than asked of SQLite.
   */
  private seq: number
  readonly webhooks: SqliteWebhookStorage
  readonly push: SqlitePushStore

  constructor(
    private readonly db: Db,
    private readonly client: Database,
    private readonly recent: IdempotencyWindow,
    private readonly index: ConversationIndex,
    private readonly checkpointer: Checkpointer | null = null,
    /** Held until close (see lockDatabase); null for :memory:. */
    private readonly lock: Database | null = null,
  ) {
    this.push = new SqlitePushStore(db)
    // The one statement on the hot path, prepared once on bun:sqlite itself rather than through
    // Drizzle, whose prepared insert cost more CPU per row (docs/BENCHMARKS.md, first pass). The
    // column names still come from the Drizzle schema.
    const columns = [messages.id, messages.conv, messages.senderId, messages.recipientId, messages.groupId, messages.body, messages.messageType, messages.clientId, messages.status, messages.createdAt, messages.replyToId, messages.mentionIds]
      .map((column) => `"${column.name}"`)
    this.insertMessage = client.prepare(
      // No RETURNING: SQLite buffers returned rows in a temporary table; lastInsertRowid is the id.
      `insert into "messages" (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`,
    )
    this.addConversation = client.prepare(
      `insert or ignore into "${getTableName(userConversations)}" ("${userConversations.userId.name}", "${userConversations.conv.name}") values (?, ?)`,
    )
    const p = (name: string) => sql.placeholder(name)
    this.convsOf = db.select({ conv: userConversations.conv }).from(userConversations).where(eq(userConversations.userId, p('userId'))).prepare()
    // Messages by the ids conversation_runs lists (a JSON array): every history page, catch-up and
    // backlog reads its rows here. On bun:sqlite itself, with each column named as Drizzle's select
    // names it, because Drizzle's row mapping doubled the cost of a page; prepared once, because
    // building and preparing it per call cost more still (docs/BENCHMARKS.md).
    const fields = Object.entries(getTableColumns(messages)).map(([key, column]) => `"${column.name}" as "${key}"`)
    this.byIds = client.prepare(
      `select ${fields.join(', ')} from "${getTableName(messages)}" where "${messages.id.name}" in (select value from json_each(?)) order by "${messages.id.name}"`,
    )
    // Unread counts go over every message of a conversation: its ids stay in SQLite.
    const count = (where: SQL) => db.select({ n: countAbove(p('conv'), p('after'), where) }).from(sql`(select 1)`).prepare()
    // Not the user's own: a note to self is read by its writer.
    // A deleted message is no longer unread.
    const notDeleted = sql`${messages.deletedAt} is null`
    this.unreadDirect = count(and(eq(messages.recipientId, p('userId')), ne(messages.senderId, p('userId')), ne(messages.status, 'read'), notDeleted)!)
    this.unreadInGroup = count(and(ne(messages.senderId, p('userId')), notDeleted)!)
    // Mentions of a deleted message are deleted with it.
    this.insertMention = client.prepare(`insert or ignore into "mentions" ("user_id", "conv", "message_id") values (?, ?, ?)`)
    this.countReply = client.prepare(`update "messages" set "reply_count" = "reply_count" + 1 where "id" = ?`)
    this.mentionsInDirect = client.prepare(
      `select count(*) as n from "mentions" join "messages" on "messages"."id" = "mentions"."message_id" ` +
        `where "mentions"."user_id" = ?1 and "mentions"."conv" = ?2 and "messages"."status" != 'read'`,
    )
    this.reactionsOfUser = client.prepare(
      `select count(*) as n, coalesce(max("emoji" = ?3), 0) as has from "reactions" where "message_id" = ?1 and "user_id" = ?2`,
    )
    this.insertReaction = client.prepare(`insert into "reactions" ("message_id", "user_id", "emoji", "created_at") values (?, ?, ?, ?)`)
    this.deleteReaction = client.prepare(`delete from "reactions" where "message_id" = ? and "user_id" = ? and "emoji" = ? returning 1 as n`)
    this.editBody = client.prepare(`update "messages" set "body" = ?, "edited_at" = ? where "id" = ? and "deleted_at" is null returning "id" as id`)
    this.mentionsInGroup = client.prepare(`select count(*) as n from "mentions" where "user_id" = ? and "conv" = ? and "message_id" > ?`)
    this.byId = db.select().from(messages).where(eq(messages.id, p('id'))).prepare()
    const e = streamEvents
    this.insertEvent = client.prepare(
      `insert into "${getTableName(e)}" ("${e.seq.name}", "${e.userId.name}", "${e.groupId.name}", "${e.frame.name}", "${e.createdAt.name}", "${e.textOf.name}") values (?, ?, ?, ?, ?, ?)`,
    )
    // Run at every confirmation: prepared once on bun:sqlite, like the message insert.
    this.markSentDelivered = client.prepare(
      `update "${getTableName(messages)}" set "${messages.status.name}" = 'delivered' where "${messages.id.name}" in (select value from json_each(?)) ` +
        `and "${messages.status.name}" = 'sent' returning "${messages.id.name}" as id, "${messages.senderId.name}" as senderId`,
    )
    const gm = groupMembers
    this.raiseDeliveredMark = client.prepare(
      `update "${getTableName(gm)}" set "${gm.lastDeliveredId.name}" = ? where "${gm.userId.name}" = ? and "${gm.lastDeliveredId.name}" < ?`,
    )
    const ma = messageAttachments
    this.linkAttachment = client.prepare(
      `insert into "${getTableName(ma)}" ("${ma.messageId.name}", "${ma.position.name}", "${ma.attachmentId.name}", "${ma.conv.name}") values (?, ?, ?, ?)`,
    )
    this.seq = Math.max(
      db.select({ id: sql<number>`coalesce(max(${messages.id}), 0)` }).from(messages).get()!.id,
      db.select({ seq: sql<number>`coalesce(max(${streamEvents.seq}), 0)` }).from(streamEvents).get()!.seq,
      this.prunedUpTo(),
    )
    this.loadRecentKeys()
    this.webhooks = new SqliteWebhookStorage(client)
  }

  /** Rebuilds the idempotency window from the newest messages (a backwards walk of the rowid). */
  private loadRecentKeys(): void {
    const cutoff = Date.now() - this.recent.windowMs
    const rows: { id: number; senderId: number; clientId: string | null; createdAt: number }[] = []
    const newestFirst = this.client.query(
      `select "${messages.id.name}" as id, "${messages.senderId.name}" as senderId, "${messages.clientId.name}" as clientId, ` +
        `"${messages.createdAt.name}" as createdAt from "messages" order by "${messages.id.name}" desc`,
    )
    for (const row of newestFirst.iterate() as Iterable<(typeof rows)[number]>) {
      if (row.createdAt < cutoff || rows.length >= this.recent.maxKeys) break
      if (row.clientId !== null) rows.push(row)
    }
    newestFirst.finalize()
    for (let i = rows.length - 1; i >= 0; i--) this.recent.add(rows[i].senderId, rows[i].clientId!, rows[i].id, rows[i].createdAt)
  }

  async createUser(input: { username: string; displayName?: string | null }): Promise<User> {
    // Looked up before inserting: a conflicting insert, ON CONFLICT DO NOTHING or not, still
    // advances AUTOINCREMENT's counter, and a taken name must use up no id. Both statements run
    // in one synchronous turn of the only process on the file, so nothing comes between them.
    const taken = this.db.select({ id: users.id }).from(users).where(sql`lower(${users.username}) = lower(${input.username})`).get()
    const row = taken
      ? undefined
      : this.db
          .insert(users)
          .values({ username: input.username, displayName: input.displayName ?? null, createdAt: Date.now() })
          .onConflictDoNothing()
          .returning()
          .get()
    if (!row) throw new ConflictError(`username ${JSON.stringify(input.username)} is taken`)
    return row
  }

  async getUser(id: number): Promise<User | undefined> {
    return this.db.select().from(users).where(eq(users.id, id)).get()
  }

  async listUsers(page: { query?: string; after?: number; limit: number }): Promise<User[]> {
    const pattern = page.query === undefined ? undefined : containsPattern(page.query)
    // SQLite's LIKE ignores ASCII case. No index serves a substring: a search reads the users table until a page is full.
    const matches = pattern === undefined ? undefined : sql`(${users.username} like ${pattern} escape '\\' or ${users.displayName} like ${pattern} escape '\\')`
    return this.db.select().from(users).where(and(gt(users.id, page.after ?? 0), matches)).orderBy(asc(users.id)).limit(page.limit).all()
  }

  async createGroup(input: { name: string; createdBy: number | null; memberIds: number[] }): Promise<Group> {
    return this.db.transaction((tx) => {
      const now = Date.now()
      const group = tx.insert(groups).values({ name: input.name, createdBy: input.createdBy, createdAt: now }).returning().get()
      const memberIds = [...new Set(input.memberIds)]
      for (const slice of slices(memberIds)) tx.insert(groupMembers).values(slice.map((userId) => ({ groupId: group.id, userId, joinedAt: now }))).run()
      return { ...group, memberIds }
    })
  }

  async getGroup(id: number): Promise<Group | undefined> {
    const group = this.db.select().from(groups).where(eq(groups.id, id)).get()
    if (!group) return undefined
    const members = this.db
      .select({ userId: groupMembers.userId })
      .from(groupMembers)
      .where(eq(groupMembers.groupId, id))
      .orderBy(asc(groupMembers.userId))
      .all()
    return { ...group, memberIds: members.map((m) => m.userId) }
  }

  async addMember(groupId: number, userId: number): Promise<boolean> {
    // A new member starts with everything before now counted as delivered and read: they are
    // shown the history, not flooded with it as unread.
    const mark = this.seq
    const row = this.db
      .insert(groupMembers)
      .values({ groupId, userId, joinedAt: Date.now(), lastDeliveredId: mark, lastReadId: mark })
      .onConflictDoNothing()
      .returning()
      .get()
    return row !== undefined
  }

  async removeMember(groupId: number, userId: number): Promise<boolean> {
    const rows = this.db
      .delete(groupMembers)
      .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId)))
      .returning()
      .all()
    return rows.length > 0
  }

  async groupCounts(userIds: number[]): Promise<Map<number, number>> {
    const counts = new Map<number, number>()
    for (const slice of slices(userIds)) {
      const rows = this.db
        .select({ userId: groupMembers.userId, n: sql<number>`count(*)` })
        .from(groupMembers)
        .where(inArray(groupMembers.userId, slice))
        .groupBy(groupMembers.userId)
        .all()
      for (const r of rows) counts.set(r.userId, r.n)
    }
    return counts
  }

  async groupIdsOf(userId: number): Promise<number[]> {
    return this.db
      .select({ groupId: groupMembers.groupId })
      .from(groupMembers)
      .where(eq(groupMembers.userId, userId))
      .all()
      .map((r) => r.groupId)
  }

  async insertMessages(batch: NewMessage[]): Promise<InsertResult[]> {
    const results: InsertResult[] = new Array(batch.length)
    // What this batch taught the in-memory state (with the window's keys, in `results`); undone if
    // the transaction rolls back.
    const convs: string[] = []
    const indexed = this.index.mark()
    const seqBefore = this.seq
    try {
      this.client.transaction(() => {
        let firstId = 0
        let lastId = 0
        for (let i = 0; i < batch.length; i++) {
          const m = batch[i]
          const original = m.clientId === null ? undefined : this.resent(m.senderId, m.clientId)
          if (original) {
            results[i] = { message: original, duplicate: true }
            continue
          }
          if (m.recipientId !== null && !this.knownConversations.has(m.conv)) {
            this.addConversation.run(m.senderId, m.conv)
            if (m.recipientId !== m.senderId) this.addConversation.run(m.recipientId, m.conv)
            this.knownConversations.add(m.conv)
            convs.push(m.conv)
          }
          const id = ++this.seq
          this.insertMessage.run(id, m.conv, m.senderId, m.recipientId, m.groupId, m.body, m.messageType, m.clientId, m.status, m.createdAt, m.replyToId ?? null, m.mentionIds ?? null)
          if (m.replyToId) this.countReply.run(m.replyToId)
          if (m.mentionIds) for (const userId of JSON.parse(m.mentionIds) as number[]) this.insertMention.run(userId, m.conv, id)
          if (m.attachments) for (let k = 0; k < m.attachments.length; k++) this.linkAttachment.run(id, k, m.attachments[k].id, m.conv)
          if (m.clientId !== null) this.recent.add(m.senderId, m.clientId, id, m.createdAt)
          this.index.stored(m.conv, id)
          results[i] = { message: storedMessage(m, id), duplicate: false }
          firstId ||= id
          lastId = id
        }
        // The batch's rows are all the ids from its first to its last: one writer, one transaction.
        if (lastId) this.client.query(INDEX_BODIES).run(firstId, lastId)
        // The webhook outbox, in the same commit: one statement a batch, none when nobody subscribes.
        this.webhooks.messagesStored(firstId, lastId, Date.now())
        this.index.storedBatch()
      })()
    } catch (error) {
      this.seq = seqBefore
      this.index.reset(indexed)
      for (const r of results) if (r && !r.duplicate && r.message.clientId !== null) this.recent.delete(r.message.senderId, r.message.clientId, r.message.id)
      for (const conv of convs) this.knownConversations.delete(conv)
      throw error
    }
    if (this.knownConversations.size > KNOWN_CONVERSATIONS_MAX) this.knownConversations.clear()
    this.recent.prune(Date.now())
    this.checkpointer?.wrote(batch.length)
    return results
  }

  /** The message this (sender, client_id) was stored as within the idempotency window, if any. */
  private resent(senderId: number, clientId: string): StoredMessage | undefined {
    const id = this.recent.candidate(senderId, clientId)
    if (id === undefined) return undefined
    const original = this.messageById(id)
    // A hash names the candidate; another key with the same hash is not a resend.
    return original && original.senderId === senderId && original.clientId === clientId ? original : undefined
  }

  async getMessage(id: number): Promise<StoredMessage | undefined> {
    return this.messageById(id)
  }

  private messageById(id: number): StoredMessage | undefined {
    const row = this.byId.get({ id })
    return row && this.withAttachments([row])[0]
  }

  async history(conv: string, page: Page): Promise<StoredMessage[]> {
    return this.page(conv, page)
  }

  /** Ascending; the newest `limit` unless `after` is given, then the oldest `limit` after it. */
  private page(conv: string, page: Page): StoredMessage[] {
    this.index.catchUp()
    const range = { after: page.after ?? 0, before: page.before ?? Number.MAX_SAFE_INTEGER }
    const ids = page.after !== undefined ? this.index.oldestFirst(conv, range, page.limit) : this.index.newestFirst(conv, range, page.limit)
    return ids.length ? this.withAttachments(this.byIds.all(JSON.stringify(ids))) : []
  }

  async directConversations(userId: number): Promise<string[]> {
    return this.convsOf.all({ userId }).map((r) => r.conv)
  }

  async undeliveredDirect(userId: number, afterId: number, beforeId: number, limit: number): Promise<StoredMessage[]> {
    return this.withAttachments(
      this.db
        .select()
        .from(messages)
        .where(and(eq(messages.recipientId, userId), eq(messages.status, 'sent'), gt(messages.id, afterId), lt(messages.id, beforeId)))
        .orderBy(asc(messages.id))
        .limit(limit)
        .all(),
    )
  }

  async deliveredMarks(userId: number): Promise<Map<number, number>> {
    const rows = this.db
      .select({ groupId: groupMembers.groupId, mark: groupMembers.lastDeliveredId })
      .from(groupMembers)
      .where(eq(groupMembers.userId, userId))
      .all()
    return new Map(rows.map((r) => [r.groupId, r.mark]))
  }

  async recordDelivered(confirmations: Confirmation[], event: DeliveredEvent): Promise<StreamEvent[]> {
    return this.appending((append) => {
      for (const c of confirmations) {
        if (c.messageIds.length) {
          const changed = this.markSentDelivered.all(JSON.stringify(c.messageIds))
          // RETURNING lists rows in no promised order: events go out in id order.
          if (changed.length > 1) changed.sort((x, y) => x.id - y.id)
          for (const m of changed) append(event(m, c.userId))
        }
        if (c.groupsUpTo > 0) this.raiseDeliveredMark.run(c.groupsUpTo, c.userId, c.groupsUpTo)
      }
    })
  }

  async appendEvents(events: EventDraft[]): Promise<StreamEvent[]> {
    return this.appending((append) => {
      for (const e of events) append(e)
    })
  }

  /**
   * Runs `write` in one transaction, with `append` giving each event the next seq. On a rollback the
   * seqs are handed out again: none was seen outside.
   */
  private appending(write: (append: (e: EventDraft) => void) => void): StreamEvent[] {
    const appended: StreamEvent[] = []
    const seqBefore = this.seq
    const now = Date.now()
    try {
      this.client.transaction(() => {
        write((e) => {
          const seq = ++this.seq
          const frame = JSON.stringify(e.frame)
          this.insertEvent.run(seq, e.userId, e.groupId, frame, now, e.textOf ?? null)
          this.webhooks.eventAppended(e, seq, frame, now)
          appended.push({ seq, userId: e.userId, groupId: e.groupId, frame: e.frame })
        })
      })()
    } catch (error) {
      this.seq = seqBefore
      throw error
    }
    return appended
  }

  async eventsFor(userId: number, groupIds: number[], after: number, before: number, limit: number): Promise<StreamEvent[]> {
    const e = streamEvents
    const forUser = and(eq(e.userId, userId), gt(e.seq, after), lt(e.seq, before))
    const where = groupIds.length ? sql`(${forUser}) or (${and(inArray(e.groupId, groupIds), gt(e.seq, after), lt(e.seq, before))})` : forUser
    const rows = this.db.select().from(e).where(where).orderBy(asc(e.seq)).limit(limit).all()
    return rows.map((r) => ({ seq: r.seq, userId: r.userId, groupId: r.groupId, frame: JSON.parse(r.frame) }))
  }

  async pruneEvents(before: number): Promise<number> {
    let pruned = 0
    for (;;) {
      // Oldest first, in slices (one long delete would hold the only writer), by seq: events are
      // stored in time order, so no index on the time is kept up at every append.
      const rows = this.db
        .select({ seq: streamEvents.seq, createdAt: streamEvents.createdAt })
        .from(streamEvents)
        .orderBy(asc(streamEvents.seq))
        .limit(ROWS_PER_STATEMENT)
        .all()
      const old = rows.findIndex((r) => r.createdAt >= before)
      const n = old === -1 ? rows.length : old
      if (!n) return pruned
      const last = rows[n - 1].seq
      this.client.transaction(() => {
        this.db.delete(streamEvents).where(lte(streamEvents.seq, last)).run()
        this.db.update(streamState).set({ prunedSeq: sql`max(${streamState.prunedSeq}, ${last})` }).where(eq(streamState.id, 1)).run()
      })()
      pruned += n
      if (n < rows.length) return pruned
      await nextTurn()
    }
  }

  async prunedSeq(): Promise<number> {
    return this.prunedUpTo()
  }

  private prunedUpTo(): number {
    return this.db.select({ seq: streamState.prunedSeq }).from(streamState).get()?.seq ?? 0
  }

  async markDirectRead(messageId: number, at: number, events: EventDraft[]): Promise<StreamEvent[] | null> {
    let changed = false
    const appended = this.appending((append) => {
      const rows = this.db
        .update(messages)
        .set({ status: 'read', readAt: at })
        .where(and(eq(messages.id, messageId), ne(messages.status, 'read')))
        .returning({ id: messages.id })
        .all()
      changed = rows.length > 0
      if (changed) for (const e of events) append(e)
    })
    return changed ? appended : null
  }

  async markGroupRead(groupId: number, userId: number, upToId: number, events: EventDraft[]): Promise<StreamEvent[] | null> {
    let changed = false
    const appended = this.appending((append) => {
      const rows = this.db
        .update(groupMembers)
        .set({ lastReadId: upToId, lastDeliveredId: sql`max(${groupMembers.lastDeliveredId}, ${upToId})` })
        .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId), lt(groupMembers.lastReadId, upToId)))
        .returning({ userId: groupMembers.userId })
        .all()
      changed = rows.length > 0
      if (changed) for (const e of events) append(e)
    })
    return changed ? appended : null
  }

  async readMarks(groupId: number): Promise<Map<number, number>> {
    const rows = this.db
      .select({ userId: groupMembers.userId, mark: groupMembers.lastReadId })
      .from(groupMembers)
      .where(eq(groupMembers.groupId, groupId))
      .all()
    return new Map(rows.map((r) => [r.userId, r.mark]))
  }

  async conversations(userId: number): Promise<ConversationSummary[]> {
    const summaries: ConversationSummary[] = []
    const directs = this.convsOf.all({ userId })
    for (let i = 0; i < directs.length; i++) {
      if (i > 0 && i % CONVERSATIONS_PER_TURN === 0) await nextTurn()
      const { conv } = directs[i]
      const [lastMessage] = this.page(conv, { limit: 1 })
      if (!lastMessage) continue
      const [, a, b] = conv.split(':').map(Number)
      this.index.catchUp()
      const unread = this.unreadDirect.get({ conv, after: 0, userId })!.n
      const mentionCount = this.mentionsInDirect.get(userId, conv)!.n
      summaries.push({ conv, otherUserId: a === userId ? b : a, groupId: null, lastMessage, unreadCount: unread, mentionCount })
    }
    const memberships = this.db
      .select({ groupId: groupMembers.groupId, lastReadId: groupMembers.lastReadId })
      .from(groupMembers)
      .where(eq(groupMembers.userId, userId))
      .all()
    for (let i = 0; i < memberships.length; i++) {
      if (i > 0 && i % CONVERSATIONS_PER_TURN === 0) await nextTurn()
      const { groupId, lastReadId } = memberships[i]
      const conv = groupConv(groupId)
      const lastMessage = this.page(conv, { limit: 1 })[0] ?? null
      this.index.catchUp()
      const unread = this.unreadInGroup.get({ conv, after: lastReadId, userId })!.n
      const mentionCount = this.mentionsInGroup.get(userId, conv, lastReadId)!.n
      summaries.push({ conv, otherUserId: null, groupId, lastMessage, unreadCount: unread, mentionCount })
    }
    const activity = (s: ConversationSummary) => s.lastMessage?.id ?? 0
    return summaries.sort((x, y) => activity(y) - activity(x))
  }

  async editMessage(id: number, body: string, at: number, events: EventDraft[]): Promise<StreamEvent[] | null> {
    let changed = false
    const appended = this.appending((append) => {
      changed = this.editBody.all(body, at, id).length > 0
      if (changed) for (const e of events) append(e)
    })
    return changed ? appended : null
  }

  async deleteMessage(id: number, at: number, events: EventDraft[]): Promise<StreamEvent[] | null> {
    let changed = false
    const appended = this.appending((append) => {
      const rows = this.db
        .update(messages)
        .set({ body: '', deletedAt: at, mentionIds: null })
        .where(and(eq(messages.id, id), sql`${messages.deletedAt} is null`))
        .returning({ id: messages.id })
        .all()
      changed = rows.length > 0
      if (!changed) return
      this.db.delete(mentions).where(eq(mentions.messageId, id)).run()
      this.db.delete(reactions).where(eq(reactions.messageId, id)).run()
      // The edits carried the text too: it goes from them as well.
      this.db
        .update(streamEvents)
        .set({ frame: sql`json_set(${streamEvents.frame}, '$.message', '')` })
        .where(eq(streamEvents.textOf, id))
        .run()
      // And from what still waits to leave: webhook edits not yet delivered, pushes not yet retried.
      this.client
        .query(`update webhook_outbox set frame = json_set(frame, '$.message', '') where type = 'message.edited' and seq in (select seq from stream_events where text_of = ?)`)
        .run(id)
      this.client.query(`delete from push_retries where json_extract(payload, '$.message_id') = ?`).run(id)
      for (const e of events) append(e)
    })
    if (changed) this.checkpointer?.erased()
    return changed ? appended : null
  }

  async addReaction(messageId: number, userId: number, emoji: string, at: number, max: number, events: EventDraft[]): Promise<StreamEvent[] | null | 'limit'> {
    let outcome = 'had' as 'added' | 'had' | 'limit'
    const appended = this.appending((append) => {
      const mine = this.reactionsOfUser.get(messageId, userId, emoji)!
      if (mine.has) return
      if (mine.n >= max) {
        outcome = 'limit'
        return
      }
      this.insertReaction.run(messageId, userId, emoji, at)
      outcome = 'added'
      for (const e of events) append(e)
    })
    return outcome === 'added' ? appended : outcome === 'limit' ? 'limit' : null
  }

  async removeReaction(messageId: number, userId: number, emoji: string, events: EventDraft[]): Promise<StreamEvent[] | null> {
    let changed = false
    const appended = this.appending((append) => {
      changed = this.deleteReaction.all(messageId, userId, emoji).length > 0
      if (changed) for (const e of events) append(e)
    })
    return changed ? appended : null
  }

  async reactionsOf(messageIds: number[]): Promise<Map<number, Reactions>> {
    const byMessage = new Map<number, Reactions>()
    for (const slice of slices(messageIds)) {
      const rows = this.db
        .select({ messageId: reactions.messageId, userId: reactions.userId, emoji: reactions.emoji })
        .from(reactions)
        .where(inArray(reactions.messageId, slice))
        .orderBy(asc(reactions.messageId), asc(reactions.createdAt), asc(reactions.userId))
        .all()
      collectReactions(rows, byMessage)
    }
    return byMessage
  }

  async replies(parentId: number, page: Page): Promise<StoredMessage[]> {
    const range = and(
      eq(messages.replyToId, parentId),
      page.after !== undefined ? gt(messages.id, page.after) : undefined,
      page.before !== undefined ? lt(messages.id, page.before) : undefined,
    )
    const forward = page.after !== undefined
    const rows = this.db.select().from(messages).where(range).orderBy(forward ? asc(messages.id) : desc(messages.id)).limit(page.limit).all()
    return forward ? rows : rows.reverse()
  }

  async lastSeq(): Promise<number> {
    return this.seq
  }

  /** Fills in the attachments of the rows that may carry some; rows of other types are left as read. */
  private withAttachments(rows: StoredMessage[]): StoredMessage[] {
    if (!mayCarryAttachments(rows)) return rows
    const ids = rows.filter((m) => ATTACHMENT_MESSAGE_TYPES.has(m.messageType)).map((m) => m.id)
    const byMessage = new Map<number, Attachment[]>()
    for (const slice of slices(ids)) {
      const links = this.db
        .select({ messageId: messageAttachments.messageId, attachment: attachments })
        .from(messageAttachments)
        .innerJoin(attachments, eq(attachments.id, messageAttachments.attachmentId))
        .where(inArray(messageAttachments.messageId, slice))
        .orderBy(asc(messageAttachments.messageId), asc(messageAttachments.position))
        .all()
      for (const { messageId, attachment } of links) {
        const list = byMessage.get(messageId)
        if (list) list.push(attachment)
        else byMessage.set(messageId, [attachment])
      }
    }
    for (const m of rows) {
      const list = byMessage.get(m.id)
      if (list) m.attachments = list
    }
    return rows
  }

  async createAttachment(attachment: Attachment): Promise<void> {
    this.db.insert(attachments).values(attachment).run()
  }

  async getAttachments(ids: string[]): Promise<Attachment[]> {
    if (!ids.length) return []
    return this.db.select().from(attachments).where(inArray(attachments.id, ids)).all()
  }

  async attachmentConversations(id: string): Promise<string[]> {
    return this.db
      .selectDistinct({ conv: messageAttachments.conv })
      .from(messageAttachments)
      .where(eq(messageAttachments.attachmentId, id))
      .all()
      .map((r) => r.conv)
  }

  async uploadedBytes(userId: number): Promise<number> {
    return this.db.select({ n: sql<number>`coalesce(sum(${attachments.size}), 0)` }).from(attachments).where(eq(attachments.uploaderId, userId)).get()!.n
  }

  async sweepUnsentAttachments(before: number, limit: number): Promise<{ deleted: number; orphaned: string[] }> {
    return this.client.transaction(() => {
      const unsent = this.db
        .select({ id: attachments.id, sha256: attachments.sha256 })
        .from(attachments)
        .where(and(lt(attachments.createdAt, before), sql`not exists (select 1 from ${messageAttachments} where ${messageAttachments.attachmentId} = ${attachments.id})`))
        .limit(limit)
        .all()
      if (!unsent.length) return { deleted: 0, orphaned: [] }
      this.db.delete(attachments).where(inArray(attachments.id, unsent.map((a) => a.id))).run()
      const hashes = [...new Set(unsent.map((a) => a.sha256))]
      const shared = new Set(
        this.db.selectDistinct({ sha256: attachments.sha256 }).from(attachments).where(inArray(attachments.sha256, hashes)).all().map((r) => r.sha256),
      )
      return { deleted: unsent.length, orphaned: hashes.filter((h) => !shared.has(h)) }
    })()
  }

  async releaseMessageAttachments(messageIds: number[]): Promise<string[]> {
    return this.client.transaction(() => {
      const ma = messageAttachments
      const released = new Set<string>()
      for (const slice of slices(messageIds))
        for (const r of this.db.delete(ma).where(inArray(ma.messageId, slice)).returning({ id: ma.attachmentId }).all()) released.add(r.id)
      if (!released.size) return []
      const ids = [...released]
      const gone = this.db
        .delete(attachments)
        .where(and(inArray(attachments.id, ids), sql`not exists (select 1 from ${ma} where ${ma.attachmentId} = ${attachments.id})`))
        .returning({ sha256: attachments.sha256 })
        .all()
      const hashes = [...new Set(gone.map((a) => a.sha256))]
      if (!hashes.length) return []
      const shared = new Set(this.db.selectDistinct({ sha256: attachments.sha256 }).from(attachments).where(inArray(attachments.sha256, hashes)).all().map((r) => r.sha256))
      return hashes.filter((h) => !shared.has(h))
    })()
  }

  async ping(): Promise<void> {
    this.client.query('select 1').get()
  }

  async close(): Promise<void> {
    // Its connection first: the last one to close checkpoints what is left and removes the WAL.
    await this.checkpointer?.stop()
    this.client.close()
    // Last: another process may open the file only once this one has finished with it.
    this.lock?.close()
  }

  async searchMessages(request: SearchRequest): Promise<StoredMessage[]> {
    const fields = Object.entries(getTableColumns(messages)).map(([key, column]) => `m."${column.name}" as "${key}"`)
    // The index is read newest first (FTS5 walks its rowids backwards) and each match kept if the
    // user reads its conversation: their direct ones are listed in user_conversations, their
    // groups in group_members as they are now. query() keeps each of the two texts compiled.
    const statement = this.client.query<StoredMessage, Record<string, string | number>>(
      `select ${fields.join(', ')} from "message_search" join "messages" m on m."id" = "message_search".rowid ` +
        `where "message_search" match $match and "message_search".rowid < $before ` +
        (request.conv === undefined ? '' : 'and m."conv" = $conv ') +
        `and (m."conv" in (select "conv" from "user_conversations" where "user_id" = $userId) ` +
        `or m."group_id" in (select "group_id" from "group_members" where "user_id" = $userId)) ` +
        `order by "message_search".rowid desc limit $limit`,
    )
    const params: Record<string, string | number> = { match: fts5Match(request.terms), before: request.before ?? Number.MAX_SAFE_INTEGER, userId: request.userId, limit: request.limit }
    if (request.conv !== undefined) params.conv = request.conv
    return statement.all(params)
  }
}
