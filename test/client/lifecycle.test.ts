import { describe, expect, test } from 'bun:test'
import type { LifecycleEvent, SwitchboardClient } from '../../src/client'
import { api, startServer } from '../helpers/server'
import { TcpProxy } from '../helpers/network-faults'
import { connectClient, waitFor } from './helpers'

// Users 1 alice, 2 bob, 3 carol; group 1 of all three, created by alice.

/** Records every lifecycle event a client emits, in order. */
function recordLifecycle(client: SwitchboardClient) {
  const events: LifecycleEvent[] = []
  for (const name of ['message_edited', 'message_deleted', 'reaction_added', 'reaction_removed'] as const) client.on(name, (e) => events.push(e))
  return events
}

describe.each(['json', 'msgpack'] as const)('edit, delete and reactions through the client library over %s', (format) => {
  test('each resolves with its event, which every member’s client (the actor’s too) emits once', async () => {
    await using server = await startServer()
    using alice = await connectClient(server.url, 1, { format })
    using bob = await connectClient(server.url, 2, { format })
    const aliceEvents = recordLifecycle(alice)
    const bobEvents = recordLifecycle(bob)
    const { message_id } = await alice.send({ recipient_id: 2 }, 'helo')

    expect(await alice.edit(message_id, 'hello')).toMatchObject({ type: 'message_edited', message_id, message: 'hello', sender_id: 1, recipient_id: 2, seq: expect.any(Number) })
    expect(await bob.react(message_id, '👍')).toMatchObject({ type: 'reaction_added', message_id, user_id: 2, emoji: '👍' })
    // A bare heart is sent fully qualified, as the server stores it.
    expect(await bob.react(message_id, '❤')).toMatchObject({ type: 'reaction_added', emoji: '❤️' })
    expect(await bob.unreact(message_id, '👍')).toMatchObject({ type: 'reaction_removed', message_id, user_id: 2, emoji: '👍' })
    expect(await alice.delete(message_id)).toMatchObject({ type: 'message_deleted', message_id, deleted_at: expect.any(String) })

    const expected: LifecycleEvent['type'][] = ['message_edited', 'reaction_added', 'reaction_added', 'reaction_removed', 'message_deleted']
    await waitFor('both saw every change', () => aliceEvents.length === 5 && bobEvents.length === 5)
    await Bun.sleep(100) // a repeat would show up here
    expect(aliceEvents.map((e) => e.type)).toEqual(expected)
    expect(bobEvents.map((e) => e.type)).toEqual(expected)
    expect(new Set(bobEvents.map((e) => e.seq)).size).toBe(5)
    expect(alice.unconfirmed + bob.unconfirmed).toBe(0)
  })

  test('a retry that changes nothing resolves with null; the server says nothing and nothing is emitted', async () => {
    await using server = await startServer()
    using alice = await connectClient(server.url, 1, { format })
    using bob = await connectClient(server.url, 2, { format })
    const bobEvents = recordLifecycle(bob)
    const { message_id } = await alice.send({ recipient_id: 2 }, 'same')
    // Editing to the text it already has.
    expect(await alice.edit(message_id, 'same')).toBeNull()
    expect(await bob.react(message_id, '🎉')).not.toBeNull()
    expect(await bob.react(message_id, '🎉')).toBeNull()
    expect(await bob.unreact(message_id, '😮')).toBeNull()
    // Several at once, settled by one ping after them.
    expect(await Promise.all([bob.react(message_id, '🎉'), bob.react(message_id, '😂'), bob.react(message_id, '🎉')])).toMatchObject([null, { emoji: '😂' }, null])
    expect(await alice.delete(message_id)).not.toBeNull()
    expect(await alice.delete(message_id)).toBeNull()
    await Bun.sleep(100)
    expect(bobEvents.map((e) => e.type)).toEqual(['reaction_added', 'reaction_added', 'message_deleted'])
  })

  test('a refusal rejects with the server’s code and does not reach the error event', async () => {
    await using server = await startServer()
    using alice = await connectClient(server.url, 1, { format })
    using bob = await connectClient(server.url, 2, { format })
    using carol = await connectClient(server.url, 3, { format })
    const errors: string[] = []
    for (const c of [alice, bob, carol]) c.on('error', (e) => errors.push(e.code))
    const { message_id } = await alice.send({ recipient_id: 2 }, 'mine')

    await expect(bob.edit(message_id, 'not yours')).rejects.toMatchObject({ code: 'not_sender' })
    await expect(bob.delete(message_id)).rejects.toMatchObject({ code: 'forbidden' })
    await expect(alice.edit(99_999, 'x')).rejects.toMatchObject({ code: 'message_not_found' })
    await expect(carol.react(message_id, '👍')).rejects.toMatchObject({ code: 'message_not_found' })
    // Checked before the wire, as the server would.
    await expect(alice.edit(message_id, '  ')).rejects.toMatchObject({ code: 'empty_message' })
    await expect(alice.edit(message_id, 'x'.repeat(4001))).rejects.toMatchObject({ code: 'message_too_long' })
    await expect(bob.react(message_id, 'nice')).rejects.toMatchObject({ code: 'invalid_emoji' })
    await alice.delete(message_id)
    await expect(alice.edit(message_id, 'back')).rejects.toMatchObject({ code: 'message_deleted' })
    await expect(bob.react(message_id, '👍')).rejects.toMatchObject({ code: 'message_deleted' })
    expect(errors).toEqual([])
    expect(alice.unconfirmed + bob.unconfirmed + carol.unconfirmed).toBe(0)
  })

  test('reply and mentions: the message carries reply_to_id and mention_ids; a reply elsewhere is refused', async () => {
    await using server = await startServer()
    using alice = await connectClient(server.url, 1, { format })
    using bob = await connectClient(server.url, 2, { format })
    const parent = await alice.send({ group_id: 1 }, 'plans for friday?')
    await waitFor('bob has the parent', () => bob.received.length === 1)
    const reply = await bob.reply(parent.message_id, { group_id: 1 }, 'drinks, @Alice?', { mentionIds: [1] })
    await waitFor('alice has the reply', () => alice.received.length === 1)
    expect(alice.received[0]).toMatchObject({ id: reply.message_id, reply_to_id: parent.message_id, mention_ids: [1] })
    const mention = await bob.send({ group_id: 1 }, '@Alice see above', { mentionIds: [1] })
    await waitFor('alice has the mention', () => alice.received.length === 2)
    expect(alice.received[1]).toMatchObject({ id: mention.message_id, mention_ids: [1] })
    expect(alice.received[1].reply_to_id).toBeUndefined()
    const direct = await alice.send({ recipient_id: 2 }, 'private')
    await expect(bob.reply(direct.message_id, { group_id: 1 }, 'leak')).rejects.toMatchObject({ code: 'invalid_reply' })
    const history = await api(server, 'GET', '/messages?user_id=1&group_id=1')
    expect(history.body.messages.find((m: any) => m.id === parent.message_id)).toMatchObject({ reply_count: 1 })
  })
})

