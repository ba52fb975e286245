import { nextTurn, type Store } from '../db/store'
import { messageFrame } from '../protocol/views'
import { Backlog, seqOf } from './backlog'
import type { Socket } from './connection'
import { eventFrame, type Delivery } from './delivery'

/** Messages sent between two turns of the event loop: a backlog never holds the server. */
export const CATCH_UP_CHUNK = 200
/**
 * Events per page of a long backlog. After each page the client gets a `backlog_page` frame (a
 * resume point), so a connection that drops in the middle of a large backlog resumes after the
 * last page, and no statement grows with the backlog.
 */
export const CATCH_UP_PAGE = 1000
/** Catch-up rounds before it subscribes anyway and closes the last gap with one more query. */
const CATCH_UP_ROUNDS = 5

export interface CatchUpDeps {
  store: Store
  delivery: Delivery
  /** Subscribes the socket to its topics: from then on it receives live traffic. */
  subscribe(ws: Socket): void
  /** Resolves once Bun has sent what is queued for the socket (or it closed). */
  drained(ws: Socket): Promise<void>
  /** Catch-up waits for the socket to drain beyond this many queued bytes. */
  pauseBytes: number
}

/**
 * Sends a connection its backlog in seq order, paced, then subscribes it to its topics.
 * Subscribing only when nothing was published during the last query means no event is missed and
 * none arrives twice (see docs/PROTOCOL.md). What it sends is confirmed by the device like live
 * traffic (confirmations.ts): a message is `delivered` once the device answers, not once sent.
 *
 * With `since`, the backlog is every event after it: messages, statuses, receipts and membership
 * changes. Without, the first queries select by status (what was not yet delivered: the seed's
 * behaviour). A message published while they run may already be stored as delivered (another
 * device of this user confirmed it) without having reached this socket, so every later query
 * selects by seq, from where publication stood when catch-up began, skipping what was sent.
 */
export function createCatchUp(deps: CatchUpDeps) {
  const { store, delivery } = deps
  const { confirmations } = delivery

  return async function catchUp(ws: Socket): Promise<void> {
    const { userId, since } = ws.data
    // Runs at open, before the first await: from here other instances' events for this socket
    // reach this one (and advance the position), so the backlog read below misses nothing.
    await delivery.watchSocket(ws.data)
    const groupIds = [...ws.data.groups]
    const startedAt = delivery.position
    let lastSent = since ?? 0
    let count = 0
    let pageCount = 0
    // Only seqs published after the start can be met twice (once by status, once by seq).
    const sentAfterStart = new Set<number>()

    if (since !== undefined) {
      const pruned = await store.prunedSeq()
      if (since < pruned) delivery.sendTo(ws, { type: 'resync_required', code: 'events_pruned', since, oldest_seq: pruned })
    }

    /** Sends a backlog to its end, paced; false when the socket closed meanwhile. */
    const sendAll = async (backlog: Backlog): Promise<boolean> => {
      for (;;) {
        const rows = await backlog.take(CATCH_UP_CHUNK)
        if (ws.readyState !== 1) return false
        for (const item of rows) {
          const seq = seqOf(item)
          if (seq > startedAt) {
            if (sentAfterStart.has(seq)) continue
            sentAfterStart.add(seq)
          }
          if (ws.getBufferedAmount() > deps.pauseBytes) {
            await deps.drained(ws)
            if (ws.readyState !== 1) return false
          }
          if ('frame' in item) delivery.sendTo(ws, eventFrame(item))
          else {
            delivery.sendTo(ws, messageFrame(item))
            // What this device's confirmation may change: a direct message to this user still
            // `sent`, or a group message no member has confirmed yet.
            if (item.status === 'sent' && item.senderId !== userId) confirmations.sent(ws, item.id)
          }
          count++
          pageCount++
          if (seq > lastSent) lastSent = seq
        }
        if (pageCount >= CATCH_UP_PAGE) {
          pageCount = 0
          // Every group message up to here was sent: once confirmed, a reconnect without `since` starts after it.
          confirmations.sentUpTo(ws, lastSent)
          delivery.sendTo(ws, { type: 'backlog_page', last_id: lastSent, count })
        }
        if (rows.length < CATCH_UP_CHUNK) return ws.readyState === 1
        await nextTurn()
        if (ws.readyState !== 1) return false
      }
    }

    // Every backlog reads only below a bound taken when it opens; what commits later is the next one's.
    let bound = (await store.lastSeq()) + 1
    const first = since === undefined
      ? await Backlog.undelivered(store, userId, 0, bound)
      : await Backlog.since(store, userId, groupIds, since, bound)
    if (!(await sendAll(first))) return
    // Then by seq: after the resume point, or (without one) everything published since catch-up
    // began, which may be stored as delivered without having reached this socket.
    let after = since === undefined ? startedAt : bound - 1
    for (let round = 0; ; round++) {
      if (after >= bound - 1 && delivery.position < bound) break
      if (round >= CATCH_UP_ROUNDS) break
      bound = (await store.lastSeq()) + 1
      if (!(await sendAll(await Backlog.since(store, userId, groupIds, after, bound)))) return
      after = bound - 1
    }
    deps.subscribe(ws)
    ws.data.synced = true
    if (delivery.position >= bound) {
      // Only reached under sustained load: events published during the last read. One more read
      // after subscribing closes the gap; an event may then also arrive live, and clients drop a
      // repeated seq.
      bound = Math.max(bound, (await store.lastSeq()) + 1)
      if (!(await sendAll(await Backlog.since(store, userId, groupIds, after, bound)))) return
      after = bound - 1
    }
    // A resume point: every event of this user up to here was sent or had been delivered before.
    const upTo = Math.max(lastSent, after, delivery.position)
    confirmations.sentUpTo(ws, upTo)
    delivery.sendTo(ws, { type: 'synced', last_id: upTo, count })
  }
}
