import { attachmentView } from '../attachments/model'
import type { StoredMessage } from '../db/store'
import type { MessageView } from './model'

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

/** The wire view of a stored message; `status` overrides the stored one (e.g. per viewer). */
export function toView(m: StoredMessage, status = m.status, readCount?: number): MessageView {
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
  if (m.attachments) view.attachments = m.attachments.map(attachmentView)
  return view
}

/**
 * The `message` frame that recipients and the sender's other connections receive: the view with a
 * type, written out rather than spread from `toView`, because a spread is a generic copy and this
 * runs once per message.
 */
export function messageFrame(m: StoredMessage) {
  const frame = textFrame(m)
  // Only a message with attachments pays for the copy.
  return m.attachments ? { ...frame, attachments: m.attachments.map(attachmentView) } : frame
}

function textFrame(m: StoredMessage) {
  const timestamp = isoTime(m.createdAt)
  const { id, senderId: sender_id, body: message, messageType: message_type, clientId: client_id } = m
  return m.groupId !== null
    ? { type: 'message' as const, seq: id, id, sender_id, group_id: m.groupId, message, message_type, status: 'delivered' as const, client_id, timestamp }
    : { type: 'message' as const, seq: id, id, sender_id, recipient_id: m.recipientId!, message, message_type, status: 'delivered' as const, client_id, timestamp }
}
