import { describe, expect, test } from 'bun:test'
import type { ServerWebSocket } from 'bun'
import { SwitchboardClient, SwitchboardError, type ServerError, type TypingEvent } from '../../src/client'
import { packr } from '../../src/protocol/msgpack'
import { api, startServer } from '../helpers/server'
import { TestClient } from '../helpers/ws-client'
import { connectClient, waitFor } from './helpers'

describe('client library against a real server', () => {
  test('two users exchange messages both ways; send resolves once stored', async () => {
    await using server = await startServer()
    using alice = await connectClient(server.url, 1)
    using bob = await connectClient(server.url, 2)

    const sent = await alice.send({ recipient_id: 2 }, 'Hello Bob')
    // Stored: `sent`; `delivered` follows once bob's device confirms it.
    expect(sent).toMatchObject({ status: 'sent', duplicate: false })
    await waitFor('bob gets it', () => bob.received.length === 1)
    expect(bob.received[0]).toMatchObject({ id: sent.message_id, sender_id: 1, recipient_id: 2, message: 'Hello Bob', client_id: sent.client_id })

    const reply = await bob.send({ recipient_id: 1 }, 'Hi Alice')
    await waitFor('alice gets the reply', () => alice.received.length === 1)
    expect(alice.received[0]).toMatchObject({ id: reply.message_id, sender_id: 2, message: 'Hi Alice' })
    // The sender's own connection is not handed its own message back.
    expect(alice.received.map((m) => m.sender_id)).toEqual([2])
  })

  test('a MessagePack client and a JSON client talk, group messages included', async () => {
    await using server = await startServer()
    using alice = await connectClient(server.url, 1, { format: 'msgpack' })
    using bob = await connectClient(server.url, 2, { format: 'json' })
    using carol = await connectClient(server.url, 3, { format: 'msgpack' })
    await alice.send({ recipient_id: 2 }, 'packed → json')
    await bob.send({ group_id: 1 }, 'json → group')
    await waitFor('deliveries', () => bob.received.length === 1 && alice.received.length === 1 && carol.received.length === 1)
    expect(bob.received[0].message).toBe('packed → json')
    expect(alice.received[0]).toMatchObject({ group_id: 1, sender_id: 2, message: 'json → group' })
    expect(carol.received[0]).toMatchObject({ group_id: 1, sender_id: 2, message: 'json → group' })
  })

  test('a refused send rejects with the server error code; bad input is refused before the wire', async () => {
    await using server = await startServer()
    using alice = await connectClient(server.url, 1)
    const errors: string[] = []
    alice.on('error', (e) => errors.push(e.code))
    await expect(alice.send({ recipient_id: 99 }, 'anyone?')).rejects.toMatchObject({ code: 'unknown_recipient' })
    await expect(alice.send({ group_id: 42 }, 'hi')).rejects.toMatchObject({ code: 'unknown_group' })
    await expect(alice.send({ recipient_id: 2 }, '   ')).rejects.toBeInstanceOf(SwitchboardError)
    await expect(alice.send({ recipient_id: 2, group_id: 1 } as any, 'both')).rejects.toMatchObject({ code: 'invalid_target' })
    await expect(alice.send({ recipient_id: 2 }, 'x'.repeat(4001))).rejects.toMatchObject({ code: 'message_too_long' })
    expect(alice.unconfirmed).toBe(0)
    // Errors that belong to a send go to its promise, not to the error event.
    expect(errors).toEqual([])
    // An error not tied to a send (reading a message that is not ours) reaches the error event.
    alice.markRead(12345)
    await waitFor('error event', () => errors.length === 1)
    expect(errors).toEqual(['message_not_found'])
  })

  test('typing is debounced: one start for many keystrokes, a stop after silence', async () => {
    await using server = await startServer()
    using alice = await connectClient(server.url, 1, { typing: { idleMs: 150, refreshMs: 10_000, remoteExpiryMs: 5000 } })
    const bob = await TestClient.connect(server.wsUrl, '/ws/2')
    for (let i = 0; i < 20; i++) alice.typing({ recipient_id: 2 })
    expect(await bob.next('typing')).toMatchObject({ sender_id: 1, recipient_id: 2, is_typing: true })
    expect(await bob.next('typing')).toMatchObject({ sender_id: 1, is_typing: false })
    expect(await bob.collect('typing', 100)).toEqual([])

    // Sending ends typing at once.
    alice.typing({ recipient_id: 2 })
    await alice.send({ recipient_id: 2 }, 'done typing')
    const frames = [await bob.next('typing'), await bob.next('typing')]
    expect(frames.map((f) => f.is_typing)).toEqual([true, false])
    bob.close()
  })

  test('a remote typing indicator that is never stopped expires', async () => {
    await using server = await startServer()
    using alice = await connectClient(server.url, 1, { typing: { remoteExpiryMs: 150 } })
    const events: TypingEvent[] = []
    alice.on('typing', (e) => events.push(e))
    const bob = await TestClient.connect(server.wsUrl, '/ws/2')
    bob.send({ type: 'typing', recipient_id: 1, is_typing: true })
    await waitFor('start and expiry', () => events.length === 2)
    expect(events.map((e) => [e.sender_id, e.is_typing, e.expired ?? false])).toEqual([
      [2, true, false],
      [2, false, true],
    ])
    // A message from the typist ends the indicator too.
    // The typist's own other device is not "someone typing".
    const otherDevice = await TestClient.connect(server.wsUrl, '/ws/1')
    otherDevice.send({ type: 'typing', group_id: 1, is_typing: true })
    otherDevice.send({ type: 'ping' })
    await otherDevice.next('pong')
    await Bun.sleep(50)
    expect(events.length).toBe(2)
    otherDevice.close()
    bob.send({ type: 'typing', recipient_id: 1, is_typing: true })
    bob.send({ type: 'message', recipient_id: 1, message: 'there' })
    await waitFor('message', () => alice.received.length === 1)
    await waitFor('indicator ended', () => events.length === 4)
    expect(events[3]).toMatchObject({ sender_id: 2, is_typing: false })
    bob.close()
  })

  test('markRead reaches the sender as read_receipt and message_status', async () => {
    await using server = await startServer()
    using alice = await connectClient(server.url, 1)
    using bob = await connectClient(server.url, 2)
    const sent = await alice.send({ recipient_id: 2 }, 'read me')
    const receipt = alice.once('read_receipt')
    const status = alice.once('message_status', (s) => s.status === 'read')
    await waitFor('delivery', () => bob.received.length === 1)
    bob.markRead(bob.received[0].id)
    expect(await receipt).toMatchObject({ message_id: sent.message_id, reader_id: 2 })
    expect(await status).toMatchObject({ message_id: sent.message_id, user_id: 2 })
    const row = await server.store.getMessage(sent.message_id)
    expect(row?.status).toBe('read')
  })

  test('ping resolves with a round trip; presence keeps the online list', async () => {
    await using server = await startServer()
    using bob = await connectClient(server.url, 2)
    using alice = await connectClient(server.url, 1, { presence: true })
    expect(await alice.ping()).toBeGreaterThanOrEqual(0)
    await waitFor('online list seeded', () => alice.onlineUsers.join() === '1,2')
    const carol = await connectClient(server.url, 3)
    await waitFor('carol online', () => alice.onlineUsers.join() === '1,2,3')
    carol.close()
    bob.close()
    await waitFor('bob and carol offline', () => alice.onlineUsers.join() === '1')
    expect((await api(server, 'GET', '/ws/online-users')).body.online_users).toEqual([1])
  })

  test('the token, format, presence and resume point go in the URL', async () => {
    const urls: string[] = []
    class RecordingSocket extends WebSocket {
      constructor(url: string | URL) {
        urls.push(String(url))
        super(url)
      }
    }
    // Only the URL is checked: whether the server accepts a token is the auth layer's business.
    await using server = await startServer()
    const client = new SwitchboardClient({ url: server.url, userId: 1, token: 'abc.def', format: 'msgpack', presence: true, since: 7, WebSocket: RecordingSocket as typeof WebSocket })
    void client.connect().catch(() => {})
    await waitFor('the socket is opened', () => urls.length === 1)
    client.close()
    expect(urls).toEqual([`ws://127.0.0.1:${server.port}/ws/1?format=msgpack&since=7&presence=1&token=abc.def`])
  })
})

