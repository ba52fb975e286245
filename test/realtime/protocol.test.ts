import { describe, expect, test } from 'bun:test'
import type { ServerFrame } from '../../src/protocol/frames'
import { api, startServer } from '../helpers/server'
import { TestClient } from '../helpers/ws-client'
import { direct } from '../store/contract'

const FORMATS = ['json', 'msgpack'] as const

/** Every frame type the server sends (a Record, so tsc fails here when the protocol gains one). */
const SERVER_FRAME_TYPES = Object.keys({
  connection_established: 0, synced: 0, message: 0, message_sent: 0, message_status: 0, typing: 0,
  read_receipt: 0, presence: 0, pong: 0, error: 0, backlog_page: 0, membership: 0, resync_required: 0,
  message_edited: 0, message_deleted: 0, reaction_added: 0, reaction_removed: 0,
} satisfies Record<ServerFrame['type'], 0>)

/** Client frames and the error code each must be answered with. */
const REFUSED: [code: string, frame: string | Uint8Array | Record<string, unknown>][] = [
  ['invalid_json', '{"type":'],
  ['invalid_msgpack', new Uint8Array([0xc1])],
  ['invalid_frame', { type: 'message', recipient_id: 2 }],
  ['unknown_type', { type: 'shout' }],
  ['empty_message', { type: 'message', recipient_id: 2, message: '   ' }],
  ['message_too_long', { type: 'message', recipient_id: 2, message: 'x'.repeat(4001) }],
  ['unknown_recipient', { type: 'message', recipient_id: 99, message: 'anyone?' }],
  ['unknown_group', { type: 'message', group_id: 42, message: 'anyone?' }],
  ['not_a_member', { type: 'message', group_id: 2, message: 'let me in' }],
  ['message_not_found', { type: 'read_receipt', message_id: 99_999 }],
]

