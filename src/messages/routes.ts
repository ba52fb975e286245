import { Elysia, t } from 'elysia'
import { described, errorResponse, type ErrorExample } from '../http/responses'
import { urlInteger } from '../http/validation'
import { MessageView } from '../protocol/message'
import { toView } from '../protocol/views'
import { AppError } from '../http/errors'
import type { MessageLifecycle } from './lifecycle'
import { ActorQuery, ConversationList, EditMessageBody, HistoryPage, HistoryQuery, MarkReadQuery, MarkReadResult, ReactionsResult, RepliesQuery, SendMessageBody } from './model'
import type { MessagingService } from './service'

const otherUser: ErrorExample = ['forbidden', 'user_id is 2, but the token is for user 1']
const unknownUser: ErrorExample = ['unknown_user', 'user 99 does not exist']
const notMember: ErrorExample = ['not_a_member', 'user 4 is not a member of group 1']

const MessageParams = t.Object({ id: urlInteger({ minimum: 1 }) })
const ReactionParams = t.Object({ id: urlInteger({ minimum: 1 }), emoji: t.String({ minLength: 1, maxLength: 64, description: 'One emoji, URL-encoded' }) })
const notFoundMessage: ErrorExample = ['message_not_found', 'message 7 does not exist or was not sent to you']
const deletedMessage: ErrorExample = ['message_deleted', 'message 7 was deleted']

/** The acting user of a lifecycle route: `?user_id=` (AUTH=none); under AUTH=jwt the policy sets it to the token's. */
function actorOf(query: { user_id?: number }): number {
  if (query.user_id === undefined) throw new AppError(400, 'user_id_required', 'give user_id: the acting user')
  return query.user_id
}