describe('lifecycle across reconnects', () => {
  test('a change made while disconnected is queued, sent after the catch-up and stored once', async () => {
    await using server = await startServer()
    using proxy = TcpProxy.start(server.port)
    using alice = await connectClient(proxy.url, 1)
    using bob = await connectClient(server.url, 2)
    const bobEvents = recordLifecycle(bob)
    const { message_id } = await bob.send({ recipient_id: 1 }, 'react to me')
    await waitFor('alice has it', () => alice.received.length === 1)

    proxy.cut()
    await waitFor('alice notices', () => alice.state === 'reconnecting')
    const reacting = alice.react(message_id, '👍')
    expect(alice.unconfirmed).toBe(1)
    expect(await reacting).toMatchObject({ type: 'reaction_added', user_id: 1, emoji: '👍' })
    await waitFor('bob sees it', () => bobEvents.length === 1)
    const page = await api(server, 'GET', '/messages?user_id=2&other_user_id=1')
    expect(page.body.messages[0].reactions).toEqual([{ emoji: '👍', count: 1, me: false }])
  })

  test('a change the server made but whose event was lost is settled by the catch-up, not left hanging', async () => {
    await using server = await startServer()
    using proxy = TcpProxy.start(server.port)
    using alice = await connectClient(proxy.url, 1)
    using bob = await connectClient(server.url, 2)
    const bobEvents = recordLifecycle(bob)
    const aliceEvents = recordLifecycle(alice)
    const { message_id } = await alice.send({ recipient_id: 2 }, 'typo')

    proxy.blackhole('down') // the server hears alice, alice hears nothing
    const editing = alice.edit(message_id, 'fixed')
    await waitFor('bob sees the edit', () => bobEvents.length === 1)
    proxy.blackhole('none')
    proxy.cut()
    // The replay after `since` holds the edit: it resolves with it, and the app sees it once.
    const edited = bobEvents[0] as Extract<LifecycleEvent, { type: 'message_edited' }>
    expect(await editing).toMatchObject({ type: 'message_edited', message: 'fixed', edited_at: edited.edited_at })
    await Bun.sleep(150)
    expect(aliceEvents.map((e) => e.type)).toEqual(['message_edited'])
    expect(bobEvents.length).toBe(1)
  })

  test('a client that was away gets the changes it missed once each, in order, from the stream', async () => {
    await using server = await startServer()
    using proxy = TcpProxy.start(server.port)
    using alice = await connectClient(server.url, 1)
    using bob = await connectClient(proxy.url, 2)
    const bobEvents = recordLifecycle(bob)
    const { message_id } = await alice.send({ recipient_id: 2 }, 'v1')
    await waitFor('bob has it', () => bob.received.length === 1)

    proxy.blackhole('both')
    await alice.edit(message_id, 'v2')
    await alice.edit(message_id, 'v3')
    await api(server, 'PUT', `/messages/${message_id}/reactions/${encodeURIComponent('😂')}?user_id=1`)
    await alice.edit(message_id, 'v4')
    proxy.blackhole('none')
    proxy.cut()
    await waitFor('bob caught up', () => bobEvents.length === 4)
    await Bun.sleep(150)
    expect(bobEvents.map((e) => [e.type, 'message' in e ? e.message : 'emoji' in e ? e.emoji : null])).toEqual([
      ['message_edited', 'v2'],
      ['message_edited', 'v3'],
      ['reaction_added', '😂'],
      ['message_edited', 'v4'],
    ])

    // Deleted while away: the replay still has the edits, but their text is erased with the message.
    proxy.blackhole('both')
    await alice.edit(message_id, 'v5')
    await alice.delete(message_id)
    proxy.blackhole('none')
    proxy.cut()
    await waitFor('bob caught up again', () => bobEvents.length === 6)
    await Bun.sleep(150)
    expect(bobEvents.slice(4).map((e) => [e.type, 'message' in e ? e.message : null])).toEqual([
      ['message_edited', ''],
      ['message_deleted', null],
    ])
  })
})
