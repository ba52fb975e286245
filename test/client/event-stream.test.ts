import { describe, expect, test } from 'bun:test'
import { SwitchboardClient, type ClientOptions, type IncomingMessage, type MembershipChange, type MessageStatusChange, type ReadReceipt, type ResyncRequired } from '../../src/client'
import { fastTimers, waitFor } from './helpers'
import { frames, streamServer } from './stream-server'

/** A client that records every event from before its first connection, connected and synced. */
async function recordingClient(url: string, options: Partial<ClientOptions> = {}) {
  const client = new SwitchboardClient({ url, userId: 1, ...fastTimers, ...options })
  const got = {
    messages: [] as IncomingMessage[],
    statuses: [] as MessageStatusChange[],
    receipts: [] as ReadReceipt[],
    memberships: [] as MembershipChange[],
    resyncs: [] as ResyncRequired[],
  }
  client.on('message', (m) => got.messages.push(m))
  client.on('message_status', (s) => got.statuses.push(s))
  client.on('read_receipt', (r) => got.receipts.push(r))
  client.on('membership', (m) => got.memberships.push(m))
  client.on('resync_required', (r) => got.resyncs.push(r))
  await client.connect()
  return Object.assign(client, { got, [Symbol.dispose]: () => client.close() })
}

// The client side of the event stream (issue 14, docs/CLIENT.md "Resume"): one sequence for
// messages and status events, resumed with since=<highest seq>, each event handed over once.
describe('client library on the event stream', () => {
  test('a replayed message_status, read_receipt or membership seq is emitted once, also across a reconnect', async () => {
    using server = streamServer(({ index }) =>
      index === 0
        ? [frames.message(4), frames.status(5, 4), frames.receipt(6, 4), frames.membership(7, 3, true), frames.status(5, 4), frames.synced(7, 1)]
        : // The device died before confirming: the server sends message 4 and events 5–7 again.
          [frames.message(4), frames.status(5, 4), frames.receipt(6, 4), frames.membership(7, 3, true), frames.status(8, 4, 'read'), frames.synced(8, 1)],
    )
    using client = await recordingClient(server.url)
    server.send(frames.receipt(6, 4)) // live, a repeat too
    server.drop()
    await waitFor('the second connection is synced', () => server.connections.length === 2 && client.resumePoint === 8)
    await Bun.sleep(50) // a late repeat would show up here

    const { messages, statuses, receipts, memberships } = client.got
    expect(messages.map((m) => m.id)).toEqual([4])
    expect(statuses.map((s) => [s.seq, s.status])).toEqual([
      [5, 'delivered'],
      [8, 'read'],
    ])
    expect(receipts.map((r) => r.seq)).toEqual([6])
    expect(memberships.map((m) => [m.seq, m.group_id, m.member])).toEqual([[7, 3, true]])
  })

  test('each new event seq reaches the application, in the order it came', async () => {
    using server = streamServer(() => [frames.synced(3)])
    using client = await recordingClient(server.url)
    const order: string[] = []
    client.on('message_status', (s) => order.push(`status ${s.seq}`))
    client.on('read_receipt', (r) => order.push(`receipt ${r.seq}`))
    client.on('membership', (m) => order.push(`membership ${m.seq} ${m.member ? 'added' : 'removed'}`))
    server.send(frames.status(4, 2), frames.receipt(5, 2), frames.membership(6, 9, true), frames.membership(7, 9, false), frames.status(5, 2))
    await waitFor('four events', () => order.length === 4)
    await Bun.sleep(50)
    expect(order).toEqual(['status 4', 'receipt 5', 'membership 6 added', 'membership 7 removed'])
  })

  test('a reconnect sends since=<the highest seq seen>, a status event’s included, and a resent older message does not move it back', async () => {
    using server = streamServer(({ index }) =>
      index === 0 ? [frames.message(4), frames.synced(4, 1)]
      : index === 1 ? [frames.status(9, 4), frames.backlogPage(12), frames.message(2, 'resent: never reached this device'), frames.synced(12, 1)]
      : [frames.synced(12)],
    )
    using client = await recordingClient(server.url)
    expect(client.resumePoint).toBe(4)
    // Live events after the message: a status change has a higher seq than any message seen.
    server.send(frames.status(7, 4), frames.receipt(9, 4))
    await waitFor('resume point at the receipt', () => client.resumePoint === 9)
    server.drop()
    await waitFor('second connection synced', () => server.connections.length === 2 && client.resumePoint === 12)
    server.drop()
    await waitFor('third connection', () => server.connections.length === 3 && client.state === 'open')

    expect(server.connections.map((c) => c.since)).toEqual([undefined, 9, 12])
    // The resent message was never handed over, so it is (once); the replayed seq 9 is not.
    expect(client.got.messages.map((m) => m.id)).toEqual([4, 2])
    expect(client.got.statuses.map((s) => s.seq)).toEqual([7])
    expect(client.got.receipts.map((r) => r.seq)).toEqual([9])
  })

  test('resync_required is emitted with the server’s frame, and the catch-up still delivers every message', async () => {
    const resync = { type: 'resync_required', code: 'events_pruned', since: 1, oldest_seq: 50 }
    using server = streamServer(() => [resync, frames.message(60), frames.status(61, 60), frames.synced(61, 1)])
    using client = await recordingClient(server.url, { since: 1 })
    expect(server.connections[0].since).toBe(1)
    expect(client.got.resyncs).toEqual([resync as ResyncRequired])
    expect(client.got.messages.map((m) => m.id)).toEqual([60])
    expect(client.got.statuses.map((s) => s.seq)).toEqual([61])
    expect(client.resumePoint).toBe(61)
    expect(client.state).toBe('open')
  })
})
