/** The storage contract. SQLite implements it today; PostgreSQL can implement the same one. */
import type { WebhookStorage } from '../webhooks/storage'
import type { PushStore } from '../push/store'
import type { SearchRequest } from './search'
import type { MessageRecord } from '../protocol/views'

export type MessageStatus = 'sent' | 'delivered' | 'read'

export interface User {
  id: number
  username: string
  displayName: string | null
  createdAt: number
}

export interface Group {
  id: number
  name: string
  createdBy: number | null
  createdAt: number
  memberIds: number[]
}

/**
 * A message as stored: the fields its wire views read (the protocol's `MessageRecord`: text,
 * status, lifecycle, attachments), and its conversation key and read time.
 */
export interface StoredMessage extends MessageRecord {
  conv: string
  status: MessageStatus
  readAt: number | null
  /** The files the message carries (message_type `image` or `file`), in the order they were sent. */
  attachments?: Attachment[]
}

export type NewMessage = Omit<StoredMessage, 'id' | 'readAt' | 'editedAt' | 'deletedAt' | 'replyCount' | 'replyToId' | 'mentionIds'> & {
  replyToId?: number | null
  mentionIds?: string | null
}

/** A new message as stored under `id`. Written out: a spread is a generic copy, and this runs once per message. */
export function storedMessage(m: NewMessage, id: number): StoredMessage {
  const stored: StoredMessage = {
    id,
    conv: m.conv,
    senderId: m.senderId,
    recipientId: m.recipientId,
    groupId: m.groupId,
    body: m.body,
    messageType: m.messageType,
    clientId: m.clientId,
    status: m.status,
    createdAt: m.createdAt,
    readAt: null,
    editedAt: null,
    deletedAt: null,
    replyToId: m.replyToId ?? null,
    mentionIds: m.mentionIds ?? null,
    replyCount: 0,
  }
  if (m.attachments) stored.attachments = m.attachments
  return stored
}

/** An uploaded file as stored: the bytes are in the attachment storage under `sha256`. */
export interface Attachment {
  id: string
  uploaderId: number
  sha256: string
  contentType: string
  size: number
  /** Display text only: never part of a path. */
  name: string
  width: number | null
  height: number | null
  /** Whether a thumbnail was stored beside the bytes. */
  thumbnail: boolean
  createdAt: number
}

/** Message types whose messages may carry attachments: the stores look their attachments up only for these. */
export const ATTACHMENT_MESSAGE_TYPES: ReadonlySet<string> = new Set(['image', 'file'])

/** Whether any of these messages may carry attachments (most pages hold none, and read nothing more). */
export function mayCarryAttachments(rows: readonly StoredMessage[]): boolean {
  for (const m of rows) if (ATTACHMENT_MESSAGE_TYPES.has(m.messageType)) return true
  return false
}

export interface InsertResult {
  message: StoredMessage
  /** True when (sender, client_id) was already stored: `message` is the original. */
  duplicate: boolean
}

export interface Page {
  before?: number
  after?: number
  limit: number
}

export interface ConversationSummary {
  conv: string
  otherUserId: number | null
  groupId: number | null
  lastMessage: StoredMessage | null
  unreadCount: number
  /** Unread messages that mention the user. */
  mentionCount: number
}

/** A message's reactions: each emoji with who reacted with it, in the order first used. */
export type Reactions = { emoji: string; userIds: number[] }[]

/** Groups reaction rows, ordered by message and then time, into each message's Reactions. */
export function collectReactions(rows: { messageId: number; userId: number; emoji: string }[], into: Map<number, Reactions>): void {
  for (const r of rows) {
    let list = into.get(r.messageId)
    if (!list) into.set(r.messageId, (list = []))
    const entry = list.find((e) => e.emoji === r.emoji)
    if (entry) entry.userIds.push(r.userId)
    else list.push({ emoji: r.emoji, userIds: [r.userId] })
  }
}

export class ConflictError extends Error {}

/**
 * A change a user must see, other than a new message (a status, a receipt, a membership change),
 * as the stream stores it: the frame without its `seq`, and who it is for (one user, or every
 * member of a group). The store treats the frame as opaque JSON.
 */
