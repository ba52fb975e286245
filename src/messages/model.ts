import { t, type Static } from 'elysia'
import { Type } from '@sinclair/typebox'
import { urlInteger } from '../http/validation'
import { AttachmentId, AttachmentView } from '../attachments/model'

/**
 * Fields shared by a message sent over REST and over the WebSocket. Integers are TypeBox's strict
 * `Type.Integer`: Elysia's `t.Integer` also accepts numeric strings, which suits only the URL. In
 * response schemas too: `t.Integer` is a transform, and Elysia encodes a response whose schema
 * holds one value by value (a history page of 50: about a tenth of the request's CPU).
 */
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
  attachment_ids: t.Optional(
    t.Array(AttachmentId, {
      maxItems: 10,
      description: "The sender's own uploads (POST /attachments) to carry, at most 10; message_type is then 'image' (images only) or 'file', and `message` may be empty",
    }),
  ),
}

export const MessageStatus = t.Union([t.Literal('sent'), t.Literal('delivered'), t.Literal('read')])

/** POST /messages/ */
export const SendMessageBody = t.Object(
  { sender_id: Type.Integer({ minimum: 1, description: "The sending user; under AUTH=jwt, the token's" }), ...messageFields },
  {
    additionalProperties: false,
    examples: [
      { sender_id: 1, recipient_id: 2, message: 'Hello Bob!', client_id: 'c-1f3a' },
      { sender_id: 2, group_id: 1, message: 'Hi everyone', client_id: 'c-77e0' },
    ],
  },
)
export type SendMessageBody = Static<typeof SendMessageBody>

const exampleMessage = {
  id: 42,
  sender_id: 1,
  recipient_id: 2,
  message: 'Hello Bob!',
  message_type: 'text',
  status: 'delivered',
  client_id: 'c-1f3a',
  timestamp: '2026-12-01T09:31:05.120Z',
}

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
  read_by: t.Optional(t.Array(Type.Integer(), { description: "The viewer's own messages in groups of at most 100 members: who has read it, by user id" })),
  attachments: t.Optional(t.Array(AttachmentView, { description: "Messages of type 'image' or 'file': the files they carry, in order" })),
}, { examples: [exampleMessage] })
export type MessageView = Static<typeof MessageView>

/** GET /messages/ */
export const HistoryQuery = t.Object({
  user_id: urlInteger({ minimum: 1, description: 'The user reading' }),
  other_user_id: t.Optional(urlInteger({ minimum: 1, description: 'The other side of a direct conversation' })),
  group_id: t.Optional(urlInteger({ minimum: 1, description: 'The group' })),
  before: t.Optional(urlInteger({ minimum: 1, description: 'Only messages with a smaller id (older page)' })),
  after: t.Optional(urlInteger({ minimum: 0, description: 'Only messages with a larger id (newer page)' })),
  limit: urlInteger({ minimum: 1, maximum: 200, default: 50, description: 'Messages in the page' }),
})

export const HistoryPage = t.Object({
  messages: t.Array(MessageView),
  has_more: t.Boolean({ description: 'More messages exist in the direction of paging' }),
  next_cursor: t.Union([t.Object({ before: Type.Integer() }), t.Object({ after: Type.Integer() }), t.Null()], {
    description: 'Query parameters for the next page: older (before) by default, newer (after) when paging with after',
  }),
}, { examples: [{ messages: [exampleMessage], has_more: true, next_cursor: { before: 42 } }] })

/** PUT /messages/{id}/read */
export const MarkReadQuery = t.Object({ user_id: t.Optional(urlInteger({ minimum: 1, description: 'The reader; defaults to the recipient of a direct message' })) })
export const MarkReadResult = t.Object({
  message_id: Type.Integer(),
  status: MessageStatus,
  reader_id: Type.Integer(),
  changed: t.Boolean({ description: 'False when it was already read' }),
}, { examples: [{ message_id: 42, status: 'read', reader_id: 2, changed: true }] })

export const Conversation = t.Object({
  kind: t.Union([t.Literal('direct'), t.Literal('group')]),
  other_user_id: t.Optional(Type.Integer()),
  group_id: t.Optional(Type.Integer()),
  last_message: t.Union([MessageView, t.Null()]),
  unread_count: Type.Integer(),
})
export const ConversationList = t.Object(
  { user_id: Type.Integer(), conversations: t.Array(Conversation) },
  {
    examples: [
      {
        user_id: 2,
        conversations: [
          { kind: 'direct', other_user_id: 1, last_message: exampleMessage, unread_count: 1 },
          { kind: 'group', group_id: 1, last_message: null, unread_count: 0 },
        ],
      },
    ],
  },
)
