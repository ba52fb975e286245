import type { Server } from 'bun'
import type { Broker, Presence, Publication } from '../broker/broker'
import type { Store, StreamEvent } from '../db/store'
import type { Logger } from '../observability/logger'
import { encodeFrame, type Encoded } from '../protocol/codec'
import { Confirmations } from './confirmations'
import type { ConnState, Socket } from './connection'
import type { LocalConnections } from './connections'
import type { EventFrame, Format, ServerFrame } from '../protocol/frames'
import { FORMATS, groupTarget, presenceTarget, topicOf, userTarget, type Target } from '../protocol/topics'

export interface DeliveryDeps {
  getServer: () => Server<unknown> | null
  broker: Broker
  store: Store
  connections: LocalConnections
  /** Decides which presence frames are shown (cluster-wide changes only). */
  presence: Presence
  logger: Logger
  /** Counts frames handed to sockets, by type (metrics); `sockets` counts the topic's subscribers. */
  onSent?: (type: ServerFrame['type'], sockets: number) => void
}

const now = () => new Date().toISOString()

/**
 * The one delivery path. Every event — from a WebSocket frame, a REST call or another instance —
 * ends in `deliverLocal`, which encodes it at most once per format and publishes it to Bun topics.
 */
export class Delivery {
  /**
   * The highest seq handed to topics here, by this instance or relayed from another one (for a
   * target a socket here watches); catch-up reads it to close gaps. Only `advance` raises it.
   */
  private publishedUpTo = 0
  /** Asks devices to confirm what they were sent, and records it (see confirmations.ts). */
  readonly confirmations: Confirmations
  private readonly getServer: () => Server<unknown> | null
  private readonly broker: Broker
  private readonly presence: Presence
  private readonly connections: LocalConnections
  private readonly onSent?: (type: ServerFrame['type'], sockets: number) => void
  /**
   * Open sockets here per format: a format nobody uses is skipped without asking Bun about its
   * topics (two `subscriberCount` calls less per 1:1 message when every client speaks one format).
   */
  private readonly socketsByFormat: Record<Format, number> = { json: 0, msgpack: 0 }

  constructor(deps: DeliveryDeps) {
    this.getServer = deps.getServer
    this.broker = deps.broker
    this.presence = deps.presence
    this.connections = deps.connections
    this.onSent = deps.onSent
    this.presence.announce = (frame) => this.deliverLocal([presenceTarget], frame)
    this.confirmations = new Confirmations({
      store: deps.store,
      logger: deps.logger,
      socketsInGroup: (groupId) => deps.connections.socketsInGroup(groupId),
      publishEvents: (events) => this.publishEvents(events),
      deliveredEvent: (m, userId) => ({
        userId: m.senderId,
        groupId: null,
        frame: { type: 'message_status', message_id: m.id, status: 'delivered', user_id: userId, timestamp: now() },
      }),
    })
  }

  /** The highest seq published here: every event up to it has been handed to topics. */
  get position(): number {
    return this.publishedUpTo
  }

  /** Raises the position: an event was published, or (at start) the stream already held this much. */
  advance(seq: number): void {
    if (seq > this.publishedUpTo) this.publishedUpTo = seq
  }

  /**
   * Publishes to local topics and to the other instances. `origin` (the sending socket, opaque to
   * the messaging rules that hand it back: see their Publisher) is skipped.
   */
  publish(targets: Target[], frame: ServerFrame, origin?: unknown): void {
    if ('seq' in frame) this.advance(frame.seq)
    if (frame.type !== 'presence' || this.presence.observe(frame)) this.deliverLocal(targets, frame, origin as Socket | undefined)
    this.broker.publish({ targets, frame })
  }

  /** Publishes events the store appended, each to whom it is for. */
  publishEvents(events: StreamEvent[]): void {
    for (const e of events) {
      const target = e.groupId !== null ? groupTarget(e.groupId) : userTarget(e.userId!)
      this.publish([target], eventFrame(e))
    }
  }

  /** The local half: what other instances' publications come through too. */
  deliverLocal(targets: Target[], frame: ServerFrame, origin?: Socket): void {
    if (frame.type === 'message') this.track(frame, origin)
    const server = this.getServer()
    if (!server) return
    // Publishing through the sending socket excludes that socket, so a sender's other devices get
    // the copy and the sending one only gets its `message_sent`.
    const via = origin && origin.readyState === 1 ? origin : server
    let json: Encoded | undefined
    let msgpack: Encoded | undefined
    for (const target of targets) {
      // A socket subscribes to its own user's topic, never to another user's: no need to ask Bun.
      const ownTopic = via === origin && target.kind === 'user' && target.id === origin.data.userId
      // A user with no socket here (offline, or on another instance), or the copy for the sender's
      // other devices when the sending socket is their only one here: no subscriber to ask Bun about.
      if (target.kind === 'user') {
        const here = this.connections.countOf(target.id)
        if (here === 0 || (ownTopic && here === 1)) continue
      }
      const mayHoldOrigin = ownTopic || (via === origin && target.kind !== 'user')
      for (const format of FORMATS) {
        if (this.socketsByFormat[format] === 0) continue
        const topic = topicOf(target, format)
        const subscribers = server.subscriberCount(topic)
        if (subscribers === 0) continue
        const originSubscribed = mayHoldOrigin && origin.isSubscribed(topic)
        // Only the sending socket, which a publish through it skips: nothing to send.
        if (subscribers === 1 && originSubscribed) continue
        if (this.onSent) this.onSent(frame.type, originSubscribed ? subscribers - 1 : subscribers)
        const payload = format === 'json' ? (json ??= encodeFrame(frame, 'json')) : (msgpack ??= encodeFrame(frame, 'msgpack'))
        via.publish(topic, payload)
      }
    }
  }

