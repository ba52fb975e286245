import { describe, expect, test } from 'bun:test'
import { api, startServer } from '../helpers/server'
import { TestClient, type Frame } from '../helpers/ws-client'

const text = (frames: Frame[]) => frames.map((f) => f.message)

async function nextMessages(client: TestClient, n: number) {
  const got = []
  for (let i = 0; i < n; i++) got.push(await client.next('message'))
  return got
}

describe('several connections of one user', () => {
  test('every connection of the recipient gets the message; the sender’s other connections get a copy, the sending one only message_sent', async () => {
    await using server = await startServer()
    const alicePhone = await TestClient.connect(server.wsUrl, '/ws/1')
    const aliceLaptop = await TestClient.connect(server.wsUrl, '/ws/1', { format: 'msgpack' })
    const bobPhone = await TestClient.connect(server.wsUrl, '/ws/2')
    const bobLaptop = await TestClient.connect(server.wsUrl, '/ws/2', { format: 'msgpack' })
    alicePhone.send({ type: 'message', recipient_id: 2, message: 'to all of bob' })
    const sent = await alicePhone.next('message_sent')
    for (const c of [bobPhone, bobLaptop, aliceLaptop]) expect(await c.next('message')).toMatchObject({ id: sent.message_id, message: 'to all of bob' })
    expect(await alicePhone.collect('message')).toHaveLength(0)
    // The confirmation goes to the sending connection alone.
    for (const c of [aliceLaptop, bobPhone, bobLaptop]) expect(await c.collect('message_sent')).toHaveLength(0)
    for (const c of [alicePhone, aliceLaptop, bobPhone, bobLaptop]) c.close()
  })
})

describe('groups', () => {
  test('fan-out reaches every member in either format, the sending connection gets only message_sent', async () => {
    await using server = await startServer()
    const alice = await TestClient.connect(server.wsUrl, '/ws/1')
    const alice2 = await TestClient.connect(server.wsUrl, '/ws/1')
    const bob = await TestClient.connect(server.wsUrl, '/ws/2', { format: 'msgpack' })
    const carol = await TestClient.connect(server.wsUrl, '/ws/3')
    alice.send({ type: 'message', group_id: 1, message: 'hello group' })
    const sent = await alice.next('message_sent')
    expect(sent.status).toBe('sent')
    for (const c of [alice2, bob, carol]) expect(await c.next('message')).toMatchObject({ id: sent.message_id, group_id: 1, sender_id: 1 })
    expect(await alice.collect('message')).toHaveLength(0)
    // The first member's device to confirm makes it delivered, once; alice's other device does not count.
    const statuses = await alice.collect('message_status', 400)
    expect(statuses).toHaveLength(1)
    expect(statuses[0]).toMatchObject({ message_id: sent.message_id, status: 'delivered' })
    expect([2, 3]).toContain(statuses[0].user_id)
    bob.send({ type: 'typing', group_id: 1, is_typing: true })
    expect(await carol.next('typing')).toMatchObject({ sender_id: 2, group_id: 1 })
    expect(await bob.collect('typing')).toHaveLength(0)
    for (const c of [alice, alice2, bob, carol]) c.close()
  })

  // Carol's devices, in each mix of framings: a membership change must reach every socket of hers.
  test.each([
    ['JSON', ['json']],
    ['MessagePack', ['msgpack']],
    ['one JSON and one MessagePack device', ['json', 'msgpack']],
  ] as const)('a member added while connected starts receiving, a removed one stops (%s)', async (_, formats) => {
    await using server = await startServer()
    await api(server, 'POST', '/groups', { name: 'duo', member_ids: [1, 2] })
    const alice = await TestClient.connect(server.wsUrl, '/ws/1')
    const carol = await Promise.all(formats.map((format) => TestClient.connect(server.wsUrl, '/ws/3', { format })))
    alice.send({ type: 'message', group_id: 2, message: 'before carol' })
    await alice.next('message_sent')
    for (const got of await Promise.all(carol.map((device) => device.collect('message')))) expect(got).toHaveLength(0)
    // Added to group 2, and removed from group 1, which she was in when her sockets opened.
    expect((await api(server, 'POST', '/groups/2/members', { user_id: 3 })).status).toBe(201)
    expect((await api(server, 'DELETE', '/groups/1/members/3')).status).toBe(200)
    alice.send({ type: 'message', group_id: 2, message: 'with carol' })
    alice.send({ type: 'message', group_id: 1, message: 'without carol' })
    await alice.next('message_sent')
    await alice.next('message_sent')
    for (const device of carol) expect(await device.next('message')).toMatchObject({ message: 'with carol' })
    for (const got of await Promise.all(carol.map((device) => device.collect('message')))) expect(text(got)).toEqual([])
    expect((await api(server, 'DELETE', '/groups/2/members/3')).status).toBe(200)
    alice.send({ type: 'message', group_id: 2, message: 'after carol' })
    await alice.next('message_sent')
    for (const got of await Promise.all(carol.map((device) => device.collect('message')))) expect(text(got)).toEqual([])
    for (const device of carol) {
      device.send({ type: 'message', group_id: 2, message: 'let me back' })
      expect(await device.next('error')).toMatchObject({ code: 'not_a_member' })
    }
    alice.close()
    for (const device of carol) device.close()
  })
})

