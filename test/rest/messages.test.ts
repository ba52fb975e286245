import { describe, expect, test } from 'bun:test'
import { api, eventually, startServer, storedMessages } from '../helpers/server'
import { TestClient } from '../helpers/ws-client'

const send = (server: { url: string }, body: Record<string, unknown>) => api(server, 'POST', '/messages/', body)

describe('POST /messages/', () => {
  test('stores a direct message and delivers it live like a WebSocket-sent one', async () => {
    await using server = await startServer()
    const bob = await TestClient.connect(server.wsUrl, '/ws/2')
    const res = await send(server, { sender_id: 1, recipient_id: 2, message: 'via REST', client_id: 'r1' })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ sender_id: 1, recipient_id: 2, message: 'via REST', message_type: 'text', status: 'sent', client_id: 'r1' })
    const live = await bob.next('message')
    expect(live).toMatchObject({ id: res.body.id, sender_id: 1, recipient_id: 2, message: 'via REST', status: 'delivered' })
    // Delivered once bob's device confirmed it.
    await eventually(async () => expect((await server.store.getMessage(res.body.id))?.status).toBe('delivered'))
    bob.close()
  })

  test('a group message reaches every member and the sender’s own connections', async () => {
    await using server = await startServer()
    const alice = await TestClient.connect(server.wsUrl, '/ws/1')
    const carol = await TestClient.connect(server.wsUrl, '/ws/3', { format: 'msgpack' })
    const res = await send(server, { sender_id: 2, group_id: 1, message: 'hi group' })
    expect(res.status).toBe(201)
    expect(res.body.group_id).toBe(1)
    expect(res.body.recipient_id).toBeUndefined()
    for (const c of [alice, carol]) expect(await c.next('message')).toMatchObject({ id: res.body.id, group_id: 1, sender_id: 2 })
    alice.close()
    carol.close()
  })

  test('a repeated client_id returns the original with 200 and is stored once', async () => {
    await using server = await startServer()
    const first = await send(server, { sender_id: 1, recipient_id: 2, message: 'once', client_id: 'same' })
    const again = await send(server, { sender_id: 1, recipient_id: 2, message: 'once', client_id: 'same' })
    expect(first.status).toBe(201)
    expect(again.status).toBe(200)
    expect(again.body.id).toBe(first.body.id)
    const page = await api(server, 'GET', '/messages/?user_id=1&other_user_id=2')
    expect(page.body.messages).toHaveLength(1)
  })

  test.each([
    ['an unknown recipient', { sender_id: 1, recipient_id: 99, message: 'x' }, 404, 'unknown_recipient'],
    ['an unknown sender', { sender_id: 99, recipient_id: 1, message: 'x' }, 404, 'unknown_sender'],
    ['an unknown group', { sender_id: 1, group_id: 99, message: 'x' }, 404, 'unknown_group'],
    ['both recipient and group', { sender_id: 1, recipient_id: 2, group_id: 1, message: 'x' }, 400, 'invalid_request'],
    ['neither recipient nor group', { sender_id: 1, message: 'x' }, 400, 'invalid_request'],
    ['an empty message', { sender_id: 1, recipient_id: 2, message: '   ' }, 400, 'empty_message'],
    ['a too-long message', { sender_id: 1, recipient_id: 2, message: 'x'.repeat(4001) }, 413, 'message_too_long'],
    ['a missing message', { sender_id: 1, recipient_id: 2 }, 422, 'validation_failed'],
    ['a bad message_type', { sender_id: 1, recipient_id: 2, message: 'x', message_type: 'NO SPACES' }, 422, 'validation_failed'],
  ])('%s is refused and nothing is stored', async (_, body, status, code) => {
    await using server = await startServer()
    const res = await send(server, body)
    expect(res.status).toBe(status)
    expect(res.body.error.code).toBe(code)
    expect(await storedMessages(server.store)).toBe(0)
  })

  test('a sender who is not a member of the group gets 403', async () => {
    await using server = await startServer()
    await api(server, 'POST', '/users', { username: 'dave' })
    const res = await send(server, { sender_id: 4, group_id: 1, message: 'let me in' })
    expect(res.status).toBe(403)
    expect(res.body.error.code).toBe('not_a_member')
    expect(await storedMessages(server.store)).toBe(0)
  })
})

