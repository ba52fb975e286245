import { reactionEmoji } from '../messages/emoji'
import { lengthExceeded } from '../messages/length'
import { PendingActions } from './actions'
import { backoffDelay } from './backoff'
import { decodeServerFrame, encodeClientFrame, FramingError } from './codec'
import { Emitter } from './emitter'
import { SeenIds } from './seen-ids'
import { SwitchboardError, timerSettings, type ClientOptions } from './options'
import { OnlineUsers } from './presence'
import { TypingSender, TypingTracker } from './typing'
import type {
  ActionFrame,
  Attachment,
  ClientEvents,
  ClientFrame,
  ConnectionState,
  Format,
  IncomingMessage,
  LifecycleEvent,
  MembershipChange,
  MessageDeleted,
  MessageEdited,
  MessageStatusChange,
  ReactionAdded,
  ReactionRemoved,
  ReadReceipt,
  SendOptions,
  SendResult,
  ServerFrame,
  Target,
} from './types'

interface Pending {
  frame: Extract<ClientFrame, { type: 'message' }>
  /** Sent on the current connection and not refused: waiting for message_sent. */
  inFlight: boolean
  resolve: (result: SendResult) => void
  reject: (error: SwitchboardError) => void
}

type Timer = ReturnType<typeof setTimeout>

/** How long sends pause after `unavailable` (the database failed; nothing was stored). */
const RETRY_UNAVAILABLE_MS = 1000
/**
 * Messages sent and not yet confirmed, at most: a burst beyond the server's budget is refused frame
 * by frame, and a run of refusals (FLOOD_CLOSE_AFTER, 20 by default) closes the connection.
 */
const MAX_IN_FLIGHT = 16

/**
 * A Switchboard connection that survives drops: it reconnects with backoff, resumes the event
 * stream with `since`, hands each message and each sequenced event to the application once, and
 * resends unconfirmed messages with their `client_id` so the server stores them once. Runs in
 * browsers and in Bun (WebSocket + fetch only).
 */
export class SwitchboardClient extends Emitter<ClientEvents> {
  readonly userId: number
  readonly format: Format
  private readonly opts: Required<Pick<ClientOptions, 'url' | 'presence'>> & ClientOptions
  private readonly backoff: { initialDelayMs: number; maxDelayMs: number; healthyAfterMs: number; connectTimeoutMs: number }
  private readonly heartbeat: { intervalMs: number; timeoutMs: number }
  private readonly WS: typeof WebSocket

  private _state: ConnectionState = 'idle'
  private ws: WebSocket | null = null
  private attempt = 0
  private openedAt = 0
  /** This connection has delivered its backlog: ids from now on arrive in order. */
  private synced = false
  private reconnectTimer: Timer | null = null
  private connectTimer: Timer | null = null
  private pingTimer: Timer | null = null
  private deadTimer: Timer | null = null

  /**
   * The resume point: the highest seq (a message's seq is its id) received, or synced/backlog_page
   * last_id when higher; -1 before the first sync. Moved only by `advance`.
   */
  private lastId: number
  /** Message ids handed to the application (or sent by us): a repeat is dropped. */
  private readonly seenMessages = new SeenIds()
  /** Seqs of status, receipt and membership events emitted: a replayed one is dropped. */
  private readonly seenEvents = new SeenIds()
  /** Sent messages not yet confirmed by message_sent, in send order, by client_id. */
  private readonly outbox = new Map<string, Pending>()
  /** Edits, deletes and reactions waiting for their event (or for the pong that shows they changed nothing). */
  private readonly actions: PendingActions
  /** Pings sent and answered on the current connection: the server answers them in order. */
  private pingsSent = 0
  private pingsAnswered = 0
  private actionCounter = 0
  private readonly readsToSend = new Set<number>()
  /** Sends wait until then after `rate_limited` or `unavailable`; then the refused ones go again. */
  private holdUntil = 0
  private holdTimer: Timer | null = null
  /** After a refusal, one message at a time until the backlog is through (no burst of refusals). */
  private paced = false
  /** connection_established arrived on the current socket. */
  private established = false
  private readonly pongWaiters: { resolve: (rtt: number) => void; reject: (error: SwitchboardError) => void }[] = []
  private pingSentAt = 0
  private clientIdPrefix = randomId()
  private clientIdCounter = 0
  private maxMessageLength = Infinity
  private readonly online = new OnlineUsers()
  private readonly typingSender: TypingSender
  private readonly typingTracker: TypingTracker

