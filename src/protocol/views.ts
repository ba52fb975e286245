import { attachmentView, type AttachmentRecord } from './attachment'
import type { MessageView, ReactionSummary } from './message'

/** A message as stored, as far as its wire views read it: the store's `StoredMessage` is one. */
export interface MessageRecord {
  id: number
  senderId: number
  recipientId: number | null
  groupId: number | null
  body: string
  messageType: string
  clientId: string | null
  status: MessageView['status']
  createdAt: number
  /** When it was last edited; null if never. */
  editedAt: number | null
  /** When it was deleted (its text is gone: `body` is empty); null if it was not. */
  deletedAt: number | null
  /** The message of the same conversation it replies to. */
  replyToId: number | null
  /** The members it mentions, as a JSON array of user ids; null when none. */
  mentionIds: string | null
  /** How many replies it has. */
  replyCount: number
  /** The files it carries (message_type `image` or `file`), in order. */
  attachments?: AttachmentRecord[]
}

let lastMs = NaN
let lastIso = ''

/**
 * A message time (ms since the epoch) as an ISO string. One message's time is written twice (its
 * `message` frame and its `message_sent`) and messages of one batch often share the millisecond:
 * the last one is kept rather than formatted again.
 */
export function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastMs = ms
    lastIso = new Date(ms).toISOString()
  }
  return lastIso
}

/** The lifecycle fields a message has only once edited, deleted, replied to or with mentions. */
function addLifecycle(view: { message: string; edited_at?: string; deleted?: true; reply_to_id?: number; reply_count?: number; mention_ids?: number[] }, m: MessageRecord): void {
  if (m.editedAt !== null) view.edited_at = isoTime(m.editedAt)
  if (m.deletedAt !== null) view.deleted = true
  if (m.replyToId !== null) view.reply_to_id = m.replyToId
  if (m.replyCount > 0) view.reply_count = m.replyCount
  if (m.mentionIds !== null) view.mention_ids = JSON.parse(m.mentionIds)
}

/** Whether a message has any lifecycle field to show (most have none). */
function hasLifecycle(m: MessageRecord): boolean {
  return m.editedAt !== null || m.deletedAt !== null || m.replyToId !== null || m.replyCount > 0 || m.mentionIds !== null
}

/** A message's reactions as one viewer sees them: a count per emoji, and whether they are among them. */
export function reactionSummary(reactions: { emoji: string; userIds: number[] }[] | undefined, viewerId: number): ReactionSummary[] {
  return (reactions ?? []).map((r) => ({ emoji: r.emoji, count: r.userIds.length, me: r.userIds.includes(viewerId) }))
}

/** The wire view of a stored message; `status` overrides the stored one (e.g. per viewer). */
export function toView(m: MessageRecord, status = m.status, readCount?: number): MessageView {
  const view: MessageView = m.groupId !== null
    ? {
        id: m.id,
        sender_id: m.senderId,
        group_id: m.groupId,
        message: m.body,
        message_type: m.messageType,
        status,
        client_id: m.clientId,
        timestamp: isoTime(m.createdAt),
      }
    : {
        id: m.id,
        sender_id: m.senderId,
        recipient_id: m.recipientId!,
        message: m.body,
        message_type: m.messageType,
        status,
        client_id: m.clientId,
        timestamp: isoTime(m.createdAt),
      }
  if (readCount !== undefined) view.read_count = readCount
  if (hasLifecycle(m)) addLifecycle(view, m)
  if (m.attachments) view.attachments = m.attachments.map(attachmentView)
  return view
}

/**
 * The `message` frame that recipients and the sender's other connections receive: the view with a
 * type, written out rather than spread from `toView`, because a spread is a generic copy and this
 * runs once per message.
 */
export function messageFrame(m: MessageRecord) {
  const timestamp = isoTime(m.createdAt)
  const { id, senderId: sender_id, body: message, messageType: message_type, clientId: client_id } = m
  const frame: MessageView & { type: 'message'; seq: number } = m.groupId !== null
    ? { type: 'message' as const, seq: id, id, sender_id, group_id: m.groupId, message, message_type, status: 'delivered' as const, client_id, timestamp }
    : { type: 'message' as const, seq: id, id, sender_id, recipient_id: m.recipientId!, message, message_type, status: 'delivered' as const, client_id, timestamp }
  // A reply, a mention; in a catch-up also an edit or a delete since: the message as it is now.
  if (hasLifecycle(m)) addLifecycle(frame, m)
  if (m.attachments) frame.attachments = m.attachments.map(attachmentView)
  return frame
}

/** Groups up to this size list, on their sender's messages, who read them (`read_by`). */
export const READ_BY_MAX_MEMBERS = 100

/** A group message's status as one member sees it: read marks decide. */
export function groupView(m: MessageRecord, viewerId: number, marks: Map<number, number>): MessageView {
  let readers = 0
  let others = 0
  // The sender sees who read their message, in groups small enough for a list to be shown.
  const readBy = m.senderId === viewerId && marks.size <= READ_BY_MAX_MEMBERS ? ([] as number[]) : undefined
  for (const [member, mark] of marks) {
    if (member === m.senderId) continue
    others++
    if (mark >= m.id) {
      readers++
      readBy?.push(member)
    }
  }
  if (m.senderId !== viewerId) return toView(m, (marks.get(viewerId) ?? 0) >= m.id ? 'read' : 'delivered', readers)
  const view = toView(m, others > 0 && readers === others ? 'read' : m.status, readers)
  if (readBy) view.read_by = readBy.sort((x, y) => x - y)
  return view
}