describe('GET /messages/', () => {
  test('pages a direct conversation backwards with a cursor, and forwards with after', async () => {
    await using server = await startServer()
    const ids: number[] = []
    for (let i = 0; i < 7; i++) ids.push((await send(server, { sender_id: i % 2 ? 2 : 1, recipient_id: i % 2 ? 1 : 2, message: `m${i}` })).body.id)
    await send(server, { sender_id: 1, recipient_id: 3, message: 'other conversation' })

    const newest = (await api(server, 'GET', '/messages?user_id=2&other_user_id=1&limit=3')).body
    expect(newest.messages.map((m: any) => m.message)).toEqual(['m4', 'm5', 'm6'])
    expect(newest.has_more).toBe(true)
    expect(newest.next_cursor).toEqual({ before: ids[4] })
    const older = (await api(server, 'GET', `/messages?user_id=2&other_user_id=1&limit=3&before=${ids[4]}`)).body
    expect(older.messages.map((m: any) => m.message)).toEqual(['m1', 'm2', 'm3'])
    const oldest = (await api(server, 'GET', `/messages?user_id=2&other_user_id=1&limit=3&before=${ids[1]}`)).body
    expect(oldest.messages.map((m: any) => m.message)).toEqual(['m0'])
    expect(oldest.has_more).toBe(false)
    expect(oldest.next_cursor).toBeNull()

    const forward = (await api(server, 'GET', `/messages?user_id=1&other_user_id=2&limit=4&after=${ids[1]}`)).body
    expect(forward.messages.map((m: any) => m.message)).toEqual(['m2', 'm3', 'm4', 'm5'])
    expect(forward.next_cursor).toEqual({ after: ids[5] })
  })

  test('group history shows status as the reader sees it', async () => {
    await using server = await startServer()
    const m = (await send(server, { sender_id: 1, group_id: 1, message: 'g' })).body
    await api(server, 'PUT', `/messages/${m.id}/read?user_id=2`)
    const asBob = (await api(server, 'GET', '/messages?user_id=2&group_id=1')).body.messages[0]
    const asCarol = (await api(server, 'GET', '/messages?user_id=3&group_id=1')).body.messages[0]
    const asAlice = (await api(server, 'GET', '/messages?user_id=1&group_id=1')).body.messages[0]
    expect(asBob.status).toBe('read')
    expect(asCarol.status).toBe('delivered')
    expect(asAlice.read_count).toBe(1)
    expect(asAlice.status).not.toBe('read')
    await api(server, 'PUT', `/messages/${m.id}/read?user_id=3`)
    expect((await api(server, 'GET', '/messages?user_id=1&group_id=1')).body.messages[0]).toMatchObject({ status: 'read', read_count: 2 })
  })

  test.each([
    ['/messages?user_id=1', 400],
    ['/messages?user_id=1&other_user_id=2&group_id=1', 400],
    ['/messages?user_id=99&other_user_id=1', 404],
    ['/messages?user_id=1&other_user_id=99', 404],
    ['/messages?user_id=1&group_id=99', 404],
    ['/messages?user_id=1&other_user_id=2&limit=500', 422],
    ['/messages?user_id=x&other_user_id=2', 422],
  ])('%s is %d', async (path, status) => {
    await using server = await startServer()
    const res = await api(server, 'GET', path)
    expect(res.status).toBe(status)
    expect(res.body.error.code).toBeString()
  })

  test('a non-member cannot read a group', async () => {
    await using server = await startServer()
    await api(server, 'POST', '/users', { username: 'dave' })
    expect((await api(server, 'GET', '/messages?user_id=4&group_id=1')).status).toBe(403)
  })
})

