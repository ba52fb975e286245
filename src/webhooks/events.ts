/** The webhook event types, how a stream event maps to one, and what a receiver is sent. */
import { directConv, groupConv } from '../protocol/conversations'

/** A stream event as the store appends it (the store's `EventDraft` is one). */
type EventDraft = { userId: number | null; groupId: number | null; frame: { type: string } & Record<string, unknown> }

export const WEBHOOK_EVENT_TYPES = [
  'message.created',
  'message.edited',
  'message.deleted',
  'reaction.added',
  'reaction.removed',
  'message.read',
  'user.online',
  'user.offline',
  'member.added',
  'member.removed',
] as const
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number]

/** A subscription: one type, a family (`reaction.*`, `message.*`, `user.*`, `member.*`) or `*`. */
export function isEventPattern(pattern: string): boolean {
  if (pattern === '*') return true
  if (pattern.endsWith('.*')) return WEBHOOK_EVENT_TYPES.some((t) => t.startsWith(pattern.slice(0, -1)))
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(pattern)
}

/** True when one of `patterns` covers `type`. */
export function subscribes(patterns: readonly string[], type: string): boolean {
  for (const p of patterns) if (p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1)))) return true
  return false
}

/** The event types at least one of these subscriptions covers. */
export function typesCovered(subscriptions: readonly (readonly string[])[]): Set<string> {
  return new Set(WEBHOOK_EVENT_TYPES.filter((t) => subscriptions.some((patterns) => subscribes(patterns, t))))
}

/** What the outbox stores for one event: the frame stays the stream's JSON, `conv` orders it. */
export interface OutboxEntry {
  type: WebhookEventType
  /** The conversation (or `u:<id>` for presence) whose events an endpoint receives in order. */
  conv: string | null
}

/**
 * The webhook event a stream event is, or null: `delivered` statuses are not webhook events, and of
 * the copies one change appends (a receipt and a status; a removal's group and user copies) one counts.
 */
export function outboxEntryOf(e: EventDraft): OutboxEntry | null {
  const f = e.frame as Record<string, unknown> & { type: string }
  const conv = typeof f.group_id === 'number' ? groupConv(f.group_id) : null
  switch (f.type) {
    case 'message_edited':
    case 'message_deleted':
    case 'reaction_added':
    case 'reaction_removed': {
      const type = f.type === 'message_edited' ? 'message.edited' : f.type === 'message_deleted' ? 'message.deleted' : f.type === 'reaction_added' ? 'reaction.added' : 'reaction.removed'
      // Every member's copy is one event: the one for the sender (or the group's) counts.
      if (e.groupId === null && e.userId !== f.sender_id) return null
      return { type, conv: conv ?? directConv(f.sender_id as number, f.recipient_id as number) }
    }
    case 'read_receipt':
      return { type: 'message.read', conv: conv ?? directConv(f.sender_id as number, f.reader_id as number) }
    case 'membership':
      if (e.groupId === null) return null
      return { type: f.member ? 'member.added' : 'member.removed', conv }
    default:
      return null
  }
}

/** The presence entry of a user coming online or going offline (not in the stream: enqueued best-effort). */
export function presenceEntry(userId: number, online: boolean): OutboxEntry {
  return { type: online ? 'user.online' : 'user.offline', conv: `u:${userId}` }
}

/** The body a receiver gets: `{type, timestamp, data: {...the event frame's fields, seq}}`. */
export function webhookBody(type: string, frame: Record<string, unknown>, seq: number | null, createdAt: number): string {
  const timestamp = typeof frame.timestamp === 'string' ? frame.timestamp : new Date(createdAt).toISOString()
  const { type: _frameType, ...fields } = frame
  return JSON.stringify({ type, timestamp, data: seq === null ? fields : { ...fields, seq } })
}
