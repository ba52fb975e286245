// Wire shapes come from the server's TypeBox schemas (type-only imports: nothing of the server is
// bundled into the browser). The client adds only what is its own: targets, events and options.
import type { ClientFrame, Format, ServerFrame } from '../protocol/frames'
import type { AttachmentView } from '../protocol/attachment'

export type { ClientFrame, Format, ServerFrame }
/** An uploaded file: what `upload` resolves with, and what a message's `attachments` lists. */
export type Attachment = AttachmentView

type FrameOf<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>

/** A user was added to (`member: true`) or removed from a group; sent to that user and to the group. */
export type MembershipChange = FrameOf<'membership'>
/**
 * `since` was older than the server keeps status events: the replay that follows has every message
 * but not every status, receipt or membership change in between. Refetch state over REST.
 */
export type ResyncRequired = FrameOf<'resync_required'>
export type ConnectionEstablished = FrameOf<'connection_established'>
export type IncomingMessage = FrameOf<'message'>
export type MessageSent = FrameOf<'message_sent'>
export type MessageStatusChange = FrameOf<'message_status'>
export type ReadReceipt = FrameOf<'read_receipt'>
export type Presence = FrameOf<'presence'>
export type Synced = FrameOf<'synced'>
export type ServerError = FrameOf<'error'>
/** A message's text changed (it keeps its id and place); sent to every member, the editor's devices too. */
export type MessageEdited = FrameOf<'message_edited'>
/** A message was deleted: show a tombstone ("message deleted"); the id stays. */
export type MessageDeleted = FrameOf<'message_deleted'>
/** `user_id` reacted to a message with `emoji` (one per user and emoji). */
export type ReactionAdded = FrameOf<'reaction_added'>
export type ReactionRemoved = FrameOf<'reaction_removed'>
/** The events of a message's lifecycle after it was sent. */
export type LifecycleEvent = MessageEdited | MessageDeleted | ReactionAdded | ReactionRemoved
/** The client frames that change a message already sent. */
export type ActionFrame = Extract<ClientFrame, { type: 'edit_message' | 'delete_message' | 'add_reaction' | 'remove_reaction' }>
export type TypingEvent = FrameOf<'typing'> & {
  /** True when the client ended an indicator whose sender never sent a stop. */
  expired?: boolean
}

/** Who a message or typing indicator is for: one user or one group. */
export type Target = { recipient_id: number; group_id?: undefined } | { group_id: number; recipient_id?: undefined }

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed'

export interface StateChange {
  state: ConnectionState
  previous: ConnectionState
  /** Reconnect attempts since the last healthy connection (0 when healthy). */
  attempt: number
  /** While `reconnecting`: how long until the next attempt. */
  delayMs?: number
  /** Why the connection went away, when known. */
  reason?: string
}

/** Everything the client emits, by event name. Each durable event (one `seq`) is emitted once. */
export interface ClientEvents {
  message: IncomingMessage
  typing: TypingEvent
  read_receipt: ReadReceipt
  message_status: MessageStatusChange
  /** A user joined or left one of this user's groups (this user included). */
  membership: MembershipChange
  message_edited: MessageEdited
  message_deleted: MessageDeleted
  reaction_added: ReactionAdded
  reaction_removed: ReactionRemoved
  /** Status events between `since` and the server's retention are gone: refetch over REST. */
  resync_required: ResyncRequired
  presence: Presence
  /** The full list of online users, after each change (only with `presence: true`). */
  online: number[]
  error: ServerError
  state: StateChange
  /** The backlog after a (re)connect has been delivered. */
  synced: Synced
  /** connection_established of each new connection. */
  established: ConnectionEstablished
}

/** Options of `send` (and `reply`). */
export interface SendOptions {
  messageType?: string
  /** Reuse a client_id made with `newClientId()` (to show the message before `send` resolves). */
  clientId?: string
  /** The message this one answers, of the same conversation. */
  replyToId?: number
  /** Members of the conversation the message mentions. */
  mentionIds?: number[]
  /** Uploads (`upload()`) the message carries; its text may then be empty. */
  attachmentIds?: string[]
}

/** What `send` resolves with once the server has stored the message. */
export interface SendResult {
  message_id: number
  client_id: string
  status: MessageSent['status']
  timestamp: string
  /** The server already had this client_id (a resend after a drop): stored once. */
  duplicate: boolean
}