describe('PUT /messages/{id}/read', () => {
  test('marks a direct message read and tells the sender live', async () => {
    await using server = await startServer()
    const alice = await TestClient.connect(server.wsUrl, '/ws/1')
    const m = (await send(server, { sender_id: 1, recipient_id: 2, message: 'read me' })).body
    const res = await api(server, 'PUT', `/messages/${m.id}/read`)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ message_id: m.id, status: 'read', reader_id: 2, changed: true })
    expect(await alice.next('read_receipt')).toMatchObject({ message_id: m.id, sender_id: 1, reader_id: 2 })
    expect(await alice.next('message_status')).toMatchObject({ message_id: m.id, status: 'read', user_id: 2 })
    const again = await api(server, 'PUT', `/messages/${m.id}/read/`)
    expect(again.body.changed).toBe(false)
    expect(await alice.collect('read_receipt')).toHaveLength(0)
    const page = (await api(server, 'GET', '/messages?user_id=1&other_user_id=2')).body
    expect(page.messages[0].status).toBe('read')
    alice.close()
  })

  test('errors: unknown message 404, wrong reader or non-member 404 alike, group message without reader 400, the sender 403', async () => {
    await using server = await startServer()
    const direct = (await send(server, { sender_id: 1, recipient_id: 2, message: 'x' })).body
    const group = (await send(server, { sender_id: 1, group_id: 1, message: 'y' })).body
    await api(server, 'POST', '/users', { username: 'dave' })
    expect((await api(server, 'PUT', '/messages/999/read')).status).toBe(404)
    expect(await api(server, 'PUT', `/messages/${direct.id}/read?user_id=3`)).toMatchObject({ status: 404, body: { error: { code: 'message_not_found' } } })
    expect((await api(server, 'PUT', `/messages/${group.id}/read`)).status).toBe(400)
    expect(await api(server, 'PUT', `/messages/${group.id}/read?user_id=4`)).toMatchObject({ status: 404, body: { error: { code: 'message_not_found' } } })
    expect(await api(server, 'PUT', `/messages/${direct.id}/read?user_id=1`)).toMatchObject({ status: 403, body: { error: { code: 'not_recipient' } } })
  })
})

describe('GET /messages/conversations/{user_id}', () => {
  test('lists direct and group conversations, newest first, with last message and unread count', async () => {
    await using server = await startServer()
    await send(server, { sender_id: 1, recipient_id: 2, message: 'a' })
    const second = (await send(server, { sender_id: 1, recipient_id: 2, message: 'b' })).body
    await send(server, { sender_id: 3, group_id: 1, message: 'group news' })
    await send(server, { sender_id: 2, recipient_id: 3, message: 'not alice’s' })
    const bobs = (await api(server, 'GET', '/messages/conversations/2')).body
    expect(bobs.conversations.map((c: any) => c.kind + ':' + (c.other_user_id ?? c.group_id))).toEqual(['direct:3', 'group:1', 'direct:1'])
    const withAlice = bobs.conversations.find((c: any) => c.other_user_id === 1)
    expect(withAlice).toMatchObject({ unread_count: 2, last_message: { id: second.id, message: 'b' } })
    expect(bobs.conversations.find((c: any) => c.group_id === 1).unread_count).toBe(1)
    await api(server, 'PUT', `/messages/${second.id}/read`)
    const after = (await api(server, 'GET', '/messages/conversations/2')).body
    expect(after.conversations.find((c: any) => c.other_user_id === 1).unread_count).toBe(1)
    expect((await api(server, 'GET', '/messages/conversations/99')).status).toBe(404)
  })
})

test('GET /ws/online-users lists users with a live connection', async () => {
  await using server = await startServer()
  expect((await api(server, 'GET', '/ws/online-users')).body).toEqual({ online_users: [] })
  const bob = await TestClient.connect(server.wsUrl, '/ws/2')
  const bob2 = await TestClient.connect(server.wsUrl, '/ws/2')
  const carol = await TestClient.connect(server.wsUrl, '/ws/3')
  expect((await api(server, 'GET', '/ws/online-users')).body.online_users).toEqual([2, 3])
  bob.close()
  carol.close()
  await carol.waitClosed()
  await Bun.sleep(50)
  expect((await api(server, 'GET', '/ws/online-users')).body.online_users).toEqual([2])
  bob2.close()
})