  constructor(options: ClientOptions) {
    super()
    if (!Number.isInteger(options.userId) || options.userId < 1) throw new SwitchboardError('invalid_user', 'userId must be a positive integer')
    this.opts = { presence: false, ...options }
    this.userId = options.userId
    this.format = options.format ?? 'json'
    this.lastId = options.since ?? -1
    this.actions = new PendingActions(this.userId)
    const { reconnect, heartbeat, typing } = timerSettings(options)
    this.backoff = reconnect
    this.heartbeat = heartbeat
    const WS = options.WebSocket ?? globalThis.WebSocket
    if (!WS) throw new SwitchboardError('no_websocket', 'no WebSocket implementation available')
    this.WS = WS
    this.typingSender = new TypingSender((target, isTyping) => this.sendNow({ type: 'typing', ...target, is_typing: isTyping }), typing.idleMs, typing.refreshMs)
    this.typingTracker = new TypingTracker((event) => this.emit('typing', event), typing.remoteExpiryMs)
  }

  get state(): ConnectionState {
    return this._state
  }

  /** The resume point sent as `since` on the next connection (a seq); undefined before the first sync. */
  get resumePoint(): number | undefined {
    return this.lastId >= 0 ? this.lastId : undefined
  }

  /** Messages sent but not yet confirmed as stored, and edits, deletes and reactions not yet settled. */
  get unconfirmed(): number {
    return this.outbox.size + this.actions.size
  }

  /** Online user ids (with `presence: true`). */
  get onlineUsers(): number[] {
    return this.online.list
  }

  /** Starts connecting; resolves at the first `synced`. Keeps retrying until `close()`. */
  connect(): Promise<void> {
    if (this._state === 'closed') return Promise.reject(new SwitchboardError('closed', 'the client was closed'))
    if (this._state === 'open' && this.synced) return Promise.resolve()
    const synced = this.once('synced').then(() => undefined)
    if (this._state === 'idle') {
      this.setState('connecting')
      void this.openSocket()
    }
    return synced
  }

  /** Closes for good: no reconnect; unconfirmed sends are rejected. */
  close(): void {
    if (this._state === 'closed') return
    this.clearTimers()
    this.detach('closed by the application')
    this.typingSender.reset()
    this.typingTracker.clear()
    for (const waiter of this.pongWaiters.splice(0)) waiter.reject(new SwitchboardError('closed', 'the client was closed'))
    for (const [clientId, p] of this.outbox) {
      this.outbox.delete(clientId)
      p.reject(new SwitchboardError('closed', 'the client was closed before the message was confirmed'))
    }
    this.actions.rejectAll(new SwitchboardError('closed', 'the client was closed before the change was confirmed'))
    this.setState('closed')
  }

  /**
   * Sends a message; resolves once the server has stored it. If the connection drops first, it is
   * resent on reconnect with the same client_id and still stored once.
   */
  send(target: Target, text: string, options: SendOptions = {}): Promise<SendResult> {
    if (this._state === 'closed') return Promise.reject(new SwitchboardError('closed', 'the client was closed'))
    const withFiles = (options.attachmentIds?.length ?? 0) > 0
    const problem = checkTarget(target) ?? (text.trim() === '' && !withFiles ? ['empty_message', 'message is empty'] : null) ??
      messageTooLong(text, this.maxMessageLength)
    if (problem) return Promise.reject(new SwitchboardError(problem[0], problem[1]))
    const clientId = options.clientId ?? this.newClientId()
    const frame: Pending['frame'] = { type: 'message', ...target, message: text, client_id: clientId }
    if (options.messageType) frame.message_type = options.messageType
    if (options.replyToId !== undefined) frame.reply_to_id = options.replyToId
    if (options.mentionIds?.length) frame.mention_ids = options.mentionIds
    if (withFiles) frame.attachment_ids = options.attachmentIds
    this.typingSender.stop(target)
    return new Promise<SendResult>((resolve, reject) => {
      this.outbox.set(clientId, { frame, inFlight: false, resolve, reject })
      this.pump()
    })
  }

