import type { ServerWebSocket } from 'bun'
import type { Confirmation, DeliveredEvent, Store, StreamEvent } from '../db/store'
import type { Logger } from '../observability/logger'

/** A connection as far as confirmation reads and writes it: connection.ts's `Socket` is one. */
type Socket = ServerWebSocket<{ readonly userId: number; readonly groups: Set<number>; readonly confirm: ConfirmState }>

/**
 * How often sockets that were sent messages are asked to confirm them. One ping a socket a round,
 * whatever the number of messages: a sender hears `delivered` within about this long plus a round
 * trip.
 */
export const CONFIRM_INTERVAL_MS = 100

/**
 * How often a socket that has only group messages to confirm, none of which a sender is still
 * waiting on, is asked: its confirmation only moves its user's delivered marks (what a
 * reconnect without `since` starts after), so it need not cost every member a ping each round.
 */
export const SETTLE_INTERVAL_MS = 1000

/** Group messages waiting for their first confirmation, at most; older ones are settled by catch-up. */
const FIRST_DELIVERY_MAX = 100_000

/** A socket's confirmation state (`ws.data.confirm`). */
export interface ConfirmState {
  /** Messages sent to the device since its last ping, whose status a confirmation may change. */
  pending: number[]
  /** The highest group seq sent to the device. */
  groupsUpTo: number
  /** What the outstanding ping covers; null when none is outstanding. */
  inFlight: number[] | null
  inFlightGroupsUpTo: number
  /** The round the outstanding ping was sent in: its payload. */
  round: number
  /** The group seq the device last confirmed. */
  confirmedGroupsUpTo: number
}

export function newConfirmState(): ConfirmState {
  return { pending: [], groupsUpTo: 0, inFlight: null, inFlightGroupsUpTo: 0, round: 0, confirmedGroupsUpTo: 0 }
}

export interface ConfirmationsDeps {
  store: Store
  /** This instance's synced sockets of a group's members. */
  socketsInGroup(groupId: number): Iterable<Socket>
  /** Publishes the status events the store appended. */
  publishEvents(events: StreamEvent[]): void
  logger: Logger
  /** The `message_status delivered` event for a confirmed message. */
  deliveredEvent: DeliveredEvent
}

/**
 * "Delivered" means the device has it. A device confirms by answering a WebSocket ping sent after
 * the messages were written to it: every WebSocket stack answers pings, in order, so the seed's
 * browser and Python clients confirm without knowing it. Each socket has at most one ping
 * outstanding, sent on the next round after it was given messages; its payload names the round,
 * so a pong to anything else (Bun's idle pings, a client's own) confirms nothing. A socket that
 * dies first confirms nothing: its messages stay `sent` and are sent again on the user's next
 * connection. What the confirmations of one turn of the event loop say is stored in one
 * transaction, with the status events it causes.
 */
export class Confirmations {
  private readonly dirty = new Set<Socket>()
  /** Groups that had a message since the last round, with the highest seq published in each. */
  private readonly touchedGroups = new Map<number, number>()
  /** Group messages not yet confirmed by any member but their sender: id → [group, sender]. */
  private readonly firstDelivery = new Map<number, [number, number]>()
  /** How many of firstDelivery's messages each group has. */
  private readonly awaitingFirst = new Map<number, number>()
  /** Rounds between two settling pings (SETTLE_INTERVAL_MS in rounds). */
  private settleEvery = 1
  private queue: Confirmation[] = []
  private flushing = false
  private round = 0
  private timer: ReturnType<typeof setInterval> | null = null

  constructor(private readonly deps: ConfirmationsDeps) {}

