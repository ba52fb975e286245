import { Elysia, t } from 'elysia'
import { ErrorBody } from '../http/errors'
import { urlInteger } from '../http/validation'
import { ConversationList, HistoryPage, HistoryQuery, MarkReadQuery, MarkReadResult, MessageView, SendMessageBody } from './model'
import type { MessagingService } from './service'
import { toView } from './views'

/** REST: the seed's message endpoints. */
export function messageRoutes(messaging: MessagingService) {
  return new Elysia({ name: 'messages' })
    .post(
      '/messages',
      async ({ body, status }) => {
        const { message, duplicate } = await messaging.send(body.sender_id, body)
        // A retry with a known client_id returns the original with 200 rather than 201.
        return status(duplicate ? 200 : 201, toView(message))
      },
      {
        body: SendMessageBody,
        response: { 200: MessageView, 201: MessageView, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody, 413: ErrorBody, 422: ErrorBody, 503: ErrorBody },
        detail: {
          summary: 'Send a message',
          description: 'Stores the message and delivers it live exactly as a WebSocket-sent one. A repeated client_id returns the original (200).',
          tags: ['messages'],
        },
      },
    )
    .get(
      '/messages',
      ({ query }) =>
        messaging.history(query.user_id, { other_user_id: query.other_user_id, group_id: query.group_id }, {
          before: query.before,
          after: query.after,
          limit: query.limit,
        }),
      {
        query: HistoryQuery,
        response: { 200: HistoryPage, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody, 422: ErrorBody },
        detail: {
          summary: 'A page of a conversation',
          description: 'Direct (other_user_id) or group (group_id) messages in id order. Without a cursor, the newest page; `before` pages back, `after` forward.',
          tags: ['messages'],
        },
      },
    )
    .put(
      '/messages/:id/read',
      async ({ params, query }) => {
        const readerId = query.user_id ?? (await messaging.recipientOf(params.id))
        return messaging.markRead(readerId, params.id)
      },
      {
        params: t.Object({ id: urlInteger({ minimum: 1 }) }),
        query: MarkReadQuery,
        response: { 200: MarkReadResult, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody, 422: ErrorBody },
        detail: { summary: 'Mark a message read', description: 'The sender is told live (read_receipt and message_status).', tags: ['messages'] },
      },
    )
    .get('/messages/conversations/:user_id', ({ params }) => messaging.conversations(params.user_id), {
      params: t.Object({ user_id: urlInteger({ minimum: 1 }) }),
      response: { 200: ConversationList, 404: ErrorBody, 422: ErrorBody },
      detail: { summary: "A user's conversations", description: 'Direct and group, newest activity first, with the last message and unread count.', tags: ['messages'] },
    })
}