describe('offline delivery and resume', () => {
  test('messages for an offline user arrive in order when they connect, become delivered, and the sender is told', async () => {
    await using server = await startServer()
    const alice = await TestClient.connect(server.wsUrl, '/ws/1')
    for (const m of ['one', 'two', 'three']) {
      alice.send({ type: 'message', recipient_id: 2, message: m })
      expect((await alice.next('message_sent')).status).toBe('sent')
    }
    await api(server, 'POST', '/messages', { sender_id: 3, group_id: 1, message: 'group while away' })
    const bob = await TestClient.connect(server.wsUrl, '/ws/2', { waitSynced: false })
    const backlog = await nextMessages(bob, 4)
    expect(text(backlog)).toEqual(['one', 'two', 'three', 'group while away'])
    expect(await bob.next('synced')).toMatchObject({ count: 4, last_id: backlog[3].id })
    const statuses = [await alice.next('message_status'), await alice.next('message_status'), await alice.next('message_status')]
    expect(statuses.map((s) => [s.message_id, s.status, s.user_id])).toEqual(backlog.slice(0, 3).map((m) => [m.id, 'delivered', 2]))
    bob.close()
    await bob.waitClosed()
    // Delivered once: a new connection without `since` does not get them again.
    const bobAgain = await TestClient.connect(server.wsUrl, '/ws/2', { waitSynced: false })
    expect(await bobAgain.next('synced')).toMatchObject({ count: 0 })
    expect((await api(server, 'GET', '/messages?user_id=2&other_user_id=1')).body.messages.map((m: any) => m.status)).toEqual(['delivered', 'delivered', 'delivered'])
    alice.close()
    bobAgain.close()
  })

  test('since resumes direct, group and own messages after the given id, in order, with no gap and no duplicate', async () => {
    await using server = await startServer()
    const bob = await TestClient.connect(server.wsUrl, '/ws/2')
    const alice = await TestClient.connect(server.wsUrl, '/ws/1')
    alice.send({ type: 'message', recipient_id: 2, message: 'seen live' })
    const seen = await bob.next('message')
    bob.close()
    await bob.waitClosed()
    const expected: string[] = []
    for (let i = 0; i < 5; i++) {
      alice.send({ type: 'message', recipient_id: 2, message: `direct ${i}` })
      alice.send({ type: 'message', group_id: 1, message: `group ${i}` })
      expected.push(`direct ${i}`, `group ${i}`)
    }
    await api(server, 'POST', '/messages', { sender_id: 2, recipient_id: 3, message: 'bob from another device' })
    expected.push('bob from another device')
    await api(server, 'POST', '/messages', { sender_id: 3, recipient_id: 1, message: 'not for bob' })
    for (let i = 0; i < 10; i++) await alice.next('message_sent')

    const resumed = await TestClient.connect(server.wsUrl, `/ws/2?since=${seen.id}`, { waitSynced: false })
    const backlog = await nextMessages(resumed, expected.length)
    expect(text(backlog)).toEqual(expected)
    const ids = backlog.map((m) => m.id)
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    // last_id is a resume point: at least the newest id sent (here the newest stored, 'not for bob').
    const synced = await resumed.next('synced')
    expect(synced).toMatchObject({ count: expected.length })
    expect(synced.last_id).toBeGreaterThanOrEqual(ids[ids.length - 1])
    alice.send({ type: 'message', recipient_id: 2, message: 'live again' })
    expect((await resumed.next('message')).message).toBe('live again')
    expect(await resumed.collect('message')).toHaveLength(0)
    alice.close()
    resumed.close()
  })

  test('resuming while messages keep flowing loses and repeats nothing', async () => {
    await using server = await startServer()
    const alice = await TestClient.connect(server.wsUrl, '/ws/1')
    const total = 300
    let sentCount = 0
    const sender = (async () => {
      for (let i = 0; i < total; i++) {
        alice.send({ type: 'message', recipient_id: 2, message: `n${i}` })
        if (i % 10 === 9) await Bun.sleep(1)
        sentCount++
      }
    })()
    await Bun.sleep(5)
    const bob = await TestClient.connect(server.wsUrl, '/ws/2?since=0', { waitSynced: false })
    await sender
    const got = await nextMessages(bob, total)
    expect(text(got)).toEqual(Array.from({ length: total }, (_, i) => `n${i}`))
    expect(await bob.collect('message', 300)).toHaveLength(0)
    expect(sentCount).toBe(total)
    alice.close()
    bob.close()
  })
})