  /** Sends a reply to `messageId` (a message of the conversation `target`): a send with `reply_to_id`. */
  reply(messageId: number, target: Target, text: string, options: Omit<SendOptions, 'replyToId'> = {}): Promise<SendResult> {
    return this.send(target, text, { ...options, replyToId: messageId })
  }

  /**
   * Replaces the text of one's own message. Resolves with the `message_edited` event once it is
   * known (also emitted as an event), or with null when the message already had this text (a
   * retry); rejects with the server's refusal (`not_sender`, `message_deleted`, …). Queued while
   * disconnected, and sent again after a drop unless the catch-up shows it done.
   */
  edit(messageId: number, text: string): Promise<MessageEdited | null> {
    const problem = (text.trim() === '' ? ['empty_message', 'message is empty'] : null) ?? messageTooLong(text, this.maxMessageLength)
    if (problem) return Promise.reject(new SwitchboardError(problem[0], problem[1]))
    return this.act({ type: 'edit_message', message_id: messageId, message: text }) as Promise<MessageEdited | null>
  }

  /** Deletes one's own message (or, as a group's creator, any in it); as `edit`, null when it already was. */
  delete(messageId: number): Promise<MessageDeleted | null> {
    return this.act({ type: 'delete_message', message_id: messageId }) as Promise<MessageDeleted | null>
  }

  /** Adds this user's reaction (one emoji); as `edit`, null when it was already there. */
  react(messageId: number, emoji: string): Promise<ReactionAdded | null> {
    const qualified = reactionEmoji(emoji)
    if (!qualified) return Promise.reject(new SwitchboardError('invalid_emoji', 'a reaction is one emoji'))
    return this.act({ type: 'add_reaction', message_id: messageId, emoji: qualified }) as Promise<ReactionAdded | null>
  }

  /** Removes this user's reaction; as `edit`, null when there was none. */
  unreact(messageId: number, emoji: string): Promise<ReactionRemoved | null> {
    const qualified = reactionEmoji(emoji)
    if (!qualified) return Promise.reject(new SwitchboardError('invalid_emoji', 'a reaction is one emoji'))
    return this.act({ type: 'remove_reaction', message_id: messageId, emoji: qualified }) as Promise<ReactionRemoved | null>
  }

  private act(frame: ActionFrame): Promise<LifecycleEvent | null> {
    if (this._state === 'closed') return Promise.reject(new SwitchboardError('closed', 'the client was closed'))
    if (!Number.isInteger(frame.message_id) || frame.message_id < 1) return Promise.reject(new SwitchboardError('invalid_message_id', 'the message id must be a positive integer'))
    const ref = `${this.clientIdPrefix}-a${++this.actionCounter}`
    return new Promise((resolve, reject) => {
      this.actions.add({ ...frame, ref }, resolve, reject)
      this.pump()
    })
  }

  /**
   * Uploads a file (POST /attachments, multipart) and resolves with the stored attachment: send
   * its id with `send(target, caption, { attachmentIds: [id] })`. Rejects with the server's code
   * (`attachment_too_large`, `type_not_allowed`, `quota_exceeded`, `rate_limited`...).
   */
  async upload(file: Blob, name?: string): Promise<Attachment> {
    const form = new FormData()
    form.append('file', file, name ?? ((file as { name?: string }).name || 'file'))
    const res = await this.http(`/attachments?user_id=${this.userId}`, { method: 'POST', body: form })
    const body = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null
    if (!res.ok) throw new SwitchboardError(body?.error?.code ?? `http_${res.status}`, body?.error?.message ?? `HTTP ${res.status}`)
    return body as Attachment
  }

  /** The bytes of an attachment (or its thumbnail), fetched with the token: for `<img>` or a download link via a blob URL. */
  async download(attachment: Pick<Attachment, 'url'>, options: { thumbnail?: boolean } = {}): Promise<Blob> {
    const res = await this.http(`${attachment.url}${options.thumbnail ? '/thumbnail' : ''}?user_id=${this.userId}`, {})
    if (!res.ok) {
      const body = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null
      throw new SwitchboardError(body?.error?.code ?? `http_${res.status}`, body?.error?.message ?? `HTTP ${res.status}`)
    }
    return res.blob()
  }

