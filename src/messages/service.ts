import type { Attachment, ConversationSummary, EventDraft, InsertResult, NewMessage, Store, StoredMessage } from '../db/store'
import { ATTACHMENT_MESSAGE_TYPES, directConv, groupConv } from '../db/store'
import { AppError, badRequest, forbidden, notFound } from '../http/errors'
import type { Logger } from '../observability/logger'
import { groupTarget, userTarget, type Origin, type Target } from '../protocol/topics'
import { isBlank } from './blank'
import type { Directory } from './directory'
import { lengthExceeded } from './length'
import type { MessageView } from '../protocol/message'
import { groupView, messageFrame, toView } from '../protocol/views'
import type { Publisher } from './publisher'
import { withReactions } from './reactions'
import type { MessageWriter } from './writer'

export interface SendInput {
  recipient_id?: number
  group_id?: number
  message: string
  message_type?: string
  client_id?: string
  reply_to_id?: number
  mention_ids?: number[]
  /** Uploads (POST /attachments) the message carries; its type is then `image` or `file`. */
  attachment_ids?: string[]
}

/** What checks the attachments of a send (src/attachments implements it). */
export interface AttachmentResolver {
  /** The sender's uploads with these ids, in order, for a message of `messageType`; or why they may not be sent. */
  forSend(senderId: number, ids: string[], messageType: string): Promise<Attachment[] | AppError>
}

export interface SendOutcome {
  message: StoredMessage
  duplicate: boolean
}

/**
 * The transport a send came over. One rule refuses a malformed target on both, each with its own
 * code: `invalid_frame` is the WebSocket's word for a frame, a REST body is an `invalid_request`.
 */
export type Transport = 'rest' | 'websocket'
const MALFORMED: Record<Transport, string> = { rest: 'invalid_request', websocket: 'invalid_frame' }

/** Where a direct or group event goes, once checked. */
type Route = { conv: string; recipientId: number | null; groupId: number | null; members?: Set<number> }

type MaybeAsync<T> = T | Promise<T>

/** Runs `fn` on a value now, or when its promise settles: the hot path stays synchronous on cache hits. */
function after<T, R>(value: MaybeAsync<T>, fn: (v: T) => MaybeAsync<R>): MaybeAsync<R> {
  return value instanceof Promise ? value.then(fn) : fn(value)
}

const now = () => new Date().toISOString()



export interface MessagingDeps {
  store: Store
  directory: Directory
  writer: MessageWriter
  delivery: Publisher
  maxMessageLength: number
  logger: Logger
  /** Without it, a message with attachment_ids is refused. */
  attachments?: AttachmentResolver
  /** Told of each message once committed (not of a resend): Web Push's grace check; null when push is off. */
  onCommitted?: ((message: StoredMessage) => void) | null
}

/** Sending, reading and listing messages: the rules both REST and the WebSocket follow. */
export class MessagingService {
  constructor(private readonly deps: MessagingDeps) {}

  /** Checks that the sender may address this user or group. */
  resolveRoute(senderId: number, to: { recipient_id?: number; group_id?: number }, transport: Transport = 'websocket'): MaybeAsync<Route | AppError> {
    const { recipient_id, group_id } = to
    if ((recipient_id === undefined) === (group_id === undefined))
      return badRequest(MALFORMED[transport], 'give exactly one of recipient_id or group_id')
    if (recipient_id !== undefined) {
      return after(this.deps.directory.userExists(recipient_id), (exists) =>
        exists
          ? { conv: directConv(senderId, recipient_id), recipientId: recipient_id, groupId: null }
          : notFound('unknown_recipient', `user ${recipient_id} does not exist`),
      )
    }
    return after(this.deps.directory.membersOf(group_id!), (members) => {
      if (!members) return notFound('unknown_group', `group ${group_id} does not exist`)
      if (!members.has(senderId)) return forbidden('not_a_member', `user ${senderId} is not a member of group ${group_id}`)
      return { conv: groupConv(group_id!), recipientId: null, groupId: group_id!, members }
    })
  }