  /** A new message goes out: the devices it reaches confirm it on the next round. */
  private track(frame: Extract<ServerFrame, { type: 'message' }>, origin: Socket | undefined): void {
    if (frame.group_id !== undefined) return this.confirmations.groupPublished(frame.group_id, frame.id, frame.sender_id)
    for (const ws of this.connections.socketsOf(frame.recipient_id!)) if (ws !== origin && ws.data.synced) this.confirmations.sent(ws, frame.id)
  }

  /** A socket of this format opened (counted for `deliverLocal`); `socketClosed` undoes it. */
  socketOpened(format: Format): void {
    this.socketsByFormat[format]++
  }

  socketClosed(format: Format): void {
    this.socketsByFormat[format]--
  }

  /** Handler for publications from other instances. */
  readonly onRemote = (publication: Publication): void => {
    const { frame } = publication
    if ('seq' in frame) this.advance(frame.seq)
    if (frame.type === 'presence' && !this.presence.observe(frame, publication.origin)) return
    this.deliverLocal(publication.targets, frame)
  }

  /** Whether a new message may be accepted: false while other instances cannot be told. */
  canPublish(): boolean {
    return this.broker.isHealthy()
  }

  /**
   * Registers a socket's targets with the broker (once per socket, at open); resolves when other
   * instances' events for them will arrive here. `unwatchSocket` at close undoes it.
   */
  watchSocket(conn: ConnState): Promise<unknown> {
    return Promise.all(socketTargets(conn).map((t) => this.broker.watch(t)))
  }

  /** Undoes `watchSocket` with the socket's targets as they are at close. */
  unwatchSocket(conn: ConnState): void {
    for (const t of socketTargets(conn)) this.broker.unwatch(t)
  }

  /** A socket joined or left a group after it opened. */
  watchGroup(groupId: number, watching: boolean): void {
    if (watching) this.broker.watch(groupTarget(groupId)).catch(() => {})
    else this.broker.unwatch(groupTarget(groupId))
  }

  /** Frames held back per socket while `batched` runs. */
  private outbox: Map<Socket, Encoded[]> | null = null

  /**
   * Runs `fn`, holding back what it sends with `sendTo`, then writes each socket's frames together.
   * Bun corks sends made inside a socket callback by itself; the writer's post-commit callbacks
   * (the confirmations) run outside them, where each `send` is a write of its own. Several frames
   * for one socket go under one `ws.cork`. A lone frame is published to the socket's reply topic
   * instead: Bun gathers what is published in one turn of the event loop and writes each socket's
   * share at once, so the confirmation leaves with the messages the same commit published to that
   * socket (at a moderate rate each socket has one of each a commit: one write instead of two).
   * Confirmations keep their order: the writer runs one batch a turn. A frame sent straight to the
   * socket later in the same turn (the answer to another frame) may overtake a lone one.
   */
  batched(fn: () => void): void {
    if (this.outbox) return fn()
    const outbox = (this.outbox = new Map())
    try {
      fn()
    } finally {
      this.outbox = null
      const server = this.getServer()
      for (const [ws, frames] of outbox) {
        if (ws.readyState !== 1) continue
        if (frames.length === 1) server ? server.publish(ws.data.replyTopic, frames[0]) : ws.send(frames[0])
        else ws.cork(() => {
          for (const frame of frames) ws.send(frame)
        })
      }
    }
  }

  /** Sends one frame to one socket in its format. */
  sendTo(ws: Socket, frame: ServerFrame): void {
    if (ws.readyState !== 1) return
    this.onSent?.(frame.type, 1)
    const encoded = encodeFrame(frame, ws.data.format)
    if (!this.outbox) return void ws.send(encoded)
    const queued = this.outbox.get(ws)
    if (queued) queued.push(encoded)
    else this.outbox.set(ws, [encoded])
  }
}

/** The targets a connection receives events for. */
function socketTargets(conn: ConnState): Target[] {
  const targets = [userTarget(conn.userId)]
  for (const groupId of conn.groups) targets.push(groupTarget(groupId))
  if (conn.wantsPresence) targets.push(presenceTarget)
  return targets
}

/** A stored event as its frame: the body with its seq. */
export function eventFrame(e: StreamEvent): EventFrame {
  return { ...e.frame, seq: e.seq } as unknown as EventFrame
}
