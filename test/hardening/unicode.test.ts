// Text that is not well-formed Unicode. JSON's \u escapes can spell a lone surrogate (half of a
// UTF-16 pair); MessagePack and SQLite carry UTF-8, which cannot, so such a string used to be
// stored in another form than the one it arrived in: its resend was taken for a new client_id,
// and live JSON delivery differed from history. Every string field is made well-formed as it
// enters, each lone surrogate becoming U+FFFD, whatever the transport and the framing.
import { expect, test } from 'bun:test'
import { unpack } from '../../src/protocol/msgpack'
import { api, startServer, storedMessages } from '../helpers/server'
import { TestClient } from '../helpers/ws-client'

const LONE = '\ud800'
const REPLACED = '\ufffd'

test('a client_id with a lone surrogate, sent twice, is stored once: WebSocket in both framings, and REST', async () => {
  await using server = await startServer()
  const alice = await TestClient.connect(server.wsUrl, '/ws/1')
  const aliceBinary = await TestClient.connect(server.wsUrl, '/ws/1', { format: 'msgpack' })
  for (const [ws, clientId] of [[alice, `json-${LONE}`], [aliceBinary, `msgpack-${LONE}`]] as const) {
    const acks = []
    for (let i = 0; i < 2; i++) {
      ws.send({ type: 'message', recipient_id: 2, message: `attempt ${i}`, client_id: clientId })
      acks.push(await ws.next('message_sent'))
    }
    expect(acks.map((a) => a.duplicate)).toEqual([false, true])
    expect(acks[1].message_id).toBe(acks[0].message_id)
    // What the client is told is what is stored.
    expect(acks[0].client_id).toBe(clientId.replace(LONE, REPLACED))
    expect((await server.store.getMessage(acks[0].message_id))?.clientId).toBe(acks[0].client_id)
  }
  // A raw body, so that the escape reaches the server as it is.
  const body = `{"sender_id":1,"recipient_id":2,"message":"over REST","client_id":"rest-\\ud800"}`
  const first = await api(server, 'POST', '/messages', body)
  const again = await api(server, 'POST', '/messages', body)
  expect([first.status, again.status]).toEqual([201, 200])
  expect(again.body.id).toBe(first.body.id)
  expect(first.body.client_id).toBe(`rest-${REPLACED}`)
  expect(await storedMessages(server.store)).toBe(3)
  alice.close()
  aliceBinary.close()
})

test('a body with lone surrogates reads back the same live, in history and in the catch-up, in both framings', async () => {
  await using server = await startServer()
  const bobJson = await TestClient.connect(server.wsUrl, '/ws/2')
  const bobBinary = await TestClient.connect(server.wsUrl, '/ws/2', { format: 'msgpack' })
  const alice = await TestClient.connect(server.wsUrl, '/ws/1')
  const aliceBinary = await TestClient.connect(server.wsUrl, '/ws/1', { format: 'msgpack' })
  // A pair that is whole (an emoji) stays as it is.
  const text = (via: string) => `${via}: a${LONE}b\udc00c 😀`
  const expected = (via: string) => `${via}: a${REPLACED}b${REPLACED}c 😀`
  alice.send({ type: 'message', recipient_id: 2, message: text('json') })
  aliceBinary.send({ type: 'message', recipient_id: 2, message: text('msgpack') })
  await api(server, 'POST', '/messages', `{"sender_id":1,"recipient_id":2,"message":"rest: a\\ud800b\\udc00c 😀"}`)
  const sources = ['json', 'msgpack', 'rest']
  const live = async (ws: TestClient) => {
    const got = []
    for (let i = 0; i < sources.length; i++) got.push((await ws.next('message')).message)
    return got.sort()
  }
  const everywhere: Record<string, string[]> = {
    'live, JSON': await live(bobJson),
    'live, MessagePack': await live(bobBinary),
    history: (await api(server, 'GET', '/messages?user_id=2&other_user_id=1')).body.messages.map((m: any) => m.message).sort(),
  }
  for (const format of ['json', 'msgpack'] as const) {
    const resumed = await TestClient.connect(server.wsUrl, '/ws/2?since=0', { format, waitSynced: false })
    everywhere[`catch-up, ${format}`] = await live(resumed)
    resumed.close()
  }
  for (const [where, got] of Object.entries(everywhere)) expect({ where, got }).toEqual({ where, got: sources.map(expected).sort() })
  for (const ws of [bobJson, bobBinary, alice, aliceBinary]) ws.close()
})

test('names and refs: each lone surrogate becomes U+FFFD alike on REST, JSON and MessagePack', async () => {
  await using server = await startServer()
  const user = await api(server, 'POST', '/users', `{"username":"dave","display_name":"Dave \\ud83d"}`)
  expect(user.status).toBe(201)
  expect(user.body.display_name).toBe(`Dave ${REPLACED}`)
  expect((await api(server, 'GET', `/users/${user.body.id}`)).body.display_name).toBe(`Dave ${REPLACED}`)
  const group = await api(server, 'POST', '/groups', `{"name":"\\udc00 club","member_ids":[1,2]}`)
  expect(group.status).toBe(201)
  expect((await api(server, 'GET', `/groups/${group.body.id}`)).body.name).toBe(`${REPLACED} club`)
  // Usernames allow ASCII only: refused either way.
  expect((await api(server, 'POST', '/users', `{"username":"eve\\ud800"}`)).status).toBe(422)
  // A ref is echoed in an error frame as it is stored everywhere else.
  const refs = []
  for (const format of ['json', 'msgpack'] as const) {
    const ws = await TestClient.connect(server.wsUrl, '/ws/1', { format })
    ws.send({ type: 'message', recipient_id: 99, message: 'to nobody', ref: `r${LONE}` })
    refs.push((await ws.next('error')).ref)
    ws.close()
  }
  expect(refs).toEqual([`r${REPLACED}`, `r${REPLACED}`])
  // An encoder writes a lone surrogate as U+FFFD's bytes or as the surrogate's own three bytes
  // (msgpackr does both, depending on the string's length): one U+FFFD either way.
  for (const bytes of [[0xef, 0xbf, 0xbd], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf]])
    expect(unpack(new Uint8Array([0xa5, 0x61, ...bytes, 0x62]))).toBe(`a${REPLACED}b`)
  // Hangul shares the lead byte 0xED and is left alone.
  expect(unpack(new Uint8Array([0xa3, 0xed, 0x9e, 0xa3]))).toBe('\ud7a3')
})