  /** Validates a send and builds the row to store, or says what is wrong. */
  prepare(senderId: number, input: SendInput, transport: Transport = 'websocket'): MaybeAsync<NewMessage | AppError> {
    const body = input.message
    // A caption is optional: the attachments are what a message with them shows.
    if (isBlank(body) && !input.attachment_ids?.length) return badRequest('empty_message', 'message is empty or has only invisible characters')
    const tooLong = lengthExceeded(body, this.deps.maxMessageLength)
    if (tooLong) return new AppError(413, 'message_too_long', tooLong)
    // A promise the callback returns is flattened by `after`'s then.
    return after(this.resolveRoute(senderId, input, transport), (route) => {
      if (route instanceof AppError) return route
      let mentionIds: string | null = null
      if (input.mention_ids?.length) {
        const mentioned = [...new Set(input.mention_ids)].sort((x, y) => x - y)
        const inConversation = (id: number) => (route.members ? route.members.has(id) : id === senderId || id === route.recipientId)
        const outsider = mentioned.find((id) => !inConversation(id))
        if (outsider !== undefined) return badRequest('invalid_mention', `user ${outsider} is not in this conversation`)
        mentionIds = JSON.stringify(mentioned)
      }
      const message: NewMessage = {
        conv: route.conv,
        senderId,
        recipientId: route.recipientId,
        groupId: route.groupId,
        body,
        messageType: input.message_type ?? 'text',
        clientId: input.client_id ?? null,
        // `delivered` once a recipient's device confirms it (src/realtime/confirmations.ts); a note
        // to self is on its writer's device already.
        status: route.recipientId === senderId ? 'delivered' : 'sent',
        createdAt: Date.now(),
        replyToId: input.reply_to_id ?? null,
        mentionIds,
      }
      // Only a reply or a message with attachments reads the database before its commit.
      const carries = input.attachment_ids !== undefined || ATTACHMENT_MESSAGE_TYPES.has(message.messageType)
      if (input.reply_to_id === undefined) return carries ? this.withAttachments(senderId, input, message) : message
      return this.checkReply(message, input.reply_to_id).then((m) => (m instanceof AppError || !carries ? m : this.withAttachments(senderId, input, m)))
    })
  }

  /**
   * A message of type `image` or `file`, or one with attachment_ids: the attachments must be the
   * sender's uploads. Without a type of its own (`text`, the default), it takes `image` when every
   * attachment is an image, else `file`.
   */
  private async withAttachments(senderId: number, input: SendInput, message: NewMessage): Promise<NewMessage | AppError> {
    const ids = input.attachment_ids
    if (!ids?.length) return badRequest('attachments_required', `a message of type ${message.messageType} carries attachment_ids (upload with POST /attachments)`)
    if (!this.deps.attachments) return badRequest('attachments_unavailable', 'this server takes no attachments')
    const typed = input.message_type !== undefined && input.message_type !== 'text'
    const found = await this.deps.attachments.forSend(senderId, ids, typed ? message.messageType : 'file')
    if (found instanceof AppError) return found
    if (!typed) message.messageType = found.every((a) => a.contentType.startsWith('image/')) ? 'image' : 'file'
    message.attachments = found
    return message
  }

  /** A reply's parent must be a message of the same conversation, not deleted. */
  private async checkReply(message: NewMessage, parentId: number): Promise<NewMessage | AppError> {
    const parent = await this.deps.store.getMessage(parentId)
    if (!parent || parent.conv !== message.conv) return badRequest('invalid_reply', `message ${parentId} is not in this conversation`)
    if (parent.deletedAt !== null) return new AppError(409, 'message_deleted', `message ${parentId} was deleted`)
    return message
  }

  /** Stores a prepared message (group commit), then delivers it; `done` runs after the commit. */
  commit(message: NewMessage, origin: Origin | undefined, done: (error: unknown, outcome?: SendOutcome) => void): void {
    // A message stored but not relayed to the other instances would reach its recipient only on
    // their next reconnect: while the broker is down, refuse it (the client retries) instead.
    if (!this.deps.delivery.canPublish()) return done(new Error('the broker cannot reach the other instances'))
    this.deps.writer.submit(message, (error, result?: InsertResult) => {
      if (error) return done(error)
      const { message: stored, duplicate } = result!
      if (!duplicate) {
        this.deliverMessage(stored, origin)
        this.deps.onCommitted?.(stored)
      }
      done(null, { message: stored, duplicate })
    })
  }

