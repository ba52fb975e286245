import { describe, expect, test } from 'bun:test'
import { readFileSync, existsSync } from 'node:fs'
import { api, eventually, startServer } from '../helpers/server'
import { TestClient } from '../helpers/ws-client'

// Users 1 alice, 2 bob, 3 carol; group 1 of all three, created by alice.

const FORMATS = ['json', 'msgpack'] as const

describe.each(FORMATS)('the lifecycle of a message over %s', (format) => {
  test('an edit keeps the id and reaches both sides and the sender’s other device; history shows the new text', async () => {
    await using server = await startServer()
    const alice = await TestClient.connect(server.wsUrl, '/ws/1', { format })
    const alice2 = await TestClient.connect(server.wsUrl, '/ws/1', { format })
    const bob = await TestClient.connect(server.wsUrl, '/ws/2', { format })
    alice.send({ type: 'message', recipient_id: 2, message: 'helo' })
    const sent = await alice.next('message_sent')
    await bob.next('message')
    alice.send({ type: 'edit_message', message_id: sent.message_id, message: 'hello', ref: 'e1' })
    for (const device of [alice, alice2, bob]) {
      expect(await device.next('message_edited')).toMatchObject({ message_id: sent.message_id, message: 'hello', sender_id: 1, recipient_id: 2, seq: expect.any(Number), edited_at: expect.any(String) })
    }
    // The same edit again changes nothing and tells nobody anything.
    alice.send({ type: 'edit_message', message_id: sent.message_id, message: 'hello' })
    expect(await bob.collect('message_edited', 300)).toEqual([])
    const page = await api(server, 'GET', '/messages?user_id=2&other_user_id=1')
    expect(page.body.messages).toHaveLength(1)
    expect(page.body.messages[0]).toMatchObject({ id: sent.message_id, message: 'hello', edited_at: expect.any(String) })
    for (const c of [alice, alice2, bob]) c.close()
  })

  test('refusals: another’s message, an unknown one, empty or too long text, a deleted message; the connection goes on', async () => {
    await using server = await startServer()
    const alice = await TestClient.connect(server.wsUrl, '/ws/1', { format })
    const bob = await TestClient.connect(server.wsUrl, '/ws/2', { format })
    alice.send({ type: 'message', recipient_id: 2, message: 'mine' })
    const { message_id } = await alice.next('message_sent')
    const refused = async (client: TestClient, frame: Record<string, unknown>, code: string) => {
      client.send({ ...frame, ref: code })
      expect(await client.next('error')).toMatchObject({ code, ref: code })
    }
    await refused(bob, { type: 'edit_message', message_id, message: 'not yours' }, 'not_sender')
    await refused(bob, { type: 'delete_message', message_id }, 'forbidden')
    await refused(alice, { type: 'edit_message', message_id: 99_999, message: 'x' }, 'message_not_found')
    await refused(alice, { type: 'edit_message', message_id, message: ' \u200b ' }, 'empty_message')
    await refused(alice, { type: 'edit_message', message_id, message: 'x'.repeat(4001) }, 'message_too_long')
    await refused(alice, { type: 'add_reaction', message_id, emoji: 'nice' }, 'invalid_emoji')
    await refused(alice, { type: 'add_reaction', message_id, emoji: '👍👍' }, 'invalid_emoji')
    await refused(alice, { type: 'edit_message', message_id }, 'invalid_frame')
    // Carol is not in this conversation: the message is as unknown to her as one that does not exist.
    const carol = await TestClient.connect(server.wsUrl, '/ws/3', { format })
    await refused(carol, { type: 'add_reaction', message_id, emoji: '👍' }, 'message_not_found')
    alice.send({ type: 'delete_message', message_id })
    await bob.next('message_deleted')
    await refused(alice, { type: 'edit_message', message_id, message: 'back from the dead' }, 'message_deleted')
    await refused(bob, { type: 'add_reaction', message_id, emoji: '👍' }, 'message_deleted')
    alice.send({ type: 'ping' })
    await alice.next('pong')
    for (const c of [alice, bob, carol]) c.close()
  })

  test('reactions: one of each emoji per user, summarised per viewer in history; a flood stops at the limit', async () => {
    await using server = await startServer()
    const alice = await TestClient.connect(server.wsUrl, '/ws/1', { format })
    const bob = await TestClient.connect(server.wsUrl, '/ws/2', { format })
    const carol = await TestClient.connect(server.wsUrl, '/ws/3', { format })
    alice.send({ type: 'message', group_id: 1, message: 'lunch?' })
    const { message_id } = await alice.next('message_sent')
    bob.send({ type: 'add_reaction', message_id, emoji: '👍' })
    expect(await carol.next('reaction_added')).toMatchObject({ message_id, user_id: 2, emoji: '👍', group_id: 1 })
    bob.send({ type: 'add_reaction', message_id, emoji: '👍' })
    carol.send({ type: 'add_reaction', message_id, emoji: '❤' })
    // A bare heart is stored fully qualified.
    expect(await alice.next((f) => f.type === 'reaction_added' && f.user_id === 3)).toMatchObject({ emoji: '❤️' })
    expect((await alice.collect('reaction_added', 300)).filter((f) => f.user_id === 2)).toHaveLength(1)
    const page = await api(server, 'GET', '/messages?user_id=2&group_id=1')
    expect(page.body.messages.at(-1).reactions).toEqual([{ emoji: '👍', count: 1, me: true }, { emoji: '❤️', count: 1, me: false }])
    bob.send({ type: 'remove_reaction', message_id, emoji: '👍' })
    expect(await carol.next('reaction_removed')).toMatchObject({ message_id, user_id: 2, emoji: '👍' })
    const emoji = ['😀', '😁', '😂', '🤣', '😃', '😄', '😅', '😆', '😉', '😊', '😋', '😎', '😍', '😘', '🥰', '😗', '😙', '😚', '🙂', '🤗', '🤩']
    for (const e of emoji) bob.send({ type: 'add_reaction', message_id, emoji: e, ref: e })
    expect(await bob.next('error')).toMatchObject({ code: 'too_many_reactions', ref: '🤩' })
    for (const c of [alice, bob, carol]) c.close()
  })
})