  /** A REST call to the server with the token, if any. */
  private async http(path: string, init: RequestInit): Promise<Response> {
    const doFetch = this.opts.fetch ?? globalThis.fetch
    const base = this.opts.url.replace(/^ws/, 'http').replace(/\/+$/, '')
    const token = await this.currentToken()
    return doFetch(`${base}${path}`, { ...init, headers: token ? { authorization: `Bearer ${token}` } : {} })
  }

  /** A fresh client_id, for an application that wants to show a message before `send` resolves. */
  newClientId(): string {
    return `${this.clientIdPrefix}-${++this.clientIdCounter}`
  }

  /** Call on every keystroke in a composer: sends a debounced start, and a stop after silence. */
  typing(target: Target): void {
    if (checkTarget(target) || this._state !== 'open') return
    this.typingSender.keystroke(target)
  }

  /** Sends the stop now (e.g. the composer was cleared or lost focus). */
  stopTyping(target: Target): void {
    this.typingSender.stop(target)
  }

  /** Tells the sender a message was read; queued while disconnected. */
  markRead(messageId: number): void {
    if (this._state === 'closed') return
    if (this._state === 'open') this.sendNow({ type: 'read_receipt', message_id: messageId, ref: `read-${messageId}` })
    else this.readsToSend.add(messageId)
  }

  /** Round trip in milliseconds to the next pong. */
  ping(): Promise<number> {
    if (this._state !== 'open') return Promise.reject(new SwitchboardError('not_open', 'not connected'))
    return new Promise((resolve, reject) => {
      this.pongWaiters.push({ resolve, reject })
      this.sendPing()
    })
  }

  // --- connection lifecycle -------------------------------------------------------------------

  private async currentToken(): Promise<string | undefined> {
    const token = this.opts.token
    return typeof token === 'function' ? await token() : token
  }

  private socketUrl(token: string | undefined): string {
    const base = this.opts.url.replace(/^http/, 'ws').replace(/\/+$/, '')
    const query = new URLSearchParams()
    if (this.format !== 'json') query.set('format', this.format)
    if (this.lastId >= 0) query.set('since', String(this.lastId))
    if (this.opts.presence) query.set('presence', '1')
    if (token) query.set('token', token)
    const qs = query.toString()
    return `${base}/ws/${this.userId}${qs ? `?${qs}` : ''}`
  }

  private async openSocket(): Promise<void> {
    let ws: WebSocket
    try {
      const token = await this.currentToken()
      if (this._state === 'closed') return
      ws = new this.WS(this.socketUrl(token))
    } catch (error) {
      return this.connectionLost(`could not open: ${(error as Error).message}`)
    }
    ws.binaryType = 'arraybuffer'
    this.ws = ws
    this.connectTimer = setTimeout(() => this.connectionLost('connect timed out'), this.backoff.connectTimeoutMs)
    ws.onmessage = (event) => this.onData(event.data)
    ws.onclose = (event) => this.connectionLost(`closed (${event.code}${event.reason ? ` ${event.reason}` : ''})`)
    // An error is always followed by close; the close handler does the work.
    ws.onerror = () => {}
  }