  /** Publishes a committed message to its recipients and to the sender's other connections. */
  private deliverMessage(m: StoredMessage, origin: Origin | undefined): void {
    const { delivery } = this.deps
    const targets: Target[] =
      m.groupId !== null
        ? [groupTarget(m.groupId)]
        : m.recipientId === m.senderId
          ? [userTarget(m.senderId)]
          : [userTarget(m.recipientId!), userTarget(m.senderId)]
    delivery.publish(targets, messageFrame(m), origin)
  }

  /** The REST path: prepare, store, deliver; resolves with the stored message. */
  async send(senderId: number, input: SendInput): Promise<SendOutcome> {
    let prepared: NewMessage | AppError
    try {
      const exists = await this.deps.directory.userExists(senderId)
      if (!exists) throw notFound('unknown_sender', `user ${senderId} does not exist`)
      prepared = await this.prepare(senderId, input, 'rest')
    } catch (error) {
      // The checks read the database: when it cannot answer, nothing was stored and a retry is safe.
      throw error instanceof AppError ? error : unavailable(error, this.deps.logger)
    }
    if (prepared instanceof AppError) throw prepared
    return new Promise((resolve, reject) =>
      this.commit(prepared, undefined, (error, outcome) => (error ? reject(unavailable(error, this.deps.logger)) : resolve(outcome!))),
    )
  }

  /** Relays a typing indicator; never stored. */
  typing(senderId: number, to: { recipient_id?: number; group_id?: number }, isTyping: boolean, origin?: Origin): MaybeAsync<AppError | undefined> {
    return after(this.resolveRoute(senderId, to), (route) => {
      if (route instanceof AppError) return route
      const target = route.groupId !== null ? groupTarget(route.groupId) : userTarget(route.recipientId!)
      const frame = route.groupId !== null
        ? { type: 'typing' as const, sender_id: senderId, group_id: route.groupId, is_typing: isTyping, timestamp: now() }
        : { type: 'typing' as const, sender_id: senderId, recipient_id: route.recipientId!, is_typing: isTyping, timestamp: now() }
      this.deps.delivery.publish([target], frame, origin)
      return undefined
    })
  }

  /** The recipient of a direct message: the default reader when REST names none (AUTH=none only). */
  async recipientOf(messageId: number): Promise<number> {
    const m = await this.deps.store.getMessage(messageId)
    if (!m) throw messageNotFound(messageId)
    if (m.recipientId === null) throw badRequest('user_id_required', 'give user_id: the reader of a group message')
    return m.recipientId
  }

  /**
   * Marks a message read by `readerId` and tells its sender. `claimedSender` is the sender a
   * read_receipt frame names: checked only once the reader is known to see the message.
   */
  async markRead(readerId: number, messageId: number, claimedSender?: number): Promise<{ message_id: number; status: 'read'; reader_id: number; changed: boolean }> {
    const { store } = this.deps
    const m = await store.getMessage(messageId)
    // A message this user may not see answers exactly as one that does not exist: no other
    // answer may tell who sent it, to whom, or in which group.
    if (!m || !(await this.canSee(readerId, m))) throw messageNotFound(messageId)
    if (claimedSender !== undefined && claimedSender !== m.senderId)
      throw badRequest('invalid_frame', `message ${messageId} was not sent by user ${claimedSender}`)
    if (m.groupId !== null && m.senderId === readerId) return { message_id: m.id, status: 'read', reader_id: readerId, changed: false }
    if (m.groupId === null && m.recipientId !== readerId) throw forbidden('not_recipient', `message ${messageId} is yours: only its recipient marks it read`)
    // The receipt and the status change are events of the sender's stream, stored with the mark.
    const timestamp = now()
    const receipt = { type: 'read_receipt' as const, message_id: m.id, sender_id: m.senderId, reader_id: readerId, timestamp }
    const events: EventDraft[] = [
      { userId: m.senderId, groupId: null, frame: m.groupId !== null ? { ...receipt, group_id: m.groupId } : receipt },
      { userId: m.senderId, groupId: null, frame: { type: 'message_status', message_id: m.id, status: 'read', user_id: readerId, timestamp } },
    ]
    const appended = m.groupId !== null
      ? await store.markGroupRead(m.groupId, readerId, m.id, events)
      : await store.markDirectRead(m.id, Date.now(), events)
    if (appended) this.deps.delivery.publishEvents(appended)
    return { message_id: m.id, status: 'read', reader_id: readerId, changed: appended !== null }
  }

