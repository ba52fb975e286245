import { nextTurn, type Store, type StoredMessage } from '../db/store'
import { messageFrame } from '../messages/views'
import { Backlog } from './backlog'
import type { Socket } from './connection'
import type { Delivery } from './delivery'

/** Messages sent between two turns of the event loop: a backlog never holds the server. */
export const CATCH_UP_CHUNK = 200
/**
 * Messages per page of a long backlog. After each page the client gets a `backlog_page` frame (a
 * resume point) and what the page delivered is recorded, so a connection that drops in the middle
 * of a large backlog resumes after the last page, and no statement grows with the backlog.
 */
export const CATCH_UP_PAGE = 1000
/** Catch-up rounds before it subscribes anyway and closes the last gap with one more query. */
const CATCH_UP_ROUNDS = 5

export interface CatchUpDeps {
  store: Store
  delivery: Delivery
  /** Tells senders that these messages, stored for `userId` while away, have now reached them. */
  reportDelivered(userId: number, sent: StoredMessage[]): Promise<void>
  /** Subscribes the socket to its topics: from then on it receives live traffic. */
  subscribe(ws: Socket): void
  /** Resolves once Bun has sent what is queued for the socket (or it closed). */
  drained(ws: Socket): Promise<void>
  /** Catch-up waits for the socket to drain beyond this many queued bytes. */
  pauseBytes: number
}

/**
 * Sends a connection its backlog in id order, paced, then subscribes it to its topics. Subscribing
 * only when no message was published during the last query means no message is missed and none
 * arrives twice (see docs/PROTOCOL.md).
 *
 * Without `since`, the first queries select by status (what was stored while the user was away).
 * A message published while they run may already be stored as delivered (this user is online
 * now) without having reached this socket, so every later query selects by id, from where
 * publication stood when catch-up began, skipping what was already sent.
 */
export function createCatchUp(deps: CatchUpDeps) {
  const { store, delivery } = deps

  return async function catchUp(ws: Socket): Promise<void> {
    const { userId, since } = ws.data
    // Runs at open, before the first await: from here other instances' events for this socket
    // reach this one (and advance publishedUpTo), so the backlog read below misses nothing.
    await delivery.watchSocket(ws.data)
    const groupIds = [...ws.data.groups]
    const startedAt = delivery.publishedUpTo
    let lastSent = since ?? 0
    let count = 0
    let pageCount = 0
    // Only ids published after the start can be met twice (once by status, once by id).
    const sentAfterStart = new Set<number>()
    let unreported: StoredMessage[] = []

    /** Records what the sent part of the backlog delivered; the page's end is a resume point. */
    const endPage = async (upTo: number) => {
      const page = unreported
      unreported = []
      pageCount = 0
      if (page.length) await deps.reportDelivered(userId, page)
      // Every group message up to here was sent: a reconnect without `since` starts after it.
      if (groupIds.length) await store.markGroupsDelivered(userId, upTo)
    }

    /** Sends a backlog to its end, paced; false when the socket closed meanwhile. */
    const sendAll = async (backlog: Backlog): Promise<boolean> => {
      for (;;) {
        const rows = await backlog.take(CATCH_UP_CHUNK)
        if (ws.readyState !== 1) return false
        for (const m of rows) {
          if (m.id > startedAt) {
            if (sentAfterStart.has(m.id)) continue
            sentAfterStart.add(m.id)
          }
          if (ws.getBufferedAmount() > deps.pauseBytes) {
            await deps.drained(ws)
            if (ws.readyState !== 1) return false
          }
          delivery.sendTo(ws, messageFrame(m))
          // Only what reaches the user for the first time: resuming with `since` re-sends group
          // messages that were delivered before, and those senders were told already.
          if ((m.groupId === null && m.status === 'sent') || (m.groupId !== null && since === undefined)) unreported.push(m)
          count++
          pageCount++
          if (m.id > lastSent) lastSent = m.id
        }
        if (pageCount >= CATCH_UP_PAGE) {
          await endPage(lastSent)
          delivery.sendTo(ws, { type: 'backlog_page', last_id: lastSent, count })
        }
        if (rows.length < CATCH_UP_CHUNK) return ws.readyState === 1
        await nextTurn()
        if (ws.readyState !== 1) return false
      }
    }

    // Every backlog reads only below a bound taken when it opens; what commits later is the next one's.
    let bound = (await store.maxMessageId()) + 1
    const first = since === undefined
      ? await Backlog.undelivered(store, userId, 0, bound)
      : await Backlog.since(store, userId, groupIds, since, bound)
    if (!(await sendAll(first))) return
    // Then by id: after the resume point, or (without one) everything published since catch-up
    // began, which may be stored as delivered without having reached this socket.
    let after = since === undefined ? startedAt : bound - 1
    for (let round = 0; ; round++) {
      if (after >= bound - 1 && delivery.publishedUpTo < bound) break
      if (round >= CATCH_UP_ROUNDS) break
      bound = (await store.maxMessageId()) + 1
      if (!(await sendAll(await Backlog.since(store, userId, groupIds, after, bound)))) return
      after = bound - 1
    }
    deps.subscribe(ws)
    ws.data.synced = true
    if (delivery.publishedUpTo >= bound) {
      // Only reached under sustained load: messages published during the last read. One more
      // read after subscribing closes the gap; a message may then also arrive live, and clients
      // drop a repeated id.
      bound = Math.max(bound, (await store.maxMessageId()) + 1)
      if (!(await sendAll(await Backlog.since(store, userId, groupIds, after, bound)))) return
      after = bound - 1
    }
    // A resume point: every message of this user up to here was sent or had been delivered before.
    const upTo = Math.max(lastSent, after, delivery.publishedUpTo)
    delivery.sendTo(ws, { type: 'synced', last_id: upTo, count })
    await endPage(upTo)
  }
}