  /** The socket is gone or judged dead: schedule the next attempt. */
  private connectionLost(reason: string): void {
    if (this._state === 'closed') return
    this.clearTimers()
    this.detach(reason)
    this.typingSender.reset()
    this.typingTracker.clear()
    if (this.openedAt && Date.now() - this.openedAt >= this.backoff.healthyAfterMs) this.attempt = 0
    this.openedAt = 0
    this.synced = false
    this.actions.connectionLost()
    this.attempt++
    const delayMs = backoffDelay(this.attempt, this.backoff)
    this.setState('reconnecting', { delayMs, reason })
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null
      void this.openSocket()
    }, delayMs)
  }

  /** Drops the current socket without letting its events reach us again. */
  private detach(reason: string): void {
    this.established = false
    const ws = this.ws
    if (!ws) return
    this.ws = null
    ws.onmessage = ws.onclose = ws.onerror = null
    try {
      // 4000: a private code; a dead socket may never answer, which is why the handlers are gone.
      if (ws.readyState <= 1) ws.close(4000, reason.slice(0, 100))
    } catch {}
  }

  private clearTimers(): void {
    for (const timer of [this.reconnectTimer, this.connectTimer, this.pingTimer, this.deadTimer, this.holdTimer]) if (timer) clearTimeout(timer)
    this.reconnectTimer = this.connectTimer = this.pingTimer = this.deadTimer = this.holdTimer = null
    this.holdUntil = 0
  }

  private setState(state: ConnectionState, extra: { delayMs?: number; reason?: string } = {}): void {
    const previous = this._state
    this._state = state
    this.emit('state', { state, previous, attempt: this.attempt, ...extra })
  }

  // --- heartbeat --------------------------------------------------------------------------------

  private schedulePing(): void {
    if (this.pingTimer) clearTimeout(this.pingTimer)
    this.pingTimer = setTimeout(() => this.sendPing(), this.heartbeat.intervalMs)
  }

  private sendPing(): void {
    this.pingSentAt = Date.now()
    this.sendCountedPing()
    // Any frame proves the connection alive (see onData); silence past the timeout means dead,
    // whether or not TCP has noticed.
    if (!this.deadTimer) this.deadTimer = setTimeout(() => this.connectionLost('no answer to ping'), this.heartbeat.timeoutMs)
    this.schedulePing()
  }

  /** A ping whose answer (a pong, or a refusal naming its ref) is counted: it is a fence for actions. */
  private sendCountedPing(): number {
    const n = ++this.pingsSent
    this.sendNow({ type: 'ping', ref: `ping-${n}` })
    return n
  }

  /** The next ping in order was answered: actions sent before it are settled. */
  private pingAnswered(): void {
    this.actions.fenceAnswered(++this.pingsAnswered)
  }

  // --- frames in --------------------------------------------------------------------------------

  private onData(data: unknown): void {
    if (this.deadTimer) {
      clearTimeout(this.deadTimer)
      this.deadTimer = null
    }
    let frame: ServerFrame
    try {
      frame = decodeServerFrame(data, this.format)
    } catch (error) {
      // Dropped either way: acting on a frame in the wrong framing would hide the server's fault.
      if (error instanceof FramingError) this.emit('error', { type: 'error', code: 'protocol_error', message: `${error.message}: dropped`, ref: null })
      else this.emit('error', { type: 'error', code: 'invalid_frame', message: 'a frame from the server could not be decoded', ref: null })
      return
    }
    switch (frame.type) {
      case 'connection_established':
        return this.onEstablished(frame)
      case 'message':
        return this.onMessage(frame)
      case 'message_sent':
        return this.onMessageSent(frame)
      case 'backlog_page':
        // A page of a long backlog: a resume point, with more of the backlog to come.
        return this.advance(frame.last_id)
      case 'synced':
        this.synced = true
        this.advance(frame.last_id)
        this.pump()
        this.emit('synced', frame)
        if (this.opts.presence) void this.refreshOnline()
        return
      case 'typing':
        // A group typing frame also reaches the typist's other connections: not someone else typing.
        if (frame.sender_id === this.userId) return
        return this.typingTracker.received(frame)
      case 'read_receipt':
        if (this.isNewEvent(frame)) this.emit('read_receipt', frame)
        return
      case 'message_status':
        if (this.isNewEvent(frame)) this.emit('message_status', frame)
        return
      case 'membership':
        if (this.isNewEvent(frame)) this.emit('membership', frame)
        return
      case 'message_edited':
      case 'message_deleted':
      case 'reaction_added':
      case 'reaction_removed':
        return this.onLifecycleEvent(frame)
      case 'resync_required':
        // The catch-up goes on (every message is still replayed); what it cannot replay is the
        // statuses in between, which the application refetches.
        return this.emit('resync_required', frame)
      case 'presence':
        return this.onPresence(frame)
      case 'pong': {
        this.pingAnswered()
        const rtt = Date.now() - this.pingSentAt
        for (const waiter of this.pongWaiters.splice(0)) waiter.resolve(rtt)
        return
      }
      case 'error':
        return this.onError(frame)
    }
  }

  private onEstablished(frame: Extract<ServerFrame, { type: 'connection_established' }>): void {
    if (this.connectTimer) clearTimeout(this.connectTimer)
    this.connectTimer = null
    this.openedAt = Date.now()
    this.maxMessageLength = frame.max_message_length
    // Unconfirmed messages go again after the backlog (`synced`), in their order, with their
    // client_id: one the backlog shows stored is settled without a resend, and the server stores a
    // resent one once. Marked before the state change, so a 'state' listener's send waits too.
    this.established = true
    for (const p of this.outbox.values()) p.inFlight = false
    this.pingsSent = this.pingsAnswered = 0
    this.actions.connectionLost()
    for (const id of this.readsToSend) this.sendNow({ type: 'read_receipt', message_id: id, ref: `read-${id}` })
    this.readsToSend.clear()
    this.schedulePing()
    this.setState('open')
    this.emit('established', frame)
  }

  /** Moves the resume point forward (never back: a resent older message must not rewind it). */
  private advance(seq: number): void {
    if (seq > this.lastId) this.lastId = seq
  }

  /**
   * A sequenced event not seen before: recorded, and the resume point moved past it. An event
   * without `seq` (a server before the event stream) cannot be told from a repeat, so it passes.
   */
  private isNewEvent(frame: MessageStatusChange | ReadReceipt | MembershipChange | LifecycleEvent): boolean {
    if (frame.seq === undefined) return true
    if (!this.seenEvents.add(frame.seq)) return false
    this.advance(frame.seq)
    return true
  }

  /** An edit, delete or reaction: emitted once per seq, and settling the action of ours it answers. */
  private onLifecycleEvent(frame: LifecycleEvent): void {
    if (!this.isNewEvent(frame)) return
    this.emit(frame.type, frame as never)
    this.actions.eventArrived(frame)
  }

  private onMessage(frame: IncomingMessage): void {
    // A message is sent again when the device it reached died before confirming it (and in a
    // catch-up overlap): its id tells the repeat, across reconnects.
    if (!this.seenMessages.add(frame.id)) return
    this.advance(frame.seq ?? frame.id)
    // A catch-up copy of our own unconfirmed message: it was stored, so it is confirmed now, and
    // the application already has it from send().
    const pending = frame.sender_id === this.userId && frame.client_id !== null ? this.outbox.get(frame.client_id) : undefined
    if (pending) {
      this.outbox.delete(frame.client_id!)
      pending.resolve({ message_id: frame.id, client_id: frame.client_id!, status: frame.status, timestamp: frame.timestamp, duplicate: true })
      return
    }
    this.typingTracker.messageFrom(frame.sender_id, frame.group_id)
    this.emit('message', frame)
  }

  private onMessageSent(frame: Extract<ServerFrame, { type: 'message_sent' }>): void {
    // Our own message may come back in a later catch-up (since covers our sends): drop it then.
    this.seenMessages.add(frame.message_id)
    // Not a resume point: an event with a smaller seq may still be on its way (from another
    // instance, or a status appended just before). The replay after it repeats only our own
    // messages, which are dropped by id.
    const pending = frame.client_id === null ? undefined : this.outbox.get(frame.client_id)
    if (!pending) return
    this.outbox.delete(frame.client_id!)
    this.pump()
    pending.resolve({ message_id: frame.message_id, client_id: frame.client_id!, status: frame.status, timestamp: frame.timestamp, duplicate: frame.duplicate })
  }

  private onError(frame: Extract<ServerFrame, { type: 'error' }>): void {
    // A refused ping (rate_limited) is answered all the same: frames are handled in order.
    if (frame.ref?.startsWith('ping-')) return this.pingAnswered()
    if (frame.ref !== null && this.actions.has(frame.ref)) return this.onActionError(frame)
    const pending = frame.ref === null ? undefined : this.outbox.get(frame.ref)
    if (!pending) return this.emit('error', frame)
    if (frame.code === 'rate_limited' || frame.code === 'unavailable') {
      // Nothing was stored: hold every send for the time asked (sending on would only be refused
      // too, and a flood is closed with 1008), then resend the refused ones with their client_id.
      pending.inFlight = false
      this.paced = true
      this.holdSends(frame.code === 'rate_limited' ? (frame.retry_after ?? 1) * 1000 : RETRY_UNAVAILABLE_MS)
      return
    }
    this.outbox.delete(frame.ref!)
    pending.reject(new SwitchboardError(frame.code, frame.message))
  }

  private onActionError(frame: Extract<ServerFrame, { type: 'error' }>): void {
    if (frame.code === 'rate_limited' || frame.code === 'unavailable') {
      // Nothing was done: sent again once the hold is over.
      this.actions.retry(frame.ref!)
      this.holdSends(frame.code === 'rate_limited' ? (frame.retry_after ?? 1) * 1000 : RETRY_UNAVAILABLE_MS)
      return
    }
    this.actions.refused(frame.ref!, new SwitchboardError(frame.code, frame.message))
  }

  private holdSends(ms: number): void {
    const until = Date.now() + ms
    if (until <= this.holdUntil && this.holdTimer) return
    this.holdUntil = until
    if (this.holdTimer) clearTimeout(this.holdTimer)
    this.holdTimer = setTimeout(() => {
      this.holdTimer = null
      this.pump()
    }, ms)
  }

  /**
   * Sends what the outbox holds, in order: everything at once normally; while paced, one message
   * at a time (the next goes when the previous is confirmed).
   */
  private pump(): void {
    if (!this.established || !this.synced || Date.now() < this.holdUntil) return
    const window = this.paced ? 1 : MAX_IN_FLIGHT
    let inFlight = 0
    let waiting = 0
    for (const p of this.outbox.values()) {
      if (p.inFlight) inFlight++
      else if (inFlight >= window) waiting++
      else {
        p.inFlight = true
        inFlight++
        this.sendNow(p.frame)
      }
    }
    if (this.paced && waiting === 0 && inFlight <= 1) this.paced = false
    this.pumpActions()
  }

  /** Sends the actions not in flight, then a ping whose answer settles those that changed nothing. */
  private pumpActions(): void {
    if (this.actions.size === 0) return
    const frames = this.actions.takeUnsent(this.pingsSent + 1)
    if (!frames.length) return
    for (const frame of frames) this.sendNow(frame)
    this.sendCountedPing()
  }

  private onPresence(frame: Extract<ServerFrame, { type: 'presence' }>): void {
    this.online.apply(frame)
    this.emit('presence', frame)
    this.emit('online', this.online.list)
  }

  /** Seeds the online list from GET /ws/online-users (with the token, when there is one). */
  private async refreshOnline(): Promise<void> {
    const doFetch = this.opts.fetch ?? globalThis.fetch
    if (!doFetch) return
    const base = this.opts.url.replace(/^ws/, 'http').replace(/\/+$/, '')
    const fetched = await this.online.refresh(async () => {
      const token = await this.currentToken()
      const res = await doFetch(`${base}/ws/online-users${token ? `?token=${encodeURIComponent(token)}` : ''}`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      })
      if (!res.ok) throw new Error(`HTTP ${res.status}`)
      return ((await res.json()) as { online_users: number[] }).online_users
    })
    if (fetched) this.emit('online', this.online.list)
  }

  private sendNow(frame: ClientFrame): void {
    const ws = this.ws
    if (!ws || ws.readyState !== 1) return
    try {
      ws.send(encodeClientFrame(frame, this.format))
    } catch {
      // The socket is failing; its close event starts the reconnect, and the outbox still holds messages.
    }
  }
}

function checkTarget(target: Target): [string, string] | null {
  const isId = (v: unknown) => Number.isInteger(v) && (v as number) >= 1
  const hasUser = target?.recipient_id !== undefined
  const hasGroup = target?.group_id !== undefined
  if (hasUser === hasGroup) return ['invalid_target', 'give exactly one of recipient_id or group_id']
  if (!isId(hasUser ? target.recipient_id : target.group_id)) return ['invalid_target', 'the recipient or group id must be a positive integer']
  return null
}

/** A random prefix for client_ids, so they stay unique across page loads (getRandomValues works on plain http too). */
function randomId(): string {
  const bytes = new Uint8Array(8)
  globalThis.crypto.getRandomValues(bytes)
  return Array.from(bytes, (b) => b.toString(36).padStart(2, '0')).join('')
}

/** The refusal for a message over the server's limit, counted as the server counts it. */
function messageTooLong(text: string, max: number): [string, string] | null {
  const problem = lengthExceeded(text, max)
  return problem ? ['message_too_long', problem] : null
}
