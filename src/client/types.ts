// Wire shapes come from the server's TypeBox schemas (type-only imports: nothing of the server is
// bundled into the browser). The client adds only what is its own: targets, events and options.
import type { ClientFrame, Format, ServerFrame } from '../realtime/protocol'
import type { AttachmentView } from '../attachments/model'

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

/** What `send` resolves with once the server has stored the message. */
export interface SendResult {
  message_id: number
  client_id: string
  status: MessageSent['status']
  timestamp: string
  /** The server already had this client_id (a resend after a drop): stored once. */
  duplicate: boolean
}
