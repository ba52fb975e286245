import { expect, test } from 'bun:test'
import { Packr } from 'msgpackr'
import { api, startServer, storedMessages } from '../helpers/server'
import { TestClient } from '../helpers/ws-client'

const packr = new Packr({ useRecords: false })

// Each bad frame gets an `error` frame with its code; the connection stays open and nothing is stored.
const cases: [string, string | Uint8Array | object, string][] = [
  ['unparseable JSON', '{"type": "message", ', 'invalid_json'],
  ['plain text', 'hello', 'invalid_json'],
  ['unparseable MessagePack', new Uint8Array([0xc1, 0xff, 0x00]), 'invalid_msgpack'],
  ['truncated MessagePack', packr.pack({ type: 'message', message: 'x'.repeat(50) }).subarray(0, 20), 'invalid_msgpack'],
  ['a JSON array', '[1,2,3]', 'invalid_frame'],
  ['a JSON number', '42', 'invalid_frame'],
  ['JSON null', 'null', 'invalid_frame'],
  ['no type', { recipient_id: 2, message: 'x' }, 'invalid_frame'],
  ['a numeric type', { type: 7 }, 'invalid_frame'],
  ['an unknown type', { type: 'launch_rockets' }, 'unknown_type'],
  ['a message with no text', { type: 'message', recipient_id: 2 }, 'invalid_frame'],
  ['a message with a numeric text', { type: 'message', recipient_id: 2, message: 5 }, 'invalid_frame'],
  ['a string recipient', { type: 'message', recipient_id: '2', message: 'x' }, 'invalid_frame'],
  ['a negative recipient', { type: 'message', recipient_id: -2, message: 'x' }, 'invalid_frame'],
  ['a fractional recipient', { type: 'message', recipient_id: 2.5, message: 'x' }, 'invalid_frame'],
  ['both recipient and group', { type: 'message', recipient_id: 2, group_id: 1, message: 'x' }, 'invalid_frame'],
  ['neither recipient nor group', { type: 'message', message: 'x' }, 'invalid_frame'],
  ['an unknown field', { type: 'message', recipient_id: 2, message: 'x', priority: 'urgent' }, 'invalid_frame'],
  ['an empty message', { type: 'message', recipient_id: 2, message: '' }, 'empty_message'],
  ['a white-space message', { type: 'message', recipient_id: 2, message: ' \n\t ' }, 'empty_message'],
  ['a too-long message', { type: 'message', recipient_id: 2, message: 'x'.repeat(4001) }, 'message_too_long'],
  ['an unknown recipient', { type: 'message', recipient_id: 404, message: 'x' }, 'unknown_recipient'],
  ['an unknown group', { type: 'message', group_id: 404, message: 'x' }, 'unknown_group'],
  ['a group the sender is not in', { type: 'message', group_id: 2, message: 'x' }, 'not_a_member'],
  ['a deeply nested field', { type: 'message', recipient_id: 2, message: JSON.parse('['.repeat(500) + ']'.repeat(500)) }, 'invalid_frame'],
  ['a too-long client_id', { type: 'message', recipient_id: 2, message: 'x', client_id: 'c'.repeat(65) }, 'invalid_frame'],
  ['typing without is_typing', { type: 'typing', recipient_id: 2 }, 'invalid_frame'],
  ['typing to an unknown user', { type: 'typing', recipient_id: 404, is_typing: true }, 'unknown_recipient'],
  ['a receipt for no message', { type: 'read_receipt', message_id: 999 }, 'message_not_found'],
  ['a receipt with a wrong id type', { type: 'read_receipt', message_id: 'one' }, 'invalid_frame'],
  ['a ping with an extra field', { type: 'ping', extra: 1 }, 'invalid_frame'],
]

test.each(cases)('%s → error %s… and the connection survives', async (_, frame, code) => {
  await using server = await startServer()
  await api(server, 'POST', '/groups', { name: 'not alice', member_ids: [2, 3] })
  const alice = await TestClient.connect(server.wsUrl, '/ws/1')
  const bob = await TestClient.connect(server.wsUrl, '/ws/2')
  if (typeof frame === 'string' || frame instanceof Uint8Array) alice.sendRaw(frame)
  else alice.send(frame)
  const error = await alice.next('error')
  expect(error.code).toBe(code)
  expect(error.message).toBeString()
  alice.send({ type: 'ping' })
  expect((await alice.next('pong')).type).toBe('pong')
  expect(await storedMessages(server.store)).toBe(0)
  expect(await bob.collect('message', 50)).toHaveLength(0)
  alice.close()
  bob.close()
})

test('an error names the frame’s ref (or client_id) so the client can match it', async () => {
  await using server = await startServer()
  const alice = await TestClient.connect(server.wsUrl, '/ws/1')
  alice.send({ type: 'message', recipient_id: 404, message: 'x', ref: 'r-1' })
  expect((await alice.next('error')).ref).toBe('r-1')
  alice.send({ type: 'message', recipient_id: 404, message: 'x', client_id: 'c-9' })
  expect((await alice.next('error')).ref).toBe('c-9')
  alice.close()
})

test('a frame larger than the limit closes the connection with 1009; others are unaffected', async () => {
  await using server = await startServer({ config: { maxFrameBytes: 4096 } })
  const alice = await TestClient.connect(server.wsUrl, '/ws/1')
  const bob = await TestClient.connect(server.wsUrl, '/ws/2')
  alice.sendRaw(JSON.stringify({ type: 'message', recipient_id: 2, message: 'x'.repeat(10_000) }))
  expect((await alice.waitClosed()).code).toBe(1009)
  bob.send({ type: 'ping' })
  expect((await bob.next('pong')).type).toBe('pong')
  bob.close()
})
