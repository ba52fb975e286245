import { t, type Static } from 'elysia'
import { Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { MessageStatus, MessageView, messageFields } from './message'

// Client → server frames. Strict: a misspelt field is an error, not a silent no-op. `timestamp` is
// accepted (and ignored) because the seed's examples send it.
const common = {
  timestamp: t.Optional(t.Union([t.String({ maxLength: 64 }), t.Number()])),
  ref: t.Optional(t.String({ maxLength: 64, description: 'Echoed in an error caused by this frame' })),
}
const strict = { additionalProperties: false } as const

export const SendFrame = t.Object({ type: t.Literal('message'), ...messageFields, ...common }, strict)
export const TypingFrame = t.Object(
  {
    type: t.Literal('typing'),
    recipient_id: messageFields.recipient_id,
    group_id: messageFields.group_id,
    is_typing: t.Boolean(),
    ...common,
  },
  strict,
)
export const ReadReceiptFrame = t.Object(
  { type: t.Literal('read_receipt'), message_id: Type.Integer({ minimum: 1 }), sender_id: t.Optional(Type.Integer({ minimum: 1 })), ...common },
  strict,
)
export const PingFrame = t.Object({ type: t.Literal('ping'), ...common }, strict)
const MessageId = Type.Integer({ minimum: 1 })
/** One emoji grapheme: checked beyond the length by the service (src/messages/emoji.ts). */
const Emoji = t.String({ minLength: 1, maxLength: 32, description: 'One emoji' })
export const EditMessageFrame = t.Object({ type: t.Literal('edit_message'), message_id: MessageId, message: messageFields.message, ...common }, strict)
export const DeleteMessageFrame = t.Object({ type: t.Literal('delete_message'), message_id: MessageId, ...common }, strict)
export const AddReactionFrame = t.Object({ type: t.Literal('add_reaction'), message_id: MessageId, emoji: Emoji, ...common }, strict)
export const RemoveReactionFrame = t.Object({ type: t.Literal('remove_reaction'), message_id: MessageId, emoji: Emoji, ...common }, strict)

export type SendFrame = Static<typeof SendFrame>
export type TypingFrame = Static<typeof TypingFrame>
export type ReadReceiptFrame = Static<typeof ReadReceiptFrame>
export type PingFrame = Static<typeof PingFrame>
export type EditMessageFrame = Static<typeof EditMessageFrame>
export type DeleteMessageFrame = Static<typeof DeleteMessageFrame>
export type AddReactionFrame = Static<typeof AddReactionFrame>
export type RemoveReactionFrame = Static<typeof RemoveReactionFrame>
export type ClientFrame =
  | SendFrame
  | TypingFrame
  | ReadReceiptFrame
  | PingFrame
  | EditMessageFrame
  | DeleteMessageFrame
  | AddReactionFrame
  | RemoveReactionFrame

/** Compiled once: checking a frame is on the hot path. */
export const clientFrameCheckers = {
  message: TypeCompiler.Compile(SendFrame),
  typing: TypeCompiler.Compile(TypingFrame),
  read_receipt: TypeCompiler.Compile(ReadReceiptFrame),
  ping: TypeCompiler.Compile(PingFrame),
  edit_message: TypeCompiler.Compile(EditMessageFrame),
  delete_message: TypeCompiler.Compile(DeleteMessageFrame),
  add_reaction: TypeCompiler.Compile(AddReactionFrame),
  remove_reaction: TypeCompiler.Compile(RemoveReactionFrame),
} as const

// Server → client frames. Documented here; built by code that produces exactly these shapes. The
// events of the stream (message, message_status, read_receipt, membership) carry `seq`.
const Timestamp = t.String({ format: 'date-time' })
export const Format = t.Union([t.Literal('json'), t.Literal('msgpack')])
export type Format = Static<typeof Format>

export const ConnectionEstablishedFrame = t.Object({
  type: t.Literal('connection_established'),
  user_id: t.Integer(),
  timestamp: Timestamp,
  format: Format,
  groups: t.Array(t.Integer()),
  max_message_length: t.Integer(),
})
/** An event's place in the stream: one sequence, which message ids are part of; `?since=` takes it. */
const Seq = t.Integer({ minimum: 1, description: 'The event\'s place in the stream (a message\'s seq is its id)' })
export const MessageFrame = t.Composite([t.Object({ type: t.Literal('message'), seq: Seq }), MessageView])
export const MessageSentFrame = t.Object({
  type: t.Literal('message_sent'),
  message_id: t.Integer(),
  client_id: t.Union([t.String(), t.Null()]),
  status: MessageStatus,
  timestamp: Timestamp,
  duplicate: t.Boolean(),
})
export const MessageStatusFrame = t.Object({
  type: t.Literal('message_status'),
  seq: Seq,
  message_id: t.Integer(),
  status: MessageStatus,
  user_id: t.Integer(),
  timestamp: Timestamp,
})
export const TypingEventFrame = t.Object({
  type: t.Literal('typing'),
  sender_id: t.Integer(),
  recipient_id: t.Optional(t.Integer()),
  group_id: t.Optional(t.Integer()),
  is_typing: t.Boolean(),
  timestamp: Timestamp,
})
export const ReadReceiptEventFrame = t.Object({
  type: t.Literal('read_receipt'),
  seq: Seq,
  message_id: t.Integer(),
  sender_id: t.Integer(),
  reader_id: t.Integer(),
  group_id: t.Optional(t.Integer()),
  timestamp: Timestamp,
})
/** Which conversation a lifecycle event is in: the message's sender and its recipient or group. */
const InConversation = {
  sender_id: t.Integer(),
  recipient_id: t.Optional(t.Integer()),
  group_id: t.Optional(t.Integer()),
}
/** A message's text changed; it keeps its id and its place. */
export const MessageEditedFrame = t.Object({
  type: t.Literal('message_edited'),
  seq: Seq,
  message_id: t.Integer(),
  ...InConversation,
  message: t.String(),
  edited_at: Timestamp,
})
/** A message was deleted: its text is gone; the id stays, as a tombstone. */
export const MessageDeletedFrame = t.Object({
  type: t.Literal('message_deleted'),
  seq: Seq,
  message_id: t.Integer(),
  ...InConversation,
  deleted_at: Timestamp,
})
const reactionFields = { seq: Seq, message_id: t.Integer(), ...InConversation, user_id: t.Integer({ description: 'Who reacted' }), emoji: t.String(), timestamp: Timestamp }
export const ReactionAddedFrame = t.Object({ type: t.Literal('reaction_added'), ...reactionFields })
export const ReactionRemovedFrame = t.Object({ type: t.Literal('reaction_removed'), ...reactionFields })
/** A user joined (`member: true`) or left a group; sent to that user and to the group's members. */
export const MembershipFrame = t.Object({
  type: t.Literal('membership'),
  seq: Seq,
  group_id: t.Integer(),
  user_id: t.Integer(),
  member: t.Boolean(),
  timestamp: Timestamp,
})
/**
 * `since` is older than the events kept (EVENT_RETENTION_DAYS): statuses and receipts between it and
 * `oldest_seq` are gone. Sent before the catch-up, which goes on as usual (messages are kept); the
 * client refetches what it shows over REST.
 */
export const ResyncRequiredFrame = t.Object({
  type: t.Literal('resync_required'),
  code: t.Literal('events_pruned'),
  since: t.Integer(),
  oldest_seq: t.Integer({ description: 'Events after this seq are all kept' }),
})
export const PresenceFrame = t.Object({ type: t.Literal('presence'), user_id: t.Integer(), online: t.Boolean(), timestamp: Timestamp })
export const SyncedFrame = t.Object({ type: t.Literal('synced'), last_id: t.Integer(), count: t.Integer() })
/** A long backlog is sent in pages: each page's end is a resume point, and more of the backlog follows. */
export const BacklogPageFrame = t.Object({ type: t.Literal('backlog_page'), last_id: t.Integer(), count: t.Integer() })
export const PongFrame = t.Object({ type: t.Literal('pong'), timestamp: Timestamp })
export const ErrorFrame = t.Object({
  type: t.Literal('error'),
  code: t.String(),
  message: t.String(),
  ref: t.Union([t.String(), t.Null()]),
  retry_after: t.Optional(t.Number({ description: 'rate_limited: seconds to wait before retrying' })),
})

export type ServerFrame =
  | Static<typeof ConnectionEstablishedFrame>
  | Static<typeof MessageFrame>
  | Static<typeof MessageSentFrame>
  | Static<typeof MessageStatusFrame>
  | Static<typeof TypingEventFrame>
  | Static<typeof ReadReceiptEventFrame>
  | Static<typeof PresenceFrame>
  | Static<typeof MembershipFrame>
  | Static<typeof MessageEditedFrame>
  | Static<typeof MessageDeletedFrame>
  | Static<typeof ReactionAddedFrame>
  | Static<typeof ReactionRemovedFrame>
  | Static<typeof ResyncRequiredFrame>
  | Static<typeof SyncedFrame>
  | Static<typeof BacklogPageFrame>
  | Static<typeof PongFrame>
  | Static<typeof ErrorFrame>

/** The frames of the stream: stored, sequenced, replayed after `since`. */
export type EventFrame = Extract<ServerFrame, { seq: number }>
/** An event frame as the store keeps it: without its seq. */
export type EventBody = EventFrame extends infer F ? (F extends { seq: number } ? Omit<F, 'seq'> : never) : never
