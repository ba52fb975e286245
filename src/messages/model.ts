import { t, type Static } from 'elysia'
import { Type } from '@sinclair/typebox'
import { urlInteger } from '../http/validation'
import { exampleMessage, MessageStatus, MessageView, messageFields, ReactionSummary } from '../protocol/message'

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
  mention_count: Type.Integer({ description: 'Unread messages that mention the user' }),
})
export const ConversationList = t.Object(
  { user_id: Type.Integer(), conversations: t.Array(Conversation) },
  {
    examples: [
      {
        user_id: 2,
        conversations: [
          { kind: 'direct', other_user_id: 1, last_message: exampleMessage, unread_count: 1, mention_count: 0 },
          { kind: 'group', group_id: 1, last_message: null, unread_count: 0, mention_count: 0 },
        ],
      },
    ],
  },
)

/** PATCH /messages/{id} */
export const EditMessageBody = t.Object({ message: messageFields.message }, { additionalProperties: false, examples: [{ message: 'Hello Bob! (edited)' }] })

/** The acting user of a lifecycle route: under AUTH=jwt the token's. */
export const ActorQuery = t.Object({ user_id: t.Optional(urlInteger({ minimum: 1, description: "The acting user (AUTH=none); under AUTH=jwt the token's" })) })

/** GET /messages/{id}/replies */
export const RepliesQuery = t.Object({
  user_id: t.Optional(urlInteger({ minimum: 1, description: "The reading user (AUTH=none); under AUTH=jwt the token's" })),
  before: t.Optional(urlInteger({ minimum: 1, description: 'Only replies with a smaller id (older page)' })),
  after: t.Optional(urlInteger({ minimum: 0, description: 'Only replies with a larger id (newer page)' })),
  limit: urlInteger({ minimum: 1, maximum: 200, default: 50, description: 'Replies in the page' }),
})

/** PUT and DELETE /messages/{id}/reactions/{emoji} */
export const ReactionsResult = t.Object({
  message_id: Type.Integer(),
  reactions: t.Array(ReactionSummary),
}, { examples: [{ message_id: 42, reactions: [{ emoji: '👍', count: 2, me: true }] }] })

/** GET /messages/search */
export const SearchQuery = t.Object({
  q: t.String({
    description:
      'Words to find, all of them (any language; case and, on SQLite, accents ignored); "a phrase" in quotes; a * after a word for a prefix (mess*). At most 200 characters.',
  }),
  user_id: urlInteger({ minimum: 1, description: "The user searching: only their direct conversations and the groups they are in now; under AUTH=jwt, the token's" }),
  other_user_id: t.Optional(urlInteger({ minimum: 1, description: 'Only the direct conversation with this user' })),
  group_id: t.Optional(urlInteger({ minimum: 1, description: 'Only this group' })),
  before: t.Optional(urlInteger({ minimum: 1, description: 'Only messages with a smaller id (the next page: next_cursor.before)' })),
  limit: urlInteger({ minimum: 1, maximum: 100, default: 50, description: 'Results in the page' }),
})

export const SearchResult = t.Object({
  message: MessageView,
  snippet: t.String({
    description:
      'The text as HTML: HTML-escaped, each word the query matched wrapped in <mark>…</mark>; a message longer than 160 characters cut around its first match, with … where text was left out',
  }),
})

export const SearchPage = t.Object({
  results: t.Array(SearchResult, { description: 'Newest first' }),
  has_more: t.Boolean({ description: 'Older matches exist' }),
  next_cursor: t.Union([t.Object({ before: Type.Integer() }), t.Null()], { description: 'Query parameters for the next (older) page' }),
}, { examples: [{ results: [{ message: exampleMessage, snippet: '<mark>Hello</mark> Bob!' }], has_more: false, next_cursor: null }] })