  start(intervalMs = CONFIRM_INTERVAL_MS): void {
    this.settleEvery = Math.max(1, Math.round(SETTLE_INTERVAL_MS / intervalMs))
    this.timer ??= setInterval(() => this.tick(), intervalMs)
    this.timer.unref?.()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  /** A direct message (or one still `sent`, from a catch-up) went to this device. */
  sent(ws: Socket, messageId: number): void {
    ws.data.confirm.pending.push(messageId)
    this.dirty.add(ws)
  }

  /** Every message of the device's groups up to `seq` went to it (a catch-up page ended). */
  sentUpTo(ws: Socket, seq: number): void {
    const c = ws.data.confirm
    if (!ws.data.groups.size || seq <= c.groupsUpTo) return
    c.groupsUpTo = seq
    this.dirty.add(ws)
  }

  /** A new group message was published here: its members' sockets confirm it on the next round. */
  groupPublished(groupId: number, messageId: number, senderId: number): void {
    const seen = this.touchedGroups.get(groupId)
    if (seen === undefined || messageId > seen) this.touchedGroups.set(groupId, messageId)
    if (this.firstDelivery.size >= FIRST_DELIVERY_MAX) this.forgetFirst(this.firstDelivery.keys().next().value!)
    this.firstDelivery.set(messageId, [groupId, senderId])
    this.awaitingFirst.set(groupId, (this.awaitingFirst.get(groupId) ?? 0) + 1)
  }

  private forgetFirst(messageId: number): void {
    const entry = this.firstDelivery.get(messageId)
    if (!entry) return
    this.firstDelivery.delete(messageId)
    const left = (this.awaitingFirst.get(entry[0]) ?? 1) - 1
    if (left > 0) this.awaitingFirst.set(entry[0], left)
    else this.awaitingFirst.delete(entry[0])
  }

  /** Whether a sender waits on a group message this socket was sent. */
  private awaitedIn(ws: Socket): boolean {
    if (!this.awaitingFirst.size) return false
    for (const groupId of ws.data.groups) if (this.awaitingFirst.has(groupId)) return true
    return false
  }

  /** Sends this round's pings. */
  tick(): void {
    const round = ++this.round
    for (const [groupId, seq] of this.touchedGroups) {
      for (const ws of this.deps.socketsInGroup(groupId)) {
        if (seq > ws.data.confirm.groupsUpTo) {
          ws.data.confirm.groupsUpTo = seq
          this.dirty.add(ws)
        }
      }
    }
    this.touchedGroups.clear()
    const payload = String(round)
    const settling = round % this.settleEvery === 0
    for (const ws of this.dirty) {
      const c = ws.data.confirm
      if (ws.readyState !== 1) {
        this.dirty.delete(ws)
        continue
      }
      // One outstanding ping a socket: what came since waits for its answer.
      if (c.inFlight) continue
      if (!c.pending.length) {
        if (c.groupsUpTo <= c.confirmedGroupsUpTo) {
          this.dirty.delete(ws)
          continue
        }
        // Only group marks to move: at the settling pace, unless a sender waits on this socket's groups.
        if (!settling && !this.awaitedIn(ws)) continue
      }
      this.dirty.delete(ws)
      c.inFlight = c.pending
      c.inFlightGroupsUpTo = c.groupsUpTo
      c.pending = []
      c.round = round
      ws.ping(payload)
    }
  }

  /** A pong: confirms what the socket's outstanding ping covers, when it answers that ping. */
  pong(ws: Socket, data: Buffer | undefined): void {
    const c = ws.data.confirm
    if (!c.inFlight || !data || data.toString() !== String(c.round)) return
    const userId = ws.data.userId
    const messageIds = c.inFlight
    const groupsUpTo = c.inFlightGroupsUpTo > c.confirmedGroupsUpTo ? c.inFlightGroupsUpTo : 0
    if (groupsUpTo) {
      c.confirmedGroupsUpTo = groupsUpTo
      for (const [id, [groupId, senderId]] of this.firstDelivery) {
        if (id > groupsUpTo) break
        if (senderId === userId || !ws.data.groups.has(groupId)) continue
        messageIds.push(id)
        this.forgetFirst(id)
      }
    }
    c.inFlight = null
    if (c.pending.length || c.groupsUpTo > c.confirmedGroupsUpTo) this.dirty.add(ws)
    if (!messageIds.length && !groupsUpTo) return
    this.queue.push({ userId, messageIds, groupsUpTo })
    if (!this.flushing) {
      this.flushing = true
      setImmediate(() => void this.flush())
    }
  }

  /** The socket closed: what it did not confirm stays unconfirmed. */
  closed(ws: Socket): void {
    this.dirty.delete(ws)
  }

  /** Stores what was confirmed and publishes the status events (also called at shutdown). */
  async flush(): Promise<void> {
    const batch = this.queue
    this.queue = []
    this.flushing = false
    if (!batch.length) return
    try {
      this.deps.publishEvents(await this.deps.store.recordDelivered(batch, this.deps.deliveredEvent))
    } catch (error) {
      // Nothing changed: those messages stay `sent` and are confirmed when they are sent again.
      this.deps.logger.error({ err: error }, 'recording delivery confirmations failed')
    }
  }
}