export interface EventDraft {
  userId: number | null
  groupId: number | null
  frame: { type: string } & Record<string, unknown>
  /** The message whose text `frame` carries (an edit): deleting the message erases it from the event too. */
  textOf?: number
}

/** An event as stored: its place in the one sequence that message ids are part of. */
export interface StreamEvent extends EventDraft {
  seq: number
}

/** What one device confirmed it holds (see src/realtime/confirmations.ts). */
export interface Confirmation {
  userId: number
  /** Messages whose status may move from `sent` to `delivered` (direct to this user, or group messages not yet delivered to anyone). */
  messageIds: number[]
  /** Every message of the user's groups up to here reached the device: their delivered marks rise to it (0: none). */
  groupsUpTo: number
}

/** Builds the status event a message's sender is told when `userId`'s device confirmed it. */
export type DeliveredEvent = (message: { id: number; senderId: number }, userId: number) => EventDraft

/** A LIKE pattern matching `text` anywhere, with its own `%`, `_` and `\` taken literally under ESCAPE '\'. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}

/**
 * The most rows (or ids) one statement carries: a call given more splits them, so that no
 * statement's variable count grows with the data (SQLite refuses more than 32,766 variables,
 * PostgreSQL 65,535 parameters).
 */
export const ROWS_PER_STATEMENT = 500

/**
 * Resolves on the next turn of the event loop. A store whose calls run synchronously (SQLite)
 * awaits it between the parts of a long read, so that no single call holds the event loop.
 */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Conversations a long read goes through between two turns of the event loop. */
export const CONVERSATIONS_PER_TURN = 32

/** `items` in consecutive slices of at most `size`. */
export function* slices<T>(items: readonly T[], size = ROWS_PER_STATEMENT): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size)
}

export interface Store {
  /** The webhook tables; insertMessages and the event appends write its outbox in their own transactions. */
  readonly webhooks: WebhookStorage
  createUser(input: { username: string; displayName?: string | null }): Promise<User>
  getUser(id: number): Promise<User | undefined>
  /** Users with an id above `after`, ascending; with `query`, only those whose username or display name contains it, ignoring case. */
  listUsers(page: { query?: string; after?: number; limit: number }): Promise<User[]>
  createGroup(input: { name: string; createdBy: number | null; memberIds: number[] }): Promise<Group>
  getGroup(id: number): Promise<Group | undefined>
  /** Adds a member; false when already a member. */
  addMember(groupId: number, userId: number): Promise<boolean>
  /** Removes a member; false when not a member. */
  removeMember(groupId: number, userId: number): Promise<boolean>
  groupIdsOf(userId: number): Promise<number[]>
  /** How many groups each of these users is in (users in none are absent). */
  groupCounts(userIds: number[]): Promise<Map<number, number>>

