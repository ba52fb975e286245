import { join } from 'node:path'
import { and, asc, desc, eq, gt, inArray, isNull, lt, ne, or, sql } from 'drizzle-orm'
import { SQL } from 'bun'
import { drizzle, type BunSQLDatabase } from 'drizzle-orm/bun-sql'
import { migrate } from 'drizzle-orm/bun-sql/migrator'
import { PgPushStore } from '../push/pg-store'
import * as schema from './pg-schema'
import { attachments, groupMembers, groups, mentions, messageAttachments, messages, reactions, streamEvents, streamState, users } from './pg-schema'
import { tsquery, type SearchRequest } from './search'
import { PgWebhookStorage } from '../webhooks/pg-storage'
import {
  ConflictError,
  containsPattern,
  groupConv,
  ATTACHMENT_MESSAGE_TYPES,
  mayCarryAttachments,
  ROWS_PER_STATEMENT,
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

const MIGRATIONS = join(import.meta.dir, 'migrations', 'pg')
/** Any fixed number: instances starting together take turns applying the migrations. */
const MIGRATION_LOCK = 7_420_001
/** The class of the per-username advisory locks that creating a user takes (with the name's hash). */
const USERNAME_LOCK = 7_420_002
/**
 * Every transaction that takes seqs (messages or events) holds this lock until it commits, so
 * seqs commit in the order they were handed out, across instances: a device that read up to seq N
 * can never later find a smaller seq committed (see docs/CLUSTER.md).
 */
const STREAM_LOCK = 7_420_003
/** The class of the per-(message, user) advisory locks that adding a reaction takes. */
const REACTION_LOCK = 7_420_004

/** True for a postgres:// or postgresql:// URL. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url)
}

export interface PgOptions {
  /** Connections in the pool. */
  max?: number
  /** Seconds to wait for a connection before a query fails (a down database must fail fast). */
  connectTimeoutSeconds?: number
}

/**
 * Connects, applies the migrations (under an advisory lock) and returns the store.
 *
 * The client is Bun's built-in SQL (through drizzle-orm/bun-sql): its round trip is much faster,
 * and cheaper in CPU, than the `postgres` package's running on Bun (docs/BENCHMARKS.md).
 * The schema avoids what drizzle's bun-sql driver is known to get wrong (timestamp and JSON
 * columns): times are bigint milliseconds.
 */
export async function openPgStore(url: string, options: PgOptions = {}): Promise<PgStore> {
  const connectionTimeout = options.connectTimeoutSeconds ?? 3
  // Session-level advisory lock: it needs one dedicated connection for its whole life.
  const migrator = new SQL(url, { max: 1, connectionTimeout })
  try {
    await migrator`select pg_advisory_lock(${MIGRATION_LOCK})`
    await migrate(drizzle({ client: migrator }), { migrationsFolder: MIGRATIONS })
    await migrator`select pg_advisory_unlock(${MIGRATION_LOCK})`
  } finally {
    await migrator.close({ timeout: 1 })
  }
  const client = new SQL(url, { max: options.max ?? 10, connectionTimeout })
  return new PgStore(drizzle({ client, schema }), client)
}

type Db = BunSQLDatabase<typeof schema>
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]

/** The PostgreSQL implementation of Store; the pool reconnects by itself after an outage. */
export class PgStore implements Store {
  readonly webhooks: PgWebhookStorage
  readonly push: PgPushStore

  constructor(
    private readonly db: Db,
    private readonly client: SQL,
  ) {
    this.webhooks = new PgWebhookStorage(client)
    this.push = new PgPushStore(db)
  }