describe('REST', () => {
  test('PATCH, DELETE and reactions with their rules; the group’s creator may delete as moderator', async () => {
    await using server = await startServer()
    const carol = await TestClient.connect(server.wsUrl, '/ws/3')
    const sent = await api(server, 'POST', '/messages', { sender_id: 2, group_id: 1, message: 'from bob' })
    const id = sent.body.id
    expect((await api(server, 'PATCH', `/messages/${id}?user_id=2`, { message: 'from bob, edited' })).body).toMatchObject({ id, message: 'from bob, edited', edited_at: expect.any(String) })
    expect(await carol.next('message_edited')).toMatchObject({ message_id: id, message: 'from bob, edited' })
    expect((await api(server, 'PATCH', `/messages/${id}?user_id=3`, { message: 'carol was here' })).body.error.code).toBe('not_sender')
    expect((await api(server, 'PATCH', `/messages/${id}`, { message: 'who?' })).body.error.code).toBe('user_id_required')
    const put = await api(server, 'PUT', `/messages/${id}/reactions/${encodeURIComponent('🎉')}?user_id=3`)
    expect(put.status).toBe(200)
    expect(put.body).toEqual({ message_id: id, reactions: [{ emoji: '🎉', count: 1, me: true }] })
    expect((await api(server, 'PUT', `/messages/${id}/reactions/hello?user_id=3`)).status).toBe(400)
    expect((await api(server, 'DELETE', `/messages/${id}/reactions/${encodeURIComponent('🎉')}?user_id=3`)).body).toEqual({ message_id: id, reactions: [] })
    // Carol is neither its sender nor the group's creator; alice created group 1.
    expect((await api(server, 'DELETE', `/messages/${id}?user_id=3`)).status).toBe(403)
    const gone = await api(server, 'DELETE', `/messages/${id}?user_id=1`)
    expect(gone.status).toBe(200)
    expect(gone.body).toMatchObject({ id, deleted: true, message: '' })
    expect(await carol.next('message_deleted')).toMatchObject({ message_id: id, group_id: 1 })
    // Deleting again is harmless.
    expect((await api(server, 'DELETE', `/messages/${id}?user_id=2`)).status).toBe(200)
    expect((await api(server, 'PATCH', `/messages/${id}?user_id=2`, { message: 'again' })).status).toBe(409)
    const page = await api(server, 'GET', '/messages?user_id=3&group_id=1')
    expect(page.body.messages.at(-1)).toMatchObject({ id, deleted: true, message: '' })
    carol.close()
  })

  test('replies and mentions: checked against the conversation, counted on the parent and per conversation', async () => {
    await using server = await startServer()
    const parent = await api(server, 'POST', '/messages', { sender_id: 1, group_id: 1, message: 'plans for friday?' })
    const bob = await TestClient.connect(server.wsUrl, '/ws/2')
    const reply = await api(server, 'POST', '/messages', { sender_id: 3, group_id: 1, message: 'drinks, @bob?', reply_to_id: parent.body.id, mention_ids: [2] })
    expect(reply.status).toBe(201)
    expect(await bob.next((f) => f.type === 'message' && f.id === reply.body.id)).toMatchObject({ reply_to_id: parent.body.id, mention_ids: [2] })
    const elsewhere = await api(server, 'POST', '/messages', { sender_id: 1, recipient_id: 2, message: 'private' })
    expect((await api(server, 'POST', '/messages', { sender_id: 3, group_id: 1, message: 'x', reply_to_id: elsewhere.body.id })).body.error.code).toBe('invalid_reply')
    const outsider = await api(server, 'POST', '/users', { username: 'dora' })
    expect((await api(server, 'POST', '/messages', { sender_id: 3, group_id: 1, message: 'x', mention_ids: [outsider.body.id] })).body.error.code).toBe('invalid_mention')
    const thread = await api(server, 'GET', `/messages/${parent.body.id}/replies?user_id=2`)
    expect(thread.body.messages.map((m: any) => m.message)).toEqual(['drinks, @bob?'])
    const history = await api(server, 'GET', '/messages?user_id=2&group_id=1')
    expect(history.body.messages.find((m: any) => m.id === parent.body.id)).toMatchObject({ reply_count: 1 })
    const summary = async () => (await api(server, 'GET', '/messages/conversations/2')).body.conversations.find((c: any) => c.group_id === 1)
    expect(await summary()).toMatchObject({ unread_count: 2, mention_count: 1 })
    // Deleting the mentioning message: neither unread nor a mention any more.
    await api(server, 'DELETE', `/messages/${reply.body.id}?user_id=3`)
    expect(await summary()).toMatchObject({ unread_count: 1, mention_count: 0 })
    bob.close()
  })
})

test('delete means gone: no copy of the text stays in the SQLite file or its WAL', async () => {
  await using server = await startServer({ config: { eraseWithinMs: 200 } })
  // One word, unique: the search index holds words, so it would show there too.
  const secret = `launchcode${crypto.randomUUID().replaceAll('-', '')}`
  // Long enough to spill into overflow pages, which a delete frees rather than rewrites.
  const padding = ' lorem ipsum'.repeat(300)
  const sent = await api(server, 'POST', '/messages', { sender_id: 1, recipient_id: 2, message: secret + padding })
  await api(server, 'PATCH', `/messages/${sent.body.id}?user_id=1`, { message: `${secret} (edited)${padding}` })
  const holds = () =>
    [server.dbPath, `${server.dbPath}-wal`].filter((file) => existsSync(file) && readFileSync(file).includes(Buffer.from(secret)))
  expect(holds().length).toBeGreaterThan(0)
  await api(server, 'DELETE', `/messages/${sent.body.id}?user_id=1`)
  await eventually(() => expect(holds()).toEqual([]), 5000)
  // The edit event that carried the text was erased too.
  expect((await server.store.eventsFor(2, [], 0, 1e9, 100)).map((e) => e.frame.message ?? null)).toEqual(['', null])
})