  /** Stores a batch in one transaction, in order; a repeated (sender, client_id) returns the original. */
  insertMessages(batch: NewMessage[]): Promise<InsertResult[]>
  getMessage(id: number): Promise<StoredMessage | undefined>
  /** A page of one conversation, ascending by id. */
  history(conv: string, page: Page): Promise<StoredMessage[]>
  /** The direct conversations the user takes part in (sender or recipient). */
  directConversations(userId: number): Promise<string[]>
  /** Direct messages to the user still `sent`, with ids in (afterId, beforeId), ascending. */
  undeliveredDirect(userId: number, afterId: number, beforeId: number, limit: number): Promise<StoredMessage[]>
  /** The user's delivered mark in each of their groups (group id → message id). */
  deliveredMarks(userId: number): Promise<Map<number, number>>
  /**
   * Records what devices confirmed, in one transaction: messages still `sent` become `delivered`
   * (each change appends `event(message, userId)`), and group delivered marks rise. Returns the
   * events appended, in order.
   */
  recordDelivered(confirmations: Confirmation[], event: DeliveredEvent): Promise<StreamEvent[]>
  /** Marks a direct message read by its recipient and appends `events` with it; null when it was read already. */
  markDirectRead(messageId: number, at: number, events: EventDraft[]): Promise<StreamEvent[] | null>
  /** Raises a member's read mark and appends `events` with it; null when it was already at or past `upToId`. */
  markGroupRead(groupId: number, userId: number, upToId: number, events: EventDraft[]): Promise<StreamEvent[] | null>
  /** Appends events to the stream in one transaction. */
  appendEvents(events: EventDraft[]): Promise<StreamEvent[]>
  /**
   * Up to `limit` events with a seq in (after, before), ascending, for `userId` or one of `groupIds`.
   * Events at or below `prunedSeq()` may be gone.
   */
  eventsFor(userId: number, groupIds: number[], after: number, before: number, limit: number): Promise<StreamEvent[]>
  /** Deletes the events stored before `before` (ms since the epoch), oldest first; returns how many. */
  pruneEvents(before: number): Promise<number>
  /** The highest seq whose events may have been pruned (0: none ever were). */
  prunedSeq(): Promise<number>
  /** The members' read marks of a group, for the status of its messages. */
  readMarks(groupId: number): Promise<Map<number, number>>
  conversations(userId: number): Promise<ConversationSummary[]>
  /** Replaces the text of a message not deleted, and appends `events` with it; null when it is deleted or gone. */
  editMessage(id: number, body: string, at: number, events: EventDraft[]): Promise<StreamEvent[] | null>
  /**
   * Erases a message: its text (and the text of its edit events), its mentions and reactions; the
   * row stays as a tombstone. Appends `events` with it; null when it was deleted already or is gone.
   */
  deleteMessage(id: number, at: number, events: EventDraft[]): Promise<StreamEvent[] | null>
  /**
   * Adds a user's reaction and appends `events` with it: null when the user has it already,
   * 'limit' when they have `max` reactions on the message.
   */
  addReaction(messageId: number, userId: number, emoji: string, at: number, max: number, events: EventDraft[]): Promise<StreamEvent[] | null | 'limit'>
  /** Removes a user's reaction and appends `events` with it; null when they had none. */
  removeReaction(messageId: number, userId: number, emoji: string, events: EventDraft[]): Promise<StreamEvent[] | null>
  /** The reactions of these messages (those with none are absent). */
  reactionsOf(messageIds: number[]): Promise<Map<number, Reactions>>
  /** A page of the replies to a message, ascending by id, with the same cursors as history. */
  replies(parentId: number, page: Page): Promise<StoredMessage[]>

  /** The last seq handed out (a message id or an event's seq), 0 when none. */
  lastSeq(): Promise<number>
  /** Throws when the database cannot answer. */
  ping(): Promise<void>
  close(): Promise<void>
  /**
   * Messages matching every term, newest first: only in the user's direct conversations and the
   * groups they are a member of now, kept in step with every insert, body update and delete.
   */
  searchMessages(request: SearchRequest): Promise<StoredMessage[]>

  // --- attachments (src/attachments). A message's links are written by insertMessages, in its
  // commit, from `NewMessage.attachments`; every read of messages fills `attachments` back in.
  /** Stores an uploaded file's record. */
  createAttachment(attachment: Attachment): Promise<void>
  /** The records of these ids that exist, in no promised order. */
  getAttachments(ids: string[]): Promise<Attachment[]>
  /** The conversations an attachment was sent to (empty: unsent). */
  attachmentConversations(id: string): Promise<string[]>
  /** The bytes the user's stored attachments hold, sent or not (the upload quota). */
  uploadedBytes(userId: number): Promise<number>
  /**
   * Deletes up to `limit` attachments created before `before` that were never sent; returns the
   * sha256 of those whose bytes no other attachment shares (the caller deletes the bytes).
   */
  sweepUnsentAttachments(before: number, limit: number): Promise<{ deleted: number; orphaned: string[] }>
  /**
   * For deleted messages: removes their links, then the attachments no message links any more;
   * returns the sha256 of those whose bytes no other attachment shares (the caller deletes them).
   */
  releaseMessageAttachments(messageIds: number[]): Promise<string[]>
  /** Web Push's subscriptions and retries, in the same database (src/push/store.ts). */
  readonly push: PushStore
}

export { directConv, groupConv } from '../protocol/conversations'