  async createUser(input: { username: string; displayName?: string | null }): Promise<User> {
    // A conflicting insert takes its id from the identity sequence before the conflict is found,
    // and a taken name must use up no id: the name is looked up first, under a lock on it, so
    // that of two instances creating it at once the second sees the first's row and inserts nothing.
    const row = await this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${USERNAME_LOCK}, hashtext(lower(${input.username})))`)
      const [taken] = await tx.select({ id: users.id }).from(users).where(sql`lower(${users.username}) = lower(${input.username})`)
      if (taken) return undefined
      const [created] = await tx
        .insert(users)
        .values({ username: input.username, displayName: input.displayName ?? null, createdAt: Date.now() })
        .onConflictDoNothing()
        .returning()
      return created
    })
    if (!row) throw new ConflictError(`username ${JSON.stringify(input.username)} is taken`)
    return row
  }

  async getUser(id: number): Promise<User | undefined> {
    const [row] = await this.db.select().from(users).where(eq(users.id, id))
    return row
  }

  async listUsers(page: { query?: string; after?: number; limit: number }): Promise<User[]> {
    const pattern = page.query === undefined ? undefined : containsPattern(page.query)
    // No index serves a substring: a search reads the users table until a page is full.
    const matches = pattern === undefined ? undefined : sql`(${users.username} ilike ${pattern} escape '\\' or ${users.displayName} ilike ${pattern} escape '\\')`
    return this.db.select().from(users).where(and(gt(users.id, page.after ?? 0), matches)).orderBy(asc(users.id)).limit(page.limit)
  }

  async createGroup(input: { name: string; createdBy: number | null; memberIds: number[] }): Promise<Group> {
    return this.db.transaction(async (tx) => {
      const now = Date.now()
      const [group] = await tx.insert(groups).values({ name: input.name, createdBy: input.createdBy, createdAt: now }).returning()
      const memberIds = [...new Set(input.memberIds)]
      for (const slice of slices(memberIds)) await tx.insert(groupMembers).values(slice.map((userId) => ({ groupId: group.id, userId, joinedAt: now })))
      return { ...group, memberIds }
    })
  }

  async getGroup(id: number): Promise<Group | undefined> {
    const [group] = await this.db.select().from(groups).where(eq(groups.id, id))
    if (!group) return undefined
    const members = await this.db
      .select({ userId: groupMembers.userId })
      .from(groupMembers)
      .where(eq(groupMembers.groupId, id))
      .orderBy(asc(groupMembers.userId))
    return { ...group, memberIds: members.map((m) => m.userId) }
  }

  async addMember(groupId: number, userId: number): Promise<boolean> {
    // As in SQLite: a new member starts with the existing history counted as delivered and read.
    const mark = await this.lastSeq()
    const rows = await this.db
      .insert(groupMembers)
      .values({ groupId, userId, joinedAt: Date.now(), lastDeliveredId: mark, lastReadId: mark })
      .onConflictDoNothing()
      .returning({ userId: groupMembers.userId })
    return rows.length > 0
  }

  async removeMember(groupId: number, userId: number): Promise<boolean> {
    const rows = await this.db
      .delete(groupMembers)
      .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId)))
      .returning({ userId: groupMembers.userId })
    return rows.length > 0
  }

  async groupCounts(userIds: number[]): Promise<Map<number, number>> {
    const counts = new Map<number, number>()
    for (const slice of slices(userIds)) {
      const rows = await this.db
        .select({ userId: groupMembers.userId, n: sql<number>`count(*)::int` })
        .from(groupMembers)
        .where(inArray(groupMembers.userId, slice))
        .groupBy(groupMembers.userId)
      for (const r of rows) counts.set(r.userId, Number(r.n))
    }
    return counts
  }

  async groupIdsOf(userId: number): Promise<number[]> {
    const rows = await this.db.select({ groupId: groupMembers.groupId }).from(groupMembers).where(eq(groupMembers.userId, userId))
    return rows.map((r) => r.groupId)
  }

  /**
   * A batch is ONE statement, hence one transaction: the rows travel as one JSON parameter, so the
   * statement text is the same for every batch size (prepared once per connection) and no BEGIN
   * or COMMIT round trip is needed; it costs less than half the CPU a row of Drizzle's multi-row
   * VALUES inside a transaction (docs/BENCHMARKS.md).
   *
   * ON CONFLICT DO NOTHING skips a repeated (sender, client_id), also a repeat inside the batch;
   * RETURNING lists the inserted rows in input order, so walking the batch beside it tells inserted
   * rows from repeats, whose originals (committed: the unique index made us wait for them) one
   * more SELECT fetches.
   */
  async insertMessages(batch: NewMessage[]): Promise<InsertResult[]> {
    if (!batch.length) return []
    // A batch with attachments writes their links in the same transaction: a second statement.
    // Without any, the one statement stays its own transaction.
    if (batch.some((m) => m.attachments?.length)) {
      return this.db.transaction(async (tx) => {
        const results = await this.insertRows(tx, batch, true)
        const links = results.flatMap((r) =>
          r.duplicate || !r.message.attachments ? [] : r.message.attachments.map((a, position) => ({ messageId: r.message.id, position, attachmentId: a.id, conv: r.message.conv })),
        )
        for (const slice of slices(links)) await tx.insert(messageAttachments).values(slice)
        // A repeat of a message earlier in this batch was read before its links were written.
        await this.withAttachments(results.filter((r) => r.duplicate && !r.message.attachments).map((r) => r.message), tx)
        return results
      })
    }
    return this.insertRows(this.db, batch)
  }

  /** The insert of insertMessages, on the pool or inside a transaction. */
  private async insertRows(db: Db | Tx, batch: NewMessage[], withAttachments = false): Promise<InsertResult[]> {
    // The attachments are left out of the rows' JSON; a replacer costs every batch, so only these.
    const input = withAttachments ? JSON.stringify(batch, (key, value) => (key === 'attachments' ? undefined : value)) : JSON.stringify(batch)
    // The lock is taken by the CTE the rows are joined with, before the first id is drawn, and held
    // until the statement's own transaction commits.
    // A reply counts on its parent and a mention is listed in the same statement (parents were
    // committed before: a reply is checked against its parent).
    const inserted = (await db.execute(sql`
      with stream as (select pg_advisory_xact_lock(${STREAM_LOCK})),
      inserted as (
        insert into messages (conv, sender_id, recipient_id, group_id, body, message_type, client_id, status, created_at, reply_to_id, mention_ids)
        select conv, "senderId", "recipientId", "groupId", body, "messageType", "clientId", status, "createdAt", "replyToId", "mentionIds"
        from stream, json_to_recordset(${input}::text::json) as r(
          conv text, "senderId" integer, "recipientId" integer, "groupId" integer, body text,
          "messageType" text, "clientId" text, status text, "createdAt" bigint, "replyToId" bigint, "mentionIds" text)
        on conflict (sender_id, client_id) do nothing
        returning id, sender_id, client_id, conv, reply_to_id, mention_ids),
      listed as (
        insert into mentions (user_id, conv, message_id)
        select m.value::int, inserted.conv, inserted.id from inserted, json_array_elements_text(inserted.mention_ids::json) as m
        where inserted.mention_ids is not null
        on conflict do nothing),
      counted as (
        update messages set reply_count = messages.reply_count + replies.n
        from (select reply_to_id, count(*)::int as n from inserted where reply_to_id is not null group by reply_to_id) as replies
        where messages.id = replies.reply_to_id)${
      // The webhook outbox, in the same statement: only while some endpoint wants message.created.
      this.webhooks.wants('message.created')
        ? sql`, outboxed as (insert into webhook_outbox (seq, type, conv, created_at) select id, 'message.created', conv, ${Date.now()} from inserted)`
        : sql``}
      select id, sender_id, client_id from inserted`)) as unknown as { id: string | number; sender_id: number; client_id: string | null }[]
    const results: InsertResult[] = new Array(batch.length)
    const seen = new Set<string>()
    const repeats: number[] = []
    let j = 0
    for (let i = 0; i < batch.length; i++) {
      const m = batch[i]
      const key = m.clientId === null ? null : `${m.senderId}\u0000${m.clientId}`
      const row = inserted[j]
      if (row && (key === null || (!seen.has(key) && row.sender_id === m.senderId && row.client_id === m.clientId))) {
        results[i] = { message: storedMessage(m, Number(row.id)), duplicate: false }
        j++
      } else repeats.push(i)
      if (key !== null) seen.add(key)
    }
    if (j !== inserted.length) throw new Error(`insertMessages: ${inserted.length} rows inserted, ${j} matched`)
    if (repeats.length) {
      const originals = await this.withAttachments((await db
        .select()
        .from(messages)
        .where(or(...repeats.map((i) => and(eq(messages.senderId, batch[i].senderId), eq(messages.clientId, batch[i].clientId!)))))) as StoredMessage[], db)
      const byKey = new Map(originals.map((o) => [`${o.senderId}\u0000${o.clientId}`, o]))
      for (const i of repeats) {
        const original = byKey.get(`${batch[i].senderId}\u0000${batch[i].clientId}`)
        if (!original) throw new Error('insertMessages: a repeated client_id has no original')
        results[i] = { message: original, duplicate: true }
      }
    }
    return results
  }

  async getMessage(id: number): Promise<StoredMessage | undefined> {
    const [row] = await this.db.select().from(messages).where(eq(messages.id, id))
    return row && (await this.withAttachments([row as StoredMessage]))[0]
  }

  async history(conv: string, page: Page): Promise<StoredMessage[]> {
    if (page.after !== undefined) {
      const where = page.before !== undefined
        ? and(eq(messages.conv, conv), gt(messages.id, page.after), lt(messages.id, page.before))
        : and(eq(messages.conv, conv), gt(messages.id, page.after))
      return this.withAttachments((await this.db.select().from(messages).where(where).orderBy(asc(messages.id)).limit(page.limit)) as StoredMessage[])
    }
    const where = page.before !== undefined ? and(eq(messages.conv, conv), lt(messages.id, page.before)) : eq(messages.conv, conv)
    const rows = await this.db.select().from(messages).where(where).orderBy(desc(messages.id)).limit(page.limit)
    return this.withAttachments((rows as StoredMessage[]).reverse())
  }

  async directConversations(userId: number): Promise<string[]> {
    const rows = await this.db
      .selectDistinct({ conv: messages.conv })
      .from(messages)
      .where(and(or(eq(messages.senderId, userId), eq(messages.recipientId, userId)), sql`${messages.groupId} is null`))
    return rows.map((r) => r.conv)
  }

  async undeliveredDirect(userId: number, afterId: number, beforeId: number, limit: number): Promise<StoredMessage[]> {
    return this.withAttachments((await this.db
      .select()
      .from(messages)
      .where(and(eq(messages.recipientId, userId), eq(messages.status, 'sent'), gt(messages.id, afterId), lt(messages.id, beforeId)))
      .orderBy(asc(messages.id))
      .limit(limit)) as StoredMessage[])
  }

  async deliveredMarks(userId: number): Promise<Map<number, number>> {
    const rows = await this.db
      .select({ groupId: groupMembers.groupId, mark: groupMembers.lastDeliveredId })
      .from(groupMembers)
      .where(eq(groupMembers.userId, userId))
    return new Map(rows.map((r) => [r.groupId, r.mark]))
  }

  async recordDelivered(confirmations: Confirmation[], event: DeliveredEvent): Promise<StreamEvent[]> {
    return this.appending(async (tx, append) => {
      for (const c of confirmations) {
        for (const slice of slices(c.messageIds)) {
          const changed = await tx
            .update(messages)
            .set({ status: 'delivered' })
            .where(and(inArray(messages.id, slice), eq(messages.status, 'sent')))
            .returning({ id: messages.id, senderId: messages.senderId })
          for (const m of changed.sort((a, b) => a.id - b.id)) await append(event(m, c.userId))
        }
        if (c.groupsUpTo > 0)
          await tx
            .update(groupMembers)
            .set({ lastDeliveredId: c.groupsUpTo })
            .where(and(eq(groupMembers.userId, c.userId), lt(groupMembers.lastDeliveredId, c.groupsUpTo)))
      }
    })
  }

  async markDirectRead(messageId: number, at: number, events: EventDraft[]): Promise<StreamEvent[] | null> {
    let changed = false
    const appended = await this.appending(async (tx, append) => {
      const rows = await tx
        .update(messages)
        .set({ status: 'read', readAt: at })
        .where(and(eq(messages.id, messageId), ne(messages.status, 'read')))
        .returning({ id: messages.id })
      changed = rows.length > 0
      if (changed) for (const e of events) await append(e)
    })
    return changed ? appended : null
  }

  async markGroupRead(groupId: number, userId: number, upToId: number, events: EventDraft[]): Promise<StreamEvent[] | null> {
    let changed = false
    const appended = await this.appending(async (tx, append) => {
      const rows = await tx
        .update(groupMembers)
        .set({ lastReadId: upToId, lastDeliveredId: sql`greatest(${groupMembers.lastDeliveredId}, ${upToId})` })
        .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId), lt(groupMembers.lastReadId, upToId)))
        .returning({ userId: groupMembers.userId })
      changed = rows.length > 0
      if (changed) for (const e of events) await append(e)
    })
    return changed ? appended : null
  }

  async appendEvents(events: EventDraft[]): Promise<StreamEvent[]> {
    return this.appending(async (_tx, append) => {
      for (const e of events) await append(e)
    })
  }

  /** Runs `write` in one transaction holding STREAM_LOCK, with `append` drawing each event's seq from the one sequence. */
  private async appending(write: (tx: Tx, append: (e: EventDraft) => Promise<void>) => Promise<void>): Promise<StreamEvent[]> {
    const appended: StreamEvent[] = []
    const now = Date.now()
    await this.db.transaction(async (tx) => {
      let locked = false
      await write(tx, async (e) => {
        // Taken only when there is something to append: a repeated receipt changes nothing and waits for no one.
        if (!locked) await tx.execute(sql`select pg_advisory_xact_lock(${STREAM_LOCK})`)
        locked = true
        const frame = JSON.stringify(e.frame)
        const outboxed = this.webhooks.entryOf(e)
        // The webhook outbox row, when some endpoint wants this event, in the same statement.
        const [row] = (await tx.execute(sql`
          with event as (insert into stream_events (seq, user_id, group_id, frame, created_at, text_of)
            values (nextval('messages_id_seq'), ${e.userId}, ${e.groupId}, ${frame}, ${now}, ${e.textOf ?? null})
            returning seq)${
            outboxed
              ? sql`, outboxed as (insert into webhook_outbox (seq, type, conv, frame, created_at) select seq, ${outboxed.type}, ${outboxed.conv}, ${frame}, ${now} from event)`
              : sql``}
          select seq from event`)) as unknown as { seq: string | number }[]
        appended.push({ seq: Number(row.seq), userId: e.userId, groupId: e.groupId, frame: e.frame })
      })
    })
    return appended
  }

  async eventsFor(userId: number, groupIds: number[], after: number, before: number, limit: number): Promise<StreamEvent[]> {
    const e = streamEvents
    const forUser = and(eq(e.userId, userId), gt(e.seq, after), lt(e.seq, before))
    const where = groupIds.length ? or(forUser, and(inArray(e.groupId, groupIds), gt(e.seq, after), lt(e.seq, before))) : forUser
    const rows = await this.db.select().from(e).where(where).orderBy(asc(e.seq)).limit(limit)
    return rows.map((r) => ({ seq: Number(r.seq), userId: r.userId, groupId: r.groupId, frame: JSON.parse(r.frame) }))
  }

  async pruneEvents(before: number): Promise<number> {
    let pruned = 0
    for (;;) {
      const n = await this.db.transaction(async (tx) => {
        // Oldest first, by seq (events are stored in time order): no index on the time to keep up.
        const rows = (await tx.execute(sql`
          delete from stream_events where seq in (
            select seq from (select seq, created_at from stream_events order by seq limit ${ROWS_PER_STATEMENT}) oldest
            where created_at < ${before})
          returning seq`)) as unknown as { seq: string | number }[]
        if (!rows.length) return 0
        const last = Math.max(...rows.map((r) => Number(r.seq)))
        await tx.update(streamState).set({ prunedSeq: sql`greatest(${streamState.prunedSeq}, ${last})` }).where(eq(streamState.id, 1))
        return rows.length
      })
      if (!n) return pruned
      pruned += n
    }
  }

  async prunedSeq(): Promise<number> {
    const [row] = await this.db.select({ seq: streamState.prunedSeq }).from(streamState)
    return Number(row?.seq ?? 0)
  }

  async readMarks(groupId: number): Promise<Map<number, number>> {
    const rows = await this.db
      .select({ userId: groupMembers.userId, mark: groupMembers.lastReadId })
      .from(groupMembers)
      .where(eq(groupMembers.groupId, groupId))
    return new Map(rows.map((r) => [r.userId, r.mark]))
  }

  async conversations(userId: number): Promise<ConversationSummary[]> {
    const summaries: ConversationSummary[] = []
    const direct = await this.db
      .select({ conv: messages.conv, lastId: sql<string>`max(${messages.id})` })
      .from(messages)
      .where(and(or(eq(messages.senderId, userId), eq(messages.recipientId, userId)), sql`${messages.groupId} is null`))
      .groupBy(messages.conv)
    for (const { conv, lastId } of direct) {
      const lastMessage = (await this.getMessage(Number(lastId)))!
      const [, a, b] = conv.split(':').map(Number)
      const [{ n }] = await this.db
        .select({ n: sql<number>`count(*)::int` })
        .from(messages)
        .where(and(eq(messages.conv, conv), eq(messages.recipientId, userId), ne(messages.senderId, userId), ne(messages.status, 'read'), isNull(messages.deletedAt)))
      const [{ mentioned }] = await this.db
        .select({ mentioned: sql<number>`count(*)::int` })
        .from(mentions)
        .innerJoin(messages, eq(messages.id, mentions.messageId))
        .where(and(eq(mentions.userId, userId), eq(mentions.conv, conv), ne(messages.status, 'read')))
      summaries.push({ conv, otherUserId: a === userId ? b : a, groupId: null, lastMessage, unreadCount: n, mentionCount: Number(mentioned) })
    }
    const memberships = await this.db
      .select({ groupId: groupMembers.groupId, lastReadId: groupMembers.lastReadId })
      .from(groupMembers)
      .where(eq(groupMembers.userId, userId))
    for (const { groupId, lastReadId } of memberships) {
      const conv = groupConv(groupId)
      const [lastMessage] = await this.db.select().from(messages).where(eq(messages.conv, conv)).orderBy(desc(messages.id)).limit(1)
      const [{ n }] = await this.db
        .select({ n: sql<number>`count(*)::int` })
        .from(messages)
        .where(and(eq(messages.conv, conv), gt(messages.id, lastReadId), ne(messages.senderId, userId), isNull(messages.deletedAt)))
      const [{ mentioned }] = await this.db
        .select({ mentioned: sql<number>`count(*)::int` })
        .from(mentions)
        .where(and(eq(mentions.userId, userId), eq(mentions.conv, conv), gt(mentions.messageId, lastReadId)))
      summaries.push({ conv, otherUserId: null, groupId, lastMessage: lastMessage ? (await this.withAttachments([lastMessage as StoredMessage]))[0] : null, unreadCount: n, mentionCount: Number(mentioned) })
    }
    const activity = (s: ConversationSummary) => s.lastMessage?.id ?? 0
    return summaries.sort((x, y) => activity(y) - activity(x))
  }

  async editMessage(id: number, body: string, at: number, events: EventDraft[]): Promise<StreamEvent[] | null> {
    let changed = false
    const appended = await this.appending(async (tx, append) => {
      const rows = await tx.update(messages).set({ body, editedAt: at }).where(and(eq(messages.id, id), isNull(messages.deletedAt))).returning({ id: messages.id })
      changed = rows.length > 0
      if (changed) for (const e of events) await append(e)
    })
    return changed ? appended : null
  }

  async deleteMessage(id: number, at: number, events: EventDraft[]): Promise<StreamEvent[] | null> {
    let changed = false
    const appended = await this.appending(async (tx, append) => {
      const rows = await tx
        .update(messages)
        .set({ body: '', deletedAt: at, mentionIds: null })
        .where(and(eq(messages.id, id), isNull(messages.deletedAt)))
        .returning({ id: messages.id })
      changed = rows.length > 0
      if (!changed) return
      await tx.delete(mentions).where(eq(mentions.messageId, id))
      await tx.delete(reactions).where(eq(reactions.messageId, id))
      // The edits carried the text too: it goes from them as well.
      await tx.execute(sql`update stream_events set frame = jsonb_set(frame::jsonb, '{message}', '""')::text where text_of = ${id}`)
      // And from what still waits to leave: webhook edits not yet delivered, pushes not yet retried.
      await tx.execute(sql`update webhook_outbox set frame = jsonb_set(frame::jsonb, '{message}', '""')::text where type = 'message.edited' and seq in (select seq from stream_events where text_of = ${id})`)
      await tx.execute(sql`delete from push_retries where (payload::jsonb ->> 'message_id')::bigint = ${id}`)
      for (const e of events) await append(e)
    })
    return changed ? appended : null
  }

  async addReaction(messageId: number, userId: number, emoji: string, at: number, max: number, events: EventDraft[]): Promise<StreamEvent[] | null | 'limit'> {
    let outcome = 'had' as 'added' | 'had' | 'limit'
    const appended = await this.appending(async (tx, append) => {
      // One user's reactions to one message are counted and added one at a time.
      await tx.execute(sql`select pg_advisory_xact_lock(${REACTION_LOCK}, hashtext(${`${messageId}:${userId}`}))`)
      const mine = and(eq(reactions.messageId, messageId), eq(reactions.userId, userId))
      const [had] = await tx.select({ emoji: reactions.emoji }).from(reactions).where(and(mine, eq(reactions.emoji, emoji)))
      if (had) return
      const [{ n }] = await tx.select({ n: sql<number>`count(*)::int` }).from(reactions).where(mine)
      if (Number(n) >= max) {
        outcome = 'limit'
        return
      }
      await tx.insert(reactions).values({ messageId, userId, emoji, createdAt: at })
      outcome = 'added'
      for (const e of events) await append(e)
    })
    return outcome === 'added' ? appended : outcome === 'limit' ? 'limit' : null
  }

  async removeReaction(messageId: number, userId: number, emoji: string, events: EventDraft[]): Promise<StreamEvent[] | null> {
    let changed = false
    const appended = await this.appending(async (tx, append) => {
      const rows = await tx
        .delete(reactions)
        .where(and(eq(reactions.messageId, messageId), eq(reactions.userId, userId), eq(reactions.emoji, emoji)))
        .returning({ userId: reactions.userId })
      changed = rows.length > 0
      if (changed) for (const e of events) await append(e)
    })
    return changed ? appended : null
  }

  async reactionsOf(messageIds: number[]): Promise<Map<number, Reactions>> {
    const byMessage = new Map<number, Reactions>()
    for (const slice of slices(messageIds)) {
      const rows = await this.db
        .select({ messageId: reactions.messageId, userId: reactions.userId, emoji: reactions.emoji })
        .from(reactions)
        .where(inArray(reactions.messageId, slice))
        .orderBy(asc(reactions.messageId), asc(reactions.createdAt), asc(reactions.userId))
      collectReactions(rows.map((r) => ({ ...r, messageId: Number(r.messageId) })), byMessage)
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
    const rows = (await this.db.select().from(messages).where(range).orderBy(forward ? asc(messages.id) : desc(messages.id)).limit(page.limit)) as StoredMessage[]
    return forward ? rows : rows.reverse()
  }

  async lastSeq(): Promise<number> {
    // What has committed: seqs commit in order (STREAM_LOCK), so everything up to it is readable.
    const [row] = (await this.db.execute(sql`
      select greatest(
        (select coalesce(max(id), 0) from messages),
        (select coalesce(max(seq), 0) from stream_events),
        (select coalesce(max(pruned_seq), 0) from stream_state)) as seq`)) as unknown as { seq: string | number }[]
    return Number(row.seq)
  }

  /** Fills in the attachments of the rows that may carry some (see SqliteStore). */
  private async withAttachments(rows: StoredMessage[], db: Db | Tx = this.db): Promise<StoredMessage[]> {
    if (!mayCarryAttachments(rows)) return rows
    const ids = rows.filter((m) => ATTACHMENT_MESSAGE_TYPES.has(m.messageType)).map((m) => m.id)
    const byMessage = new Map<number, Attachment[]>()
    for (const slice of slices(ids)) {
      const links = await db
        .select({ messageId: messageAttachments.messageId, attachment: attachments })
        .from(messageAttachments)
        .innerJoin(attachments, eq(attachments.id, messageAttachments.attachmentId))
        .where(inArray(messageAttachments.messageId, slice))
        .orderBy(asc(messageAttachments.messageId), asc(messageAttachments.position))
      for (const { messageId, attachment } of links) {
        const list = byMessage.get(Number(messageId))
        if (list) list.push(attachment)
        else byMessage.set(Number(messageId), [attachment])
      }
    }
    for (const m of rows) {
      const list = byMessage.get(m.id)
      if (list) m.attachments = list
    }
    return rows
  }

  async createAttachment(attachment: Attachment): Promise<void> {
    await this.db.insert(attachments).values(attachment)
  }

  async getAttachments(ids: string[]): Promise<Attachment[]> {
    if (!ids.length) return []
    return this.db.select().from(attachments).where(inArray(attachments.id, ids))
  }

  async attachmentConversations(id: string): Promise<string[]> {
    const rows = await this.db.selectDistinct({ conv: messageAttachments.conv }).from(messageAttachments).where(eq(messageAttachments.attachmentId, id))
    return rows.map((r) => r.conv)
  }

  async uploadedBytes(userId: number): Promise<number> {
    const [row] = await this.db.select({ n: sql<string>`coalesce(sum(${attachments.size}), 0)` }).from(attachments).where(eq(attachments.uploaderId, userId))
    return Number(row.n)
  }

  async sweepUnsentAttachments(before: number, limit: number): Promise<{ deleted: number; orphaned: string[] }> {
    return this.db.transaction(async (tx) => {
      // SKIP LOCKED: instances sweeping at once take different rows instead of waiting on each other.
      const unsent = await tx
        .select({ id: attachments.id, sha256: attachments.sha256 })
        .from(attachments)
        .where(and(lt(attachments.createdAt, before), sql`not exists (select 1 from ${messageAttachments} where ${messageAttachments.attachmentId} = ${attachments.id})`))
        .limit(limit)
        .for('update', { skipLocked: true })
      if (!unsent.length) return { deleted: 0, orphaned: [] }
      await tx.delete(attachments).where(inArray(attachments.id, unsent.map((a) => a.id)))
      const hashes = [...new Set(unsent.map((a) => a.sha256))]
      const shared = new Set((await tx.selectDistinct({ sha256: attachments.sha256 }).from(attachments).where(inArray(attachments.sha256, hashes))).map((r) => r.sha256))
      return { deleted: unsent.length, orphaned: hashes.filter((h) => !shared.has(h)) }
    })
  }

  async releaseMessageAttachments(messageIds: number[]): Promise<string[]> {
    return this.db.transaction(async (tx) => {
      const ma = messageAttachments
      const released = new Set<string>()
      for (const slice of slices(messageIds))
        for (const r of await tx.delete(ma).where(inArray(ma.messageId, slice)).returning({ id: ma.attachmentId })) released.add(r.id)
      if (!released.size) return []
      const gone = await tx
        .delete(attachments)
        .where(and(inArray(attachments.id, [...released]), sql`not exists (select 1 from ${ma} where ${ma.attachmentId} = ${attachments.id})`))
        .returning({ sha256: attachments.sha256 })
      const hashes = [...new Set(gone.map((a) => a.sha256))]
      if (!hashes.length) return []
      const shared = new Set((await tx.selectDistinct({ sha256: attachments.sha256 }).from(attachments).where(inArray(attachments.sha256, hashes))).map((r) => r.sha256))
      return hashes.filter((h) => !shared.has(h))
    })
  }

  /** Fails within 2 s even when the server stopped answering on an open connection: /ready must answer. */
  async ping(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('PostgreSQL did not answer within 2 s')), 2000)))
    try {
      await Promise.race([this.client`select 1`, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  async close(): Promise<void> {
    await this.client.close({ timeout: 2 })
  }

  async searchMessages(request: SearchRequest): Promise<StoredMessage[]> {
    const readable = [...(await this.directConversations(request.userId)), ...(await this.groupIdsOf(request.userId)).map(groupConv)]
    const convs = request.conv === undefined ? readable : readable.filter((conv) => conv === request.conv)
    if (!convs.length) return []
    // The conversations named one by one, as an array literal (keys hold only letters, digits and
    // ':'), in one parameter whatever their number: the planner sees how many messages they hold and
    // combines the (conv, id) index with the GIN index, where a condition on the sender, recipient
    // and group led it to walk every message newest first for any but the most frequent words.
    // "search" is the generated tsvector column of migration 0003, outside the Drizzle schema.
    const rows = await this.db
      .select()
      .from(messages)
      .where(
        and(
          sql`"messages"."search" @@ to_tsquery('simple', ${tsquery(request.terms)})`,
          sql`${messages.conv} = any(${`{${convs.join(',')}}`}::text[])`,
          request.before === undefined ? undefined : lt(messages.id, request.before),
        ),
      )
      .orderBy(desc(messages.id))
      .limit(request.limit)
    return rows as StoredMessage[]
  }
}