/** REST: the seed's message endpoints, and the lifecycle of a message (edit, delete, reactions, replies). */
export function messageRoutes(messaging: MessagingService, lifecycle: MessageLifecycle) {
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
        response: {
          200: described(MessageView, 'The message stored before with this client_id: a retry, stored once'),
          201: described(MessageView, 'The stored message, delivered live to its recipients'),
          400: errorResponse(
            'Both or neither of recipient_id and group_id, a message that shows nothing, or attachments that do not fit message_type',
            ['invalid_request', 'give exactly one of recipient_id or group_id'],
            ['empty_message', 'message is empty or has only invisible characters'],
            ['attachments_required', 'a message of type image carries attachment_ids (upload with POST /attachments)'],
            ['not_an_image', 'attachment q3Rz1mJ0TfWc5bK8xY2aLw is application/pdf: send it with message_type "file"'],
          ),
          403: errorResponse(
            'AUTH=jwt: sender_id is not the token\'s user; the sender is not in the group; or an attachment is not an upload of the sender\'s',
            ['forbidden', 'sender_id is 2, but the token is for user 1'],
            notMember,
            ['attachment_not_allowed', 'attachment q3Rz1mJ0TfWc5bK8xY2aLw does not exist or was not uploaded by user 2'],
          ),
          404: errorResponse('No such sender, recipient or group', ['unknown_sender', 'user 99 does not exist'], ['unknown_recipient', 'user 99 does not exist'], ['unknown_group', 'group 42 does not exist']),
          410: errorResponse('An attachment was never sent and is (about to be) swept: ATTACHMENT_UNSENT_TTL_SECONDS', ['attachment_expired', 'attachment q3Rz1mJ0TfWc5bK8xY2aLw was not sent within ATTACHMENT_UNSENT_TTL_SECONDS of its upload; upload it again']),
          413: errorResponse('The message is longer than MAX_MESSAGE_LENGTH characters (Unicode code points)', ['message_too_long', 'message is longer than 4000 characters (Unicode code points)']),
          503: errorResponse('Storage or Redis is unavailable: nothing was stored; retry with the same client_id', ['unavailable', 'the message could not be stored; retry with the same client_id']),
        },
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
        response: {
          200: described(HistoryPage, 'A page of the conversation in id order, and the cursor of the next'),
          400: errorResponse('Both or neither of other_user_id and group_id', ['invalid_query', 'give exactly one of other_user_id or group_id']),
          403: errorResponse('AUTH=jwt: user_id is not the token\'s user; or the user is not in the group', otherUser, notMember),
          404: errorResponse('No such user or group', unknownUser, ['unknown_group', 'group 42 does not exist']),
        },
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
        response: {
          200: described(MarkReadResult, 'Marked read (changed: false when it already was)'),
          400: errorResponse('A group message needs user_id, the reader (AUTH=none)', ['user_id_required', 'give user_id: the reader of a group message']),
          403: errorResponse('AUTH=jwt: user_id is not the token\'s user; or the reader sent this direct message', otherUser, ['not_recipient', 'message 7 is yours: only its recipient marks it read']),
          404: errorResponse('No such message, or not one the reader may see (the same answer for both)', ['message_not_found', 'message 7 does not exist or was not sent to you']),
        },
        detail: { summary: 'Mark a message read', description: 'The sender is told live (read_receipt and message_status).', tags: ['messages'] },
      },
    )
    .patch('/messages/:id', async ({ params, query, body }) => toView(await lifecycle.edit(actorOf(query), params.id, body.message)), {
      params: MessageParams,
      query: ActorQuery,
      body: EditMessageBody,
      response: {
        200: described(MessageView, 'The message with its new text (the same when the text was already this: a retry changes nothing)'),
        400: errorResponse('A text that shows nothing, or no user_id (AUTH=none)', ['empty_message', 'message is empty or has only invisible characters'], ['user_id_required', 'give user_id: the acting user']),
        403: errorResponse("Not the sender; or AUTH=jwt: user_id is not the token's user", ['not_sender', 'only the sender of message 7 may edit it'], otherUser),
        404: errorResponse('No such message, or not one the user may see', notFoundMessage),
        409: errorResponse('The message was deleted', deletedMessage),
        413: errorResponse('Longer than MAX_MESSAGE_LENGTH characters', ['message_too_long', 'message is longer than 4000 characters (Unicode code points)']),
      },
      detail: { summary: 'Edit a message', description: 'Only its sender. It keeps its id and place; every member is sent `message_edited`.', tags: ['messages'] },
    })
    .delete('/messages/:id', async ({ params, query }) => toView(await lifecycle.delete(actorOf(query), params.id)), {
      params: MessageParams,
      query: ActorQuery,
      response: {
        200: described(MessageView, 'The tombstone: `deleted: true`, no text (the same for a message deleted before)'),
        400: errorResponse('No user_id (AUTH=none)', ['user_id_required', 'give user_id: the acting user']),
        403: errorResponse("Neither the sender nor, in a group, its creator; or AUTH=jwt: user_id is not the token's user", ['forbidden', "only the sender of message 7 or the group's creator may delete it"]),
        404: errorResponse('No such message, or not one the user may see', notFoundMessage),
      },
      detail: { summary: 'Delete a message', description: 'Its text is erased from storage within a minute; the id stays as a tombstone. Every member is sent `message_deleted`.', tags: ['messages'] },
    })
    .put('/messages/:id/reactions/:emoji', async ({ params, query }) => {
      await lifecycle.react(actorOf(query), params.id, params.emoji, true)
      return lifecycle.reactionsAsSeenBy(actorOf(query), params.id)
    }, {
      params: ReactionParams,
      query: ActorQuery,
      response: {
        200: described(ReactionsResult, "The message's reactions as the user sees them (adding one the user has changes nothing)"),
        400: errorResponse('Not one emoji, or no user_id (AUTH=none)', ['invalid_emoji', 'a reaction is one emoji']),
        403: errorResponse("AUTH=jwt: user_id is not the token's user", otherUser),
        404: errorResponse('No such message, or not one the user may see', notFoundMessage),
        409: errorResponse('The message was deleted, or the user has too many reactions on it', deletedMessage, ['too_many_reactions', 'at most 20 different reactions a user on one message']),
      },
      detail: { summary: 'React to a message', description: 'Any member of the conversation; one of each emoji per user. Every member is sent `reaction_added`.', tags: ['messages'] },
    })
    .delete('/messages/:id/reactions/:emoji', async ({ params, query }) => {
      await lifecycle.react(actorOf(query), params.id, params.emoji, false)
      return lifecycle.reactionsAsSeenBy(actorOf(query), params.id)
    }, {
      params: ReactionParams,
      query: ActorQuery,
      response: {
        200: described(ReactionsResult, "The message's reactions as the user sees them (removing one the user has not changes nothing)"),
        400: errorResponse('Not one emoji, or no user_id (AUTH=none)', ['invalid_emoji', 'a reaction is one emoji']),
        403: errorResponse("AUTH=jwt: user_id is not the token's user", otherUser),
        404: errorResponse('No such message, or not one the user may see', notFoundMessage),
        409: errorResponse('The message was deleted', deletedMessage),
      },
      detail: { summary: 'Remove a reaction', description: 'Every member is sent `reaction_removed`.', tags: ['messages'] },
    })
    .get(
      '/messages/:id/replies',
      async ({ params, query }) => lifecycle.replies(actorOf(query), params.id, { before: query.before, after: query.after, limit: query.limit }),
      {
        params: MessageParams,
        query: RepliesQuery,
        response: {
          200: described(HistoryPage, 'A page of the thread in id order, and the cursor of the next'),
          400: errorResponse('No user_id (AUTH=none)', ['user_id_required', 'give user_id: the acting user']),
          403: errorResponse("AUTH=jwt: user_id is not the token's user", otherUser),
          404: errorResponse('No such message, or not one the user may see', notFoundMessage),
        },
        detail: { summary: 'The replies to a message', description: 'With the same cursors as history: newest page first, `before` pages back, `after` forward.', tags: ['messages'] },
      },
    )
    .get('/messages/conversations/:user_id', ({ params }) => messaging.conversations(params.user_id), {
      params: t.Object({ user_id: urlInteger({ minimum: 1 }) }),
      response: {
        200: described(ConversationList, 'Direct and group conversations, newest activity first'),
        403: errorResponse('AUTH=jwt: the path user is not the token\'s user', ['forbidden', 'the path user is 2, but the token is for user 1']),
        404: errorResponse('No such user', unknownUser),
      },
      detail: { summary: "A user's conversations", description: 'Direct and group, newest activity first, with the last message and unread count.', tags: ['messages'] },
    })
}
