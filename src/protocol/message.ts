import { t, type Static } from 'elysia'
import { Type } from '@sinclair/typebox'
import { AttachmentId, AttachmentView } from './attachment'

/**
 * Fields shared by a message sent over REST and over the WebSocket. Integers are TypeBox's strict
 * `Type.Integer`: Elysia's `t.Integer` also accepts numeric strings, which suits only the URL. In
 * response schemas too: `t.Integer` is a transform, and Elysia encodes a response whose schema
 * holds one value by value (a noticeable share of a history page's CPU: docs/BENCHMARKS.md).
 */
/** Most users one message may mention. */
export const MAX_MENTIONS = 50

export const messageFields = {
  recipient_id: t.Optional(Type.Integer({ minimum: 1, description: 'The recipient of a direct message' })),
  group_id: t.Optional(Type.Integer({ minimum: 1, description: 'The group of a group message' })),
  // The configured length limit is checked by the service, so that it gets its own error code.
  message: t.String({ description: 'The text; 1 to MAX_MESSAGE_LENGTH (4000) characters, counted as Unicode code points' }),
  message_type: t.Optional(
    t.String({
      pattern: '^[a-z][a-z0-9_.-]{0,31}$',
      error: "a lowercase letter, then up to 31 lowercase letters, digits, '_', '.' or '-'",
      default: 'text',
      description: "e.g. 'text', 'image'",
    }),
  ),
  client_id: t.Optional(t.String({ minLength: 1, maxLength: 64, description: 'Makes a retry idempotent: one (sender, client_id) is stored once' })),
  reply_to_id: t.Optional(Type.Integer({ minimum: 1, description: 'A message of the same conversation this one replies to' })),
  mention_ids: t.Optional(t.Array(Type.Integer({ minimum: 1 }), { maxItems: MAX_MENTIONS, description: `Members of the conversation mentioned (at most ${MAX_MENTIONS})` })),
  attachment_ids: t.Optional(
    t.Array(AttachmentId, {
      maxItems: 10,
      description: "The sender's own uploads (POST /attachments) to carry, at most 10; message_type is then 'image' (images only) or 'file', and `message` may be empty",
    }),
  ),
}

export const MessageStatus = t.Union([t.Literal('sent'), t.Literal('delivered'), t.Literal('read')])

/** The message every example of the API shows. */
export const exampleMessage = {
  id: 42,
  sender_id: 1,
  recipient_id: 2,
  message: 'Hello Bob!',
  message_type: 'text',
  status: 'delivered',
  client_id: 'c-1f3a',
  timestamp: '2026-12-01T09:31:05.120Z',
}

/** One emoji's reactions to a message, as its viewer sees them. */
export const ReactionSummary = t.Object({
  emoji: t.String(),
  count: Type.Integer({ minimum: 1 }),
  me: t.Boolean({ description: 'Whether the viewer reacted with it' }),
})
export type ReactionSummary = Static<typeof ReactionSummary>

/** A stored message as REST returns it and as the `message` frame carries it (with `type`). */
export const MessageView = t.Object({
  id: Type.Integer(),
  sender_id: Type.Integer(),
  recipient_id: t.Optional(Type.Integer()),
  group_id: t.Optional(Type.Integer()),
  message: t.String(),
  message_type: t.String(),
  status: MessageStatus,
  client_id: t.Union([t.String(), t.Null()]),
  timestamp: t.String({ format: 'date-time' }),
  read_count: t.Optional(Type.Integer({ description: 'Group messages: members other than the sender who have read it' })),
  edited_at: t.Optional(t.String({ format: 'date-time', description: 'Set once edited: `message` is the edited text' })),
  deleted: t.Optional(t.Literal(true, { description: 'A deleted message: a tombstone, its `message` is empty' })),
  reply_to_id: t.Optional(Type.Integer({ description: 'The message this one replies to' })),
  reply_count: t.Optional(Type.Integer({ description: 'Replies to this message (absent when none)' })),
  mention_ids: t.Optional(t.Array(Type.Integer(), { description: 'Members mentioned' })),
  reactions: t.Optional(t.Array(ReactionSummary, { description: 'History: per emoji, in the order first used (absent when none)' })),
  read_by: t.Optional(t.Array(Type.Integer(), { description: "The viewer's own messages in groups of at most 100 members: who has read it, by user id" })),
  attachments: t.Optional(t.Array(AttachmentView, { description: "Messages of type 'image' or 'file': the files they carry, in order" })),
}, { examples: [exampleMessage] })
export type MessageView = Static<typeof MessageView>
