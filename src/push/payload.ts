import type { StoredMessage } from '../db/store'
import type { Urgency } from './store'

/** What the service worker receives (decrypted): it shows `title` and `body`, and opens `url` on a click. */
export interface PushPayload {
  title: string
  body: string
  message_id: number
  sender: { id: number; name: string }
  conversation: { kind: 'direct'; user_id: number } | { kind: 'group'; group_id: number; name: string }
  /** The message's first characters; absent under PUSH_PREVIEW=0. */
  preview?: string
  /** Messages of this conversation the push stands for (a burst collapses into one). */
  count: number
  mention: boolean
  url: string
}

/** Code points of a preview: a push payload is capped at about 4 kB by the push services. */
export const PREVIEW_LENGTH = 140
const NAME_LENGTH = 64

const clip = (text: string, max: number) => {
  const points = [...text]
  return points.length <= max ? text : `${points.slice(0, max - 1).join('')}…`
}

/** The newest unconfirmed message of one conversation for one user, and how many it stands for. */
export interface Pending {
  message: StoredMessage
  count: number
  mention: boolean
}

/** Builds a push from what it announces; `preview` false leaves the message's text out entirely. */
export function buildPayload(p: Pending, senderName: string, groupName: string | null, preview: boolean): PushPayload {
  const m = p.message
  const sender = clip(senderName, NAME_LENGTH)
  const group = groupName === null ? null : clip(groupName, NAME_LENGTH)
  const title = group === null ? sender : p.mention ? `${sender} mentioned you in ${group}` : `${sender} in ${group}`
  const text = preview ? clip(m.body, PREVIEW_LENGTH) : undefined
  const more = p.count > 1 ? `${p.count} new messages` : 'New message'
  return {
    title,
    body: text === undefined ? more : p.count > 1 ? `${text} (+${p.count - 1} more)` : text,
    message_id: m.id,
    sender: { id: m.senderId, name: sender },
    conversation: m.groupId === null ? { kind: 'direct', user_id: m.senderId } : { kind: 'group', group_id: m.groupId, name: group! },
    ...(text === undefined ? {} : { preview: text }),
    count: p.count,
    mention: p.mention,
    url: '/',
  }
}

/** High for what is addressed to the user (a direct message, a mention), normal for group chatter (RFC 8030 §5.3). */
export function urgencyOf(p: Pending): Urgency {
  return p.message.groupId === null || p.mention ? 'high' : 'normal'
}

/**
 * The Topic of a conversation's pushes: a push service keeps only the newest undelivered push of a
 * topic (RFC 8030 §5.4), so a burst reaches an offline phone as one notification. At most 32
 * characters of the URL-safe base64 alphabet: `d_1_2`, `g_7`.
 */
export function topicOf(conv: string): string {
  return conv.replace(/:/g, '_')
}

/** Whether the message mentions the user. */
export function mentions(m: StoredMessage, userId: number): boolean {
  if (m.mentionIds === null) return false
  return (JSON.parse(m.mentionIds) as number[]).includes(userId)
}
