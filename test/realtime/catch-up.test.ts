import { describe, expect, test } from 'bun:test'
import { LocalBroker } from '../../src/broker/broker'
import { openSqliteStore } from '../../src/db/sqlite-store'
import type { EventDraft, NewMessage, Store } from '../../src/db/store'
import { directConv, groupConv } from '../../src/db/store'
import { createCatchUp } from '../../src/realtime/catch-up'
import { newConfirmState } from '../../src/realtime/confirmations'
import type { ConnState, Socket } from '../../src/realtime/connection'
import { LocalConnections } from '../../src/realtime/connections'
import { Delivery } from '../../src/realtime/delivery'
import { createLogger } from '../../src/observability/logger'

// The catch-up on its own, against a real store: a socket that records what it is sent, a hub
// without a server (nothing live), and the store's own stream.

const message = (senderId: number, to: { recipientId?: number; groupId?: number }, body: string): NewMessage => ({
  conv: to.groupId !== undefined ? groupConv(to.groupId) : directConv(senderId, to.recipientId!),
  senderId,
  recipientId: to.recipientId ?? null,
  groupId: to.groupId ?? null,
  body,
  messageType: 'text',
  clientId: null,
  status: 'sent',
  createdAt: Date.now(),
})

const status = (senderId: number, messageId: number): EventDraft => ({
  userId: senderId,
  groupId: null,
  frame: { type: 'message_status', message_id: messageId, status: 'read', user_id: 2, timestamp: '' },
})

async function world() {
  const store = openSqliteStore(':memory:')
  for (const name of ['alice', 'bob', 'carol']) await store.createUser({ username: name })
  const group = await store.createGroup({ name: 'g', createdBy: 1, memberIds: [1, 2, 3] })
  const connections = new LocalConnections()
  const broker = new LocalBroker()
  const delivery = new Delivery({ getServer: () => null, broker, store, connections, presence: broker.createPresence(connections), logger: createLogger('silent') })
  const subscribed: number[] = []
  const catchUp = createCatchUp({ store, delivery, subscribe: (ws) => subscribed.push(ws.data.userId), drained: async () => {}, pauseBytes: 1 << 20 })
  return { store, delivery, group, catchUp, subscribed }
}

/** A socket that keeps the frames it is sent, decoded. */
function socket(userId: number, since: number | undefined, groups: number[]) {
  const frames: Record<string, any>[] = []
  const data = { userId, format: 'json', since, groups: new Set(groups), synced: false, confirm: newConfirmState() } as unknown as ConnState
  const ws = {
    data,
    readyState: 1,
    send: (payload: string) => void frames.push(JSON.parse(payload)),
    getBufferedAmount: () => 0,
  } as unknown as Socket
  return { ws, frames }
}

const summary = (frames: Record<string, any>[]) => frames.map((f) => (f.type === 'message' ? `message ${f.seq} ${f.message}` : `${f.type} ${f.seq ?? f.last_id ?? ''}`.trim()))

describe('catch-up against a store', () => {
  test('with since: messages and the other events after it, in seq order, then synced at the end', async () => {
    const { store, catchUp, group, subscribed } = await world()
    const [m1, m2] = await store.insertMessages([message(1, { recipientId: 2 }, 'to bob'), message(2, { recipientId: 1 }, 'to alice')])
    await store.appendEvents([status(1, m1.message.id)])
    await store.insertMessages([message(3, { groupId: group.id }, 'group')])
    await store.appendEvents([status(3, 99), { userId: null, groupId: group.id, frame: { type: 'membership', group_id: group.id, user_id: 3, member: true, timestamp: '' } }])
    const { ws, frames } = socket(1, 0, [group.id])
    await catchUp(ws)
    expect(summary(frames)).toEqual(['message 1 to bob', 'message 2 to alice', 'message_status 3', 'message 4 group', 'membership 6', 'synced 6'])
    expect(frames[2]).toEqual({ type: 'message_status', seq: 3, message_id: m1.message.id, status: 'read', user_id: 2, timestamp: '' })
    expect(subscribed).toEqual([1])
    expect(ws.data.synced).toBe(true)
    // What this device may confirm: the messages to alice still `sent`, not her own.
    expect(ws.data.confirm.pending).toEqual([m2.message.id, 4])
    // From a later point, only what follows it.
    const later = socket(1, 3, [group.id])
    await catchUp(later.ws)
    expect(summary(later.frames)).toEqual(['message 4 group', 'membership 6', 'synced 6'])
  })

  test('without since: what no device confirmed, and no events', async () => {
    const { store, catchUp, group, delivery } = await world()
    const [waiting] = await store.insertMessages([message(1, { recipientId: 2 }, 'waiting')])
    await store.appendEvents([status(2, waiting.message.id)])
    await store.insertMessages([message(3, { groupId: group.id }, 'group')])
    // All of it was published before this connection opened (the hub's position says so).
    delivery.advance(await store.lastSeq())
    const { ws, frames } = socket(2, undefined, [group.id])
    await catchUp(ws)
    expect(summary(frames)).toEqual(['message 1 waiting', 'message 3 group', 'synced 3'])
    // The group's delivered mark rises only once the device confirms up to here.
    expect(ws.data.confirm.groupsUpTo).toBe(3)
    expect((await store.deliveredMarks(2)).get(group.id)).toBe(0)
  })

  test('a resume point older than the events kept: resync_required first, then the catch-up', async () => {
    const { store, catchUp } = await world()
    await store.insertMessages([message(1, { recipientId: 2 }, 'kept')])
    await store.appendEvents([status(2, 1)])
    await store.pruneEvents(Date.now() + 1)
    const { ws, frames } = socket(2, 0, [])
    await catchUp(ws)
    expect(summary(frames)).toEqual(['resync_required', 'message 1 kept', 'synced 2'])
    expect(frames[0]).toEqual({ type: 'resync_required', code: 'events_pruned', since: 0, oldest_seq: 2 })
  })

  test('an event committed while the backlog is read is sent once, before synced', async () => {
    const { store, catchUp, delivery } = await world()
    await store.insertMessages([message(1, { recipientId: 2 }, 'first')])
    const original = store.history.bind(store)
    let injected = false
    ;(store as Store).history = async (conv, page) => {
      const rows = await original(conv, page)
      if (!injected) {
        injected = true
        // Committed and published meanwhile: the live copy would not reach an unsubscribed socket.
        const [late] = await store.insertMessages([message(1, { recipientId: 2 }, 'during the read')])
        delivery.advance(late.message.id)
      }
      return rows
    }
    const { ws, frames } = socket(2, 0, [])
    await catchUp(ws)
    expect(summary(frames)).toEqual(['message 1 first', 'message 2 during the read', 'synced 2'])
  })
})