describe.each(FORMATS)('every frame type over %s', (format) => {
  test('connection_established, message/message_sent, typing, read_receipt/message_status, ping/pong', async () => {
    await using server = await startServer()
    const alice = await TestClient.connect(server.wsUrl, '/ws/1', { format, waitSynced: false })
    expect(alice.format).toBe(format)
    const bob = await TestClient.connect(server.wsUrl, '/ws/2', { format })
    const synced = await alice.next('synced')
    expect(synced).toEqual({ type: 'synced', last_id: 0, count: 0 })

    alice.send({ type: 'message', recipient_id: 2, message: 'Hello!', message_type: 'text', client_id: 'c1', timestamp: new Date().toISOString() })
    const got = await bob.next('message')
    expect(got).toEqual({
      type: 'message',
      seq: got.id,
      id: got.id,
      sender_id: 1,
      recipient_id: 2,
      message: 'Hello!',
      message_type: 'text',
      status: 'delivered',
      client_id: 'c1',
      timestamp: expect.any(String),
    })
    expect(await alice.next('message_sent')).toEqual({
      type: 'message_sent',
      message_id: got.id,
      client_id: 'c1',
      status: 'sent',
      timestamp: got.timestamp,
      duplicate: false,
    })
    // Bob's socket answered the ping that followed the message: his device has it.
    expect(await alice.next('message_status')).toEqual({
      type: 'message_status',
      seq: got.id + 1,
      message_id: got.id,
      status: 'delivered',
      user_id: 2,
      timestamp: expect.any(String),
    })

    alice.send({ type: 'typing', recipient_id: 2, is_typing: true, timestamp: new Date().toISOString() })
    expect(await bob.next('typing')).toMatchObject({ sender_id: 1, recipient_id: 2, is_typing: true })
    alice.send({ type: 'typing', recipient_id: 2, is_typing: false })
    expect(await bob.next('typing')).toMatchObject({ sender_id: 1, is_typing: false })

    bob.send({ type: 'read_receipt', message_id: got.id, sender_id: 1, timestamp: new Date().toISOString() })
    expect(await alice.next('read_receipt')).toMatchObject({ seq: got.id + 2, message_id: got.id, sender_id: 1, reader_id: 2 })
    expect(await alice.next('message_status')).toMatchObject({ seq: got.id + 3, message_id: got.id, status: 'read', user_id: 2 })

    alice.send({ type: 'ping', timestamp: new Date().toISOString() })
    expect((await alice.next('pong')).timestamp).toBeString()
    alice.close()
    bob.close()
  })

  // docs/PROTOCOL.md: "JSON connections use text frames; MessagePack connections use binary
  // frames", whatever the frame, errors included. A frame in the other framing is also a protocol
  // violation for TestClient, which rejects what the test awaits.
  test(`every server frame type, errors and rate_limited included, arrives as ${format === 'json' ? 'text' : 'binary'}`, async () => {
    await using server = await startServer({ config: { rateLimit: true } })
    await api(server, 'POST', '/groups', { name: 'without alice', member_ids: [2, 3] })
    // A backlog longer than a page, so that alice's catch-up sends a backlog_page too.
    await server.store.insertMessages(Array.from({ length: 1001 }, (_, i) => direct(3, 1, `waiting ${i}`)))
    // Events older than the retention are gone: resuming from before them is a resync_required.
    await server.store.pruneEvents(Date.now() + 1)
    const alice = await TestClient.connect(server.wsUrl, '/ws/1?presence=1&since=0', { format })
    const bob = await TestClient.connect(server.wsUrl, '/ws/2')
    expect(await alice.next((f) => f.type === 'presence' && f.user_id === 2)).toMatchObject({ online: true })

    bob.send({ type: 'message', recipient_id: 1, message: 'to alice' })
    expect(await alice.next((f) => f.type === 'message' && f.message === 'to alice')).toMatchObject({ sender_id: 2 })
    bob.send({ type: 'typing', recipient_id: 1, is_typing: true })
    expect(await alice.next('typing')).toMatchObject({ sender_id: 2, is_typing: true })
    alice.send({ type: 'message', recipient_id: 2, message: 'to bob' })
    const sent = await alice.next('message_sent')
    bob.send({ type: 'read_receipt', message_id: sent.message_id })
    expect(await alice.next('read_receipt')).toMatchObject({ message_id: sent.message_id, reader_id: 2 })
    expect(await alice.next('message_status')).toMatchObject({ message_id: sent.message_id, status: 'read' })
    alice.send({ type: 'ping' })
    await alice.next('pong')
    alice.send({ type: 'edit_message', message_id: sent.message_id, message: 'to bob, edited' })
    await alice.next('message_edited')
    bob.send({ type: 'add_reaction', message_id: sent.message_id, emoji: '👍' })
    await alice.next('reaction_added')
    bob.send({ type: 'remove_reaction', message_id: sent.message_id, emoji: '👍' })
    await alice.next('reaction_removed')
    alice.send({ type: 'delete_message', message_id: sent.message_id })
    await alice.next('message_deleted')
    // Not the group REFUSED names as alice's not_a_member.
    const joined = await api(server, 'POST', '/groups', { name: 'alice joins later', member_ids: [2, 3] })
    await api(server, 'POST', `/groups/${joined.body.id}/members`, { user_id: 1 })
    expect(await alice.next('membership')).toMatchObject({ group_id: joined.body.id, user_id: 1, member: true })

    for (const [code, frame] of REFUSED) {
      if (typeof frame === 'string' || frame instanceof Uint8Array) alice.sendRaw(frame)
      else alice.send({ ...frame, ref: code })
      expect(await alice.next('error')).toMatchObject({ code })
    }
    // More messages at once than the burst allows (30 by default; fewer than FLOOD_CLOSE_AFTER refused).
    for (let i = 0; i < 40; i++) alice.send({ type: 'message', recipient_id: 2, message: `burst ${i}`, ref: `b-${i}` })
    expect(await alice.next('error')).toMatchObject({ code: 'rate_limited', retry_after: expect.any(Number) })

    expect(alice.violations).toEqual([])
    expect([...alice.typesReceived].sort()).toEqual(SERVER_FRAME_TYPES.sort())
    alice.close()
    bob.close()
  })
})