  /** Whether a message is in one of the user's conversations: theirs, to them, or in one of their groups. */
  private async canSee(userId: number, m: StoredMessage): Promise<boolean> {
    if (m.groupId === null) return m.recipientId === userId || m.senderId === userId
    return (await this.deps.directory.membersOf(m.groupId))?.has(userId) ?? false
  }

  /**
   * Records a membership change as events of the stream: one to the group (its members, the new
   * one included, are told), and to each user who left, who no longer hears the group.
   */
  async membershipChanged(groupId: number, userIds: number[], member: boolean): Promise<void> {
    const timestamp = now()
    const events: EventDraft[] = []
    for (const userId of userIds) {
      const frame = { type: 'membership' as const, group_id: groupId, user_id: userId, member, timestamp }
      events.push({ userId: null, groupId, frame })
      if (!member) events.push({ userId, groupId: null, frame })
    }
    this.deps.delivery.publishEvents(await this.deps.store.appendEvents(events))
  }

  /** A page of a direct or group conversation, as `userId` sees it. */
  async history(
    userId: number,
    with_: { other_user_id?: number; group_id?: number },
    page: { before?: number; after?: number; limit: number },
  ): Promise<{ messages: MessageView[]; has_more: boolean; next_cursor: { before: number } | { after: number } | null }> {
    const { store, directory } = this.deps
    if (!(await directory.userExists(userId))) throw notFound('unknown_user', `user ${userId} does not exist`)
    if ((with_.other_user_id === undefined) === (with_.group_id === undefined))
      throw badRequest('invalid_query', 'give exactly one of other_user_id or group_id')
    let conv: string
    let marks: Map<number, number> | undefined
    if (with_.other_user_id !== undefined) {
      if (!(await directory.userExists(with_.other_user_id))) throw notFound('unknown_user', `user ${with_.other_user_id} does not exist`)
      conv = directConv(userId, with_.other_user_id)
    } else {
      const members = await directory.membersOf(with_.group_id!)
      if (!members) throw notFound('unknown_group', `group ${with_.group_id} does not exist`)
      if (!members.has(userId)) throw forbidden('not_a_member', `user ${userId} is not a member of group ${with_.group_id}`)
      conv = groupConv(with_.group_id!)
      marks = await store.readMarks(with_.group_id!)
    }
    // One extra row says whether another page exists.
    const rows = await store.history(conv, { ...page, limit: page.limit + 1 })
    const forward = page.after !== undefined
    const has_more = rows.length > page.limit
    const shown = has_more ? (forward ? rows.slice(0, page.limit) : rows.slice(1)) : rows
    const messages = await withReactions(store, shown.map((m) => (marks ? groupView(m, userId, marks) : toView(m))), userId)
    const next_cursor = !has_more || !shown.length ? null : forward ? { after: shown[shown.length - 1].id } : { before: shown[0].id }
    return { messages, has_more, next_cursor }
  }

  /** The user's conversations, newest activity first. */
  async conversations(userId: number) {
    if (!(await this.deps.directory.userExists(userId))) throw notFound('unknown_user', `user ${userId} does not exist`)
    const list: ConversationSummary[] = await this.deps.store.conversations(userId)
    return {
      user_id: userId,
      conversations: list.map((c) =>
        c.groupId !== null
          ? { kind: 'group' as const, group_id: c.groupId, last_message: c.lastMessage && toView(c.lastMessage), unread_count: c.unreadCount, mention_count: c.mentionCount }
          : { kind: 'direct' as const, other_user_id: c.otherUserId!, last_message: c.lastMessage && toView(c.lastMessage), unread_count: c.unreadCount, mention_count: c.mentionCount },
      ),
    }
  }
}

/** The one answer for a message that does not exist and for one the user may not see. */
function messageNotFound(messageId: number): AppError {
  return notFound('message_not_found', `message ${messageId} does not exist or was not sent to you`)
}

/** A storage failure as the client should see it: nothing stored, safe to retry. */
export function unavailable(error: unknown, logger: Logger): AppError {
  logger.error({ err: error }, 'storing messages failed')
  return new AppError(503, 'unavailable', 'the message could not be stored; retry with the same client_id')
}
