// Metadata oracles: a message id a user may not see must answer exactly as an id that does not
// exist. Otherwise a read_receipt with a guessed sender_id tells who sent any message, and a
// group message's error names its group.
import { expect, test } from 'bun:test'
import { startServer } from '../helpers/server'
import { TestClient, type Frame } from '../helpers/ws-client'
import { call, mintToken, SECRET } from './fixtures'

/** An answer with its message id replaced, so answers about different ids can be compared. */
const withoutId = (answer: unknown, id: number) => JSON.stringify(answer).replace(new RegExp(`\\b${id}\\b`, 'g'), '<id>')

test('a message between two other users, direct or in their group, answers exactly like one that does not exist', async () => {
  await using server = await startServer({ config: { auth: 'jwt', jwtSecret: SECRET } })
  const [mallory, bob, carol] = await Promise.all(['1', '2', '3'].map((sub) => mintToken(SECRET, { sub })))
  // Ids well apart from the user ids, so that replacing an id in a text cannot touch a user id.
  for (let i = 0; i < 10; i++) expect((await call(server, 'POST', '/messages', mallory, { sender_id: 1, recipient_id: 2, message: `filler ${i}` })).status).toBe(201)
  const group = (await call(server, 'POST', '/groups', bob, { name: 'bob and carol', member_ids: [2, 3], created_by: 2 })).body.id
  const direct = (await call(server, 'POST', '/messages', bob, { sender_id: 2, recipient_id: 3, message: 'private' })).body.id
  const inGroup = (await call(server, 'POST', '/messages', bob, { sender_id: 2, group_id: group, message: 'private too' })).body.id
  const missing = 999_999
  const ids = [direct, inGroup, missing]

  for (const format of ['json', 'msgpack'] as const) {
    const ws = await TestClient.connect(server.wsUrl, `/ws/1?token=${mallory}`, { format })
    const answers = new Set<string>()
    for (const id of ids)
      for (const sender of [undefined, 1, 2, 3]) {
        ws.send({ type: 'read_receipt', message_id: id, ...(sender !== undefined && { sender_id: sender }), ref: 'r' })
        const answer: Frame = await ws.next('error')
        expect(answer).toMatchObject({ type: 'error', code: 'message_not_found', ref: 'r' })
        answers.add(withoutId(answer, id))
      }
    expect([...answers]).toHaveLength(1)
    expect([...answers][0]).not.toContain(String(group))
    ws.close()
  }

  const rest = new Set<string>()
  for (const id of ids)
    for (const query of ['', '?user_id=1']) {
      const res = await call(server, 'PUT', `/messages/${id}/read${query}`, mallory)
      expect(res.status).toBe(404)
      rest.add(withoutId(res.body, id))
    }
  expect([...rest]).toHaveLength(1)

  // Those who may see the message still get the precise answers.
  const carolWs = await TestClient.connect(server.wsUrl, `/ws/3?token=${carol}`)
  carolWs.send({ type: 'read_receipt', message_id: direct, sender_id: 1, ref: 'wrong sender' })
  expect(await carolWs.next('error')).toMatchObject({ code: 'invalid_frame', ref: 'wrong sender' })
  carolWs.send({ type: 'read_receipt', message_id: direct, sender_id: 2 })
  carolWs.send({ type: 'read_receipt', message_id: inGroup, sender_id: 2 })
  await Bun.sleep(100)
  expect(carolWs.frames.filter((f) => f.type === 'error')).toEqual([])
  expect((await server.store.getMessage(direct))?.status).toBe('read')
  const bobRead = await call(server, 'PUT', `/messages/${direct}/read`, bob)
  expect(bobRead).toMatchObject({ status: 403, body: { error: { code: 'not_recipient' } } })
  carolWs.close()
})