test('a JSON user and a MessagePack user talk to each other, frames in their own format', async () => {
  await using server = await startServer()
  const json = await TestClient.connect(server.wsUrl, '/ws/1')
  const packed = await TestClient.connect(server.wsUrl, '/ws/2', { format: 'msgpack' })
  let binary = 0
  packed.ws.addEventListener('message', (e) => (binary += typeof e.data === 'string' ? 0 : 1))
  json.send({ type: 'message', recipient_id: 2, message: 'from json' })
  expect(await packed.next('message')).toMatchObject({ message: 'from json', sender_id: 1 })
  packed.send({ type: 'message', recipient_id: 1, message: 'from msgpack ✓ é 🎉' })
  expect(await json.next('message')).toMatchObject({ message: 'from msgpack ✓ é 🎉', sender_id: 2 })
  expect(binary).toBeGreaterThan(0)
  json.close()
  packed.close()
})

test('the subprotocol chooses the format and is echoed', async () => {
  await using server = await startServer()
  const packed = await TestClient.connect(server.wsUrl, '/ws/1', { protocols: ['msgpack'] })
  expect(packed.ws.protocol).toBe('msgpack')
  packed.send({ type: 'ping' })
  expect((await packed.next('pong')).type).toBe('pong')
  const json = await TestClient.connect(server.wsUrl, '/ws/2', { protocols: ['json'] })
  expect(json.ws.protocol).toBe('json')
  packed.close()
  json.close()
})

describe('upgrade refusals', () => {
  test.each([
    ['/ws/99', 404, 'unknown_user'],
    ['/ws/abc', 422, 'validation_failed'],
    ['/ws/1?format=xml', 422, 'invalid_format'],
    ['/ws/1?since=-1', 422, 'validation_failed'],
  ])('%s is refused with %d before the upgrade', async (path, status, code) => {
    await using server = await startServer()
    const res = await fetch(server.url + path, { headers: { upgrade: 'websocket', connection: 'upgrade', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } })
    expect(res.status).toBe(status)
    expect((await res.json()).error.code).toBe(code)
  })

  test('a WebSocket to an unknown user fails to open', async () => {
    await using server = await startServer()
    await expect(TestClient.connect(server.wsUrl, '/ws/99')).rejects.toThrow()
  })

  test('a plain GET is told to upgrade', async () => {
    await using server = await startServer()
    expect((await api(server, 'GET', '/ws/1')).status).toBe(426)
  })
})

test('the seed’s JavaScript client example works as written', async () => {
  await using server = await startServer()
  const bob = await TestClient.connect(server.wsUrl, '/ws/2')
  const received: any[] = []
  const console = { log: (_label: string, data: any) => received.push(data) }
  // The seed's README example, verbatim but for the port.
  const ws = new WebSocket(`ws://localhost:${server.port}/ws/1`)
  await new Promise((r) => (ws.onopen = r))

  // Send a message
  ws.send(JSON.stringify({
      type: 'message',
      recipient_id: 2,
      message: 'Hello!',
      message_type: 'text',
      timestamp: new Date().toISOString()
  }));

  // Send typing indicator
  ws.send(JSON.stringify({
      type: 'typing',
      recipient_id: 2,
      is_typing: true,
      timestamp: new Date().toISOString()
  }));

  // Listen for messages
  ws.onmessage = function(event) {
      const data = JSON.parse(event.data);
      console.log('Received:', data);
  };

  expect(await bob.next('message')).toMatchObject({ sender_id: 1, message: 'Hello!' })
  expect(await bob.next('typing')).toMatchObject({ sender_id: 1, is_typing: true })
  await Bun.sleep(100)
  expect(received.map((f) => f.type)).toContain('message_sent')
  expect(received.filter((f) => f.type === 'error')).toEqual([])
  ws.close()
  bob.close()
})