/**
 * A server that speaks the protocol by hand, to send what Switchboard must not: frames in the
 * other framing than the connection's (docs/PROTOCOL.md: text for JSON, binary for MessagePack).
 */
function handWrittenServer(format: 'json' | 'msgpack') {
  const encode = (frame: object, framing: 'json' | 'msgpack') => (framing === 'json' ? JSON.stringify(frame) : packr.pack(frame))
  let peer: ServerWebSocket<unknown> | undefined
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: (request, srv) => (srv.upgrade(request) ? undefined : new Response('upgrade', { status: 426 })),
    websocket: {
      open(ws) {
        peer = ws
        const timestamp = new Date().toISOString()
        ws.send(encode({ type: 'connection_established', user_id: 1, timestamp, format, groups: [], max_message_length: 4000 }, format))
        ws.send(encode({ type: 'synced', last_id: 0, count: 0 }, format))
      },
      // The heartbeat's pings: answered, so the connection stays up however slow the test.
      message: (ws) => void ws.send(encode({ type: 'pong', timestamp: new Date().toISOString() }, format)),
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    /** Sends `frame` to the connected client, in its own framing or in the other one. */
    send(frame: object, framing: 'json' | 'msgpack') {
      peer!.send(encode(frame, framing))
    },
    [Symbol.dispose]: () => void server.stop(true),
  }
}

describe.each(['json', 'msgpack'] as const)('client library on a %s connection', (format) => {
  test('a frame in the other framing is a protocol_error for the application, and is dropped', async () => {
    using server = handWrittenServer(format)
    using client = await connectClient(server.url, 1, { format })
    const errors: ServerError[] = []
    client.on('error', (e) => errors.push(e))
    const other = format === 'json' ? 'msgpack' : 'json'
    const message = (id: number) => ({ type: 'message', id, sender_id: 2, recipient_id: 1, message: `m${id}`, message_type: 'text', status: 'delivered', client_id: null, timestamp: new Date().toISOString() })
    server.send(message(5), other)
    server.send({ type: 'error', code: 'unknown_recipient', message: 'user 99 does not exist', ref: null }, other)
    server.send(message(6), format)
    await waitFor('the frame in the right framing', () => client.received.some((m) => m.id === 6))
    expect(client.received.map((m) => m.id)).toEqual([6])
    const wrong = format === 'json' ? 'a binary frame on a JSON connection' : 'a text frame on a MessagePack connection'
    expect(errors).toEqual([
      { type: 'error', code: 'protocol_error', message: `${wrong}: dropped`, ref: null },
      { type: 'error', code: 'protocol_error', message: `${wrong}: dropped`, ref: null },
    ])
    expect(client.state).toBe('open')
  })
})