describe('client_id and ordering', () => {
  test('a retry with the same client_id is stored and delivered once and gets the original id', async () => {
    await using server = await startServer()
    const alice = await TestClient.connect(server.wsUrl, '/ws/1')
    const bob = await TestClient.connect(server.wsUrl, '/ws/2')
    alice.send({ type: 'message', recipient_id: 2, message: 'only once', client_id: 'retry-me' })
    const first = await alice.next('message_sent')
    alice.send({ type: 'message', recipient_id: 2, message: 'only once', client_id: 'retry-me' })
    const second = await alice.next('message_sent')
    expect(second).toMatchObject({ message_id: first.message_id, client_id: 'retry-me', duplicate: true })
    expect(first.duplicate).toBe(false)
    await bob.next('message')
    expect(await bob.collect('message')).toHaveLength(0)
    // The same client_id from another sender is a different message.
    bob.send({ type: 'message', recipient_id: 1, message: 'mine', client_id: 'retry-me' })
    expect((await bob.next('message_sent')).duplicate).toBe(false)
    alice.close()
    bob.close()
  })

  test('a burst arrives in the order it was sent, with increasing ids, acks in order', async () => {
    await using server = await startServer()
    const alice = await TestClient.connect(server.wsUrl, '/ws/1', { format: 'msgpack' })
    const bob = await TestClient.connect(server.wsUrl, '/ws/2')
    const n = 500
    for (let i = 0; i < n; i++) alice.send({ type: 'message', recipient_id: 2, message: `#${i}`, client_id: `k${i}` })
    const got = await nextMessages(bob, n)
    expect(text(got)).toEqual(Array.from({ length: n }, (_, i) => `#${i}`))
    const acks = []
    for (let i = 0; i < n; i++) acks.push(await alice.next('message_sent'))
    expect(acks.map((a) => a.client_id)).toEqual(got.map((m) => m.client_id))
    expect(acks.map((a) => a.message_id)).toEqual(got.map((m) => m.id))
    alice.close()
    bob.close()
  })
})

describe('presence', () => {
  test('?presence=1 connections hear users come and go', async () => {
    await using server = await startServer()
    const alice = await TestClient.connect(server.wsUrl, '/ws/1?presence=1')
    const bob = await TestClient.connect(server.wsUrl, '/ws/2')
    expect(await alice.next('presence')).toMatchObject({ user_id: 2, online: true })
    bob.close()
    expect(await alice.next('presence')).toMatchObject({ user_id: 2, online: false })
    alice.close()
  })
})
