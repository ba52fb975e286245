import type { EventDraft, Store, StoredMessage } from '../db/store'
import { AppError, badRequest, forbidden, notFound } from '../http/errors'
import type { ReactionSummary } from '../protocol/message'
import { isoTime, reactionSummary, toView } from '../protocol/views'
import { isBlank } from './blank'
import type { Directory } from './directory'
import { MAX_REACTIONS_PER_USER, reactionEmoji } from './emoji'
import { lengthExceeded } from './length'
import type { Publisher } from './publisher'
import { withReactions } from './reactions'

export interface LifecycleDeps {
  store: Store
  directory: Directory
  delivery: Publisher
  maxMessageLength: number
  /** Runs after a message is deleted (its attachments' bytes go when nothing else refers to them). */
  deleted?: (messageId: number) => Promise<void>
}

/** Which conversation a lifecycle event is in, as its frames say it. */
function inConversation(m: StoredMessage) {
  return m.groupId !== null ? { sender_id: m.senderId, group_id: m.groupId } : { sender_id: m.senderId, recipient_id: m.recipientId! }
}

/**
 * Editing, deleting and reacting to messages: each change is one event of the stream, stored in
 * the commit that makes it, for every member of the conversation (the actor's devices included:
 * the acting connection learns of it like the others). A retry that changes nothing appends
 * nothing and answers with the state as it is.
 */
export class MessageLifecycle {
  constructor(private readonly deps: LifecycleDeps) {}

  /** The events of one change, for whoever takes part in the message's conversation. */
  private eventsFor(m: StoredMessage, frame: EventDraft['frame'], textOf?: number): EventDraft[] {
    if (m.groupId !== null) return [{ userId: null, groupId: m.groupId, frame, textOf }]
    const users = m.recipientId === m.senderId ? [m.senderId] : [m.senderId, m.recipientId!]
    return users.map((userId) => ({ userId, groupId: null, frame, textOf }))
  }

  /** The message, when `userId` takes part in its conversation; the same answer as for none otherwise. */
  async visible(userId: number, messageId: number): Promise<StoredMessage> {
    const m = await this.deps.store.getMessage(messageId)
    if (m && (m.groupId === null ? m.senderId === userId || m.recipientId === userId : (await this.deps.directory.membersOf(m.groupId))?.has(userId))) return m
    throw notFound('message_not_found', `message ${messageId} does not exist or was not sent to you`)
  }

  /** Replaces the text of one's own message; it keeps its id and its place. */
  async edit(actorId: number, messageId: number, text: string): Promise<StoredMessage> {
    if (isBlank(text)) throw badRequest('empty_message', 'message is empty or has only invisible characters')
    const tooLong = lengthExceeded(text, this.deps.maxMessageLength)
    if (tooLong) throw new AppError(413, 'message_too_long', tooLong)
    const m = await this.visible(actorId, messageId)
    if (m.senderId !== actorId) throw forbidden('not_sender', `only the sender of message ${messageId} may edit it`)
    if (m.deletedAt !== null) throw deleted(messageId)
    if (m.body === text) return m
    const at = Date.now()
    const frame = { type: 'message_edited' as const, message_id: m.id, ...inConversation(m), message: text, edited_at: isoTime(at) }
    const events = await this.deps.store.editMessage(m.id, text, at, this.eventsFor(m, frame, m.id))
    // Deleted between the read and the write (on another instance).
    if (!events) throw deleted(messageId)
    this.deps.delivery.publishEvents(events)
    return { ...m, body: text, editedAt: at }
  }

  /** Deletes a message: its sender may, and in a group its creator (the moderator). */
  async delete(actorId: number, messageId: number): Promise<StoredMessage> {
    const m = await this.visible(actorId, messageId)
    if (m.senderId !== actorId && !(m.groupId !== null && (await this.deps.store.getGroup(m.groupId))?.createdBy === actorId))
      throw forbidden('forbidden', `only the sender of message ${messageId}${m.groupId !== null ? " or the group's creator" : ''} may delete it`)
    if (m.deletedAt !== null) return m
    const at = Date.now()
    const frame = { type: 'message_deleted' as const, message_id: m.id, ...inConversation(m), deleted_at: isoTime(at) }
    const events = await this.deps.store.deleteMessage(m.id, at, this.eventsFor(m, frame))
    if (events) {
      this.deps.delivery.publishEvents(events)
      await this.deps.deleted?.(m.id)
    }
    return { ...m, body: '', deletedAt: at, mentionIds: null }
  }

  /** Adds (or removes) the actor's reaction. */
  async react(actorId: number, messageId: number, emoji: string, add: boolean): Promise<void> {
    const e = reactionEmoji(emoji)
    if (e === undefined) throw badRequest('invalid_emoji', 'a reaction is one emoji')
    const m = await this.visible(actorId, messageId)
    if (m.deletedAt !== null) throw deleted(messageId)
    const frame = { type: add ? ('reaction_added' as const) : ('reaction_removed' as const), message_id: m.id, ...inConversation(m), user_id: actorId, emoji: e, timestamp: new Date().toISOString() }
    const drafts = this.eventsFor(m, frame)
    const result = add
      ? await this.deps.store.addReaction(m.id, actorId, e, Date.now(), MAX_REACTIONS_PER_USER, drafts)
      : await this.deps.store.removeReaction(m.id, actorId, e, drafts)
    if (result === 'limit') throw new AppError(409, 'too_many_reactions', `at most ${MAX_REACTIONS_PER_USER} different reactions a user on one message`)
    if (result) this.deps.delivery.publishEvents(result)
  }

  /** A message's reactions as a viewer sees them (what REST answers after a change). */
  async reactionsAsSeenBy(viewerId: number, messageId: number): Promise<{ message_id: number; reactions: ReactionSummary[] }> {
    return { message_id: messageId, reactions: reactionSummary((await this.deps.store.reactionsOf([messageId])).get(messageId), viewerId) }
  }

  /** A page of the replies to a message the reader may see, with the same cursors as history. */
  async replies(readerId: number, parentId: number, page: { before?: number; after?: number; limit: number }) {
    await this.visible(readerId, parentId)
    const rows = await this.deps.store.replies(parentId, { ...page, limit: page.limit + 1 })
    const forward = page.after !== undefined
    const has_more = rows.length > page.limit
    const shown = has_more ? (forward ? rows.slice(0, page.limit) : rows.slice(1)) : rows
    const messages = await withReactions(this.deps.store, shown.map((m) => toView(m)), readerId)
    const next_cursor = !has_more || !shown.length ? null : forward ? { after: shown[shown.length - 1].id } : { before: shown[0].id }
    return { messages, has_more, next_cursor }
  }
}

function deleted(messageId: number): AppError {
  return new AppError(409, 'message_deleted', `message ${messageId} was deleted`)
}
