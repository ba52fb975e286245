// MAX_MESSAGE_LENGTH counts characters as Unicode code points, on REST, on the WebSocket and in
// the client library: an emoji outside the Basic Multilingual Plane is one character, although
// JavaScript's `length` (UTF-16 code units) counts it as two.
import { describe, expect, test } from 'bun:test'
import { SwitchboardClient } from '../../src/client'
import { api, startServer, storedMessages } from '../helpers/server'
import { TestClient } from '../helpers/ws-client'

const EMOJI = '😀' // U+1F600: one code point, two UTF-16 code units
const LIMIT = 4000

describe('the message length limit counts code points', () => {
  test.each([
    ['4000 emoji', EMOJI.repeat(LIMIT), true],
    ['4001 emoji', EMOJI.repeat(LIMIT + 1), false],
    ['3999 emoji and one letter', EMOJI.repeat(LIMIT - 1) + 'a', true],
    ['4000 letters', 'a'.repeat(LIMIT), true],
    ['4001 letters', 'a'.repeat(LIMIT + 1), false],
    ['2000 letters with a combining accent each (4000 code points)', 'e\u0301'.repeat(LIMIT / 2), true],
    ['2001 letters with a combining accent each (4002 code points)', 'e\u0301'.repeat(LIMIT / 2 + 1), false],
  ])('%s over REST and the WebSocket', async (_name, text, accepted) => {
    await using server = await startServer()
    const rest = await api(server, 'POST', '/messages', { sender_id: 1, recipient_id: 2, message: text })
    const alice = await TestClient.connect(server.wsUrl, '/ws/1')
    alice.send({ type: 'message', recipient_id: 2, message: text, ref: 'long' })
    if (accepted) {
      expect(rest.status).toBe(201)
      expect(rest.body.message).toBe(text)
      expect((await alice.next('message_sent')).message_id).toBeGreaterThan(rest.body.id)
    } else {
      expect(rest.status).toBe(413)
      expect(rest.body.error).toEqual({ code: 'message_too_long', message: `message is longer than ${LIMIT} characters (Unicode code points)` })
      expect(await alice.next('error')).toMatchObject({ code: 'message_too_long', message: `message is longer than ${LIMIT} characters (Unicode code points)`, ref: 'long' })
      expect(await storedMessages(server.store)).toBe(0)
    }
    alice.close()
  })

  test('the client library sends what the server accepts and refuses what it refuses, counting alike', async () => {
    await using server = await startServer()
    const client = new SwitchboardClient({ url: server.url, userId: 1 })
    await client.connect()
    const sent = await client.send({ recipient_id: 2 }, EMOJI.repeat(LIMIT))
    expect(sent.message_id).toBe(1)
    await expect(client.send({ recipient_id: 2 }, EMOJI.repeat(LIMIT + 1))).rejects.toMatchObject({ code: 'message_too_long' })
    client.close()
  })
})
