import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { ConflictError, directConv, groupConv, type Attachment, type EventDraft, type NewMessage, type Store, type StoredMessage } from '../../src/db/store'
import { Backlog, type BacklogItem } from '../../src/realtime/backlog'
import type { SearchRequest, SearchTerm } from '../../src/db/search'

export interface StoreFixture {
  /** A store with no rows in it. */
  open(): Promise<Store>
  /** Called after each test with the store `open` returned. */
  release(store: Store): Promise<void>
}

/** A direct message as the service hands it to a store. */
export const direct = (senderId: number, recipientId: number, body: string, extra: Partial<NewMessage> = {}): NewMessage => ({
  conv: directConv(senderId, recipientId),
  senderId,
  recipientId,
  groupId: null,
  body,
  messageType: 'text',
  clientId: null,
  status: 'sent',
  createdAt: Date.now(),
  ...extra,
})

/** The first `limit` messages waiting for `userId` (what a connection without `since` is sent). */
export async function undelivered(store: Store, userId: number, limit = 10) {
  return (await Backlog.undelivered(store, userId, 0, Number.MAX_SAFE_INTEGER)).take(limit) as Promise<StoredMessage[]>
}

/** The first `limit` events of `userId`'s stream after `after` (what `since` replays): messages and the rest. */
export async function stream(store: Store, userId: number, groupIds: number[], after: number, limit: number): Promise<BacklogItem[]> {
  return (await Backlog.since(store, userId, groupIds, after, Number.MAX_SAFE_INTEGER)).take(limit)
}

/** The messages among them. */
export async function since(store: Store, userId: number, groupIds: number[], after: number, limit: number): Promise<StoredMessage[]> {
  return (await stream(store, userId, groupIds, after, limit)).filter((item): item is StoredMessage => !('frame' in item))
}

/** A status event for `userId`, as the service builds them. */
export const statusEvent = (userId: number, messageId: number, status: 'delivered' | 'read' = 'read'): EventDraft => ({
  userId,
  groupId: null,
  frame: { type: 'message_status', message_id: messageId, status, user_id: 0, timestamp: new Date().toISOString() },
})

/** recordDelivered as the hub calls it, with the hub's kind of event. */
const delivered = (store: Store, userId: number, messageIds: number[], groupsUpTo = 0) =>
  store.recordDelivered([{ userId, messageIds, groupsUpTo }], (m, by) => ({
    userId: m.senderId,
    groupId: null,
    frame: { type: 'message_status', message_id: m.id, status: 'delivered', user_id: by, timestamp: '' },
  }))

/** Stores `n` messages in batches of 5,000; their ids in order. */
export async function insertMany(store: Store, n: number, make: (i: number) => NewMessage): Promise<number[]> {
  const ids: number[] = []
  for (let i = 0; i < n; i += 5000) {
    const batch = Array.from({ length: Math.min(5000, n - i) }, (_, j) => make(i + j))
    for (const r of await store.insertMessages(batch)) ids.push(r.message.id)
  }
  return ids
}

/**
 * The storage contract every Store implementation passes: the same cases run against SQLite and
 * PostgreSQL. `skipReason` (a service that is not there) skips every case, visibly.
 */
export function storeContract(name: string, fixture: StoreFixture, skipReason?: string) {
  const it = skipReason ? test.skip : test
  describe(`Store contract: ${name}${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
    let store: Store
    beforeEach(async () => {
      if (!skipReason) store = await fixture.open()
    })
    afterEach(async () => {
      if (!skipReason) await fixture.release(store)
    })

    const inGroup = (senderId: number, groupId: number, body: string, mentionIds: string | null = null): NewMessage => ({
      mentionIds,
      ...direct(senderId, senderId, body),
      conv: groupConv(groupId),
      recipientId: null,
      groupId,
    })
    async function threeUsers() {
      const a = await store.createUser({ username: 'alice', displayName: 'Alice' })
      const b = await store.createUser({ username: 'bob' })
      const c = await store.createUser({ username: 'carol' })
      return [a.id, b.id, c.id] as const
    }

    it('creates and reads users; a taken username is a ConflictError', async () => {
      const alice = await store.createUser({ username: 'alice', displayName: 'Alice' })
      expect(alice).toMatchObject({ username: 'alice', displayName: 'Alice' })
      expect(typeof alice.createdAt).toBe('number')
      expect(await store.getUser(alice.id)).toEqual(alice)
      expect(await store.getUser(alice.id + 1000)).toBeUndefined()
      expect(store.createUser({ username: 'alice' })).rejects.toBeInstanceOf(ConflictError)
    })

    it('usernames are unique without regard to case, and keep the case they were given', async () => {
      const alice = await store.createUser({ username: 'Alice' })
      for (const username of ['alice', 'ALICE', 'aLiCe'])
        await expect(store.createUser({ username })).rejects.toBeInstanceOf(ConflictError)
      expect((await store.getUser(alice.id))!.username).toBe('Alice')
      expect((await store.createUser({ username: 'Alice.2' })).username).toBe('Alice.2')
    })

    it('a taken username uses up no id: the next user gets the next one', async () => {
      const first = await store.createUser({ username: 'first' })
      await expect(store.createUser({ username: 'first' })).rejects.toBeInstanceOf(ConflictError)
      await expect(store.createUser({ username: 'FIRST' })).rejects.toBeInstanceOf(ConflictError)
      const second = await store.createUser({ username: 'second' })
      expect(second.id).toBe(first.id + 1)
      // Several at once, half of them taken: the new ones still get consecutive ids.
      const results = await Promise.allSettled(['third', 'First', 'fourth', 'SECOND', 'fifth'].map((username) => store.createUser({ username })))
      const created = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.id] : []))
      expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof ConflictError)).toBe(true)
      expect(created.sort((a, b) => a - b)).toEqual([second.id + 1, second.id + 2, second.id + 3])
    })

    it('lists users in id order, a page at a time, filtered by a piece of the username or display name', async () => {
      const [a, b, c] = await threeUsers()
      const d = (await store.createUser({ username: 'dave_99', displayName: 'Dave 100% Sure' })).id
      expect((await store.listUsers({ limit: 10 })).map((u) => u.id)).toEqual([a, b, c, d])
      expect(await store.listUsers({ limit: 1 })).toEqual([(await store.getUser(a))!])
      expect((await store.listUsers({ after: b, limit: 10 })).map((u) => u.id)).toEqual([c, d])
      // Either field, anywhere in it, without regard to case.
      expect((await store.listUsers({ query: 'AL', limit: 10 })).map((u) => u.id)).toEqual([a])
      expect((await store.listUsers({ query: 'ice', limit: 10 })).map((u) => u.id)).toEqual([a])
      expect((await store.listUsers({ query: 'o', limit: 10 })).map((u) => u.id)).toEqual([b, c])
      expect((await store.listUsers({ query: 'o', after: b, limit: 10 })).map((u) => u.id)).toEqual([c])
      // LIKE's wildcards are plain characters in a query.
      expect((await store.listUsers({ query: '%', limit: 10 })).map((u) => u.id)).toEqual([d])
      expect((await store.listUsers({ query: '_9', limit: 10 })).map((u) => u.id)).toEqual([d])
      expect((await store.listUsers({ query: 'e_9', limit: 10 })).map((u) => u.id)).toEqual([d])
      expect(await store.listUsers({ query: 'a_', limit: 10 })).toEqual([])
      expect(await store.listUsers({ query: '\\', limit: 10 })).toEqual([])
      expect(await store.listUsers({ query: 'zed', limit: 10 })).toEqual([])
    })

    it('creates groups and changes their members', async () => {
      const [a, b, c] = await threeUsers()
      const group = await store.createGroup({ name: 'team', createdBy: a, memberIds: [b, a, b] })
      expect(group.memberIds.sort()).toEqual([a, b].sort())
      expect(await store.getGroup(group.id)).toMatchObject({ name: 'team', createdBy: a, memberIds: [a, b] })
      expect(await store.addMember(group.id, c)).toBe(true)
      expect(await store.addMember(group.id, c)).toBe(false)
      expect(await store.groupIdsOf(c)).toEqual([group.id])
      expect(await store.removeMember(group.id, a)).toBe(true)
      expect(await store.removeMember(group.id, a)).toBe(false)
      expect((await store.getGroup(group.id))!.memberIds).toEqual([b, c])
      expect(await store.getGroup(group.id + 1000)).toBeUndefined()
    })

    it('stores a batch in order with ascending ids', async () => {
      const [a, b] = await threeUsers()
      const results = await store.insertMessages([direct(a, b, 'one'), direct(b, a, 'two'), direct(a, b, 'three')])
      expect(results.map((r) => r.duplicate)).toEqual([false, false, false])
      const ids = results.map((r) => r.message.id)
      expect(ids[0] < ids[1] && ids[1] < ids[2]).toBe(true)
      expect(await store.getMessage(ids[1])).toMatchObject({ body: 'two', senderId: b, recipientId: a, status: 'sent', readAt: null })
      expect(await store.lastSeq()).toBe(ids[2])
    })

    it('a repeated (sender, client_id) returns the original, across batches and inside one', async () => {
      const [a, b] = await threeUsers()
      const [first] = await store.insertMessages([direct(a, b, 'hello', { clientId: 'c-1' })])
      const again = await store.insertMessages([
        direct(a, b, 'other', { clientId: 'c-2' }),
        direct(a, b, 'hello again', { clientId: 'c-1' }),
        direct(b, a, 'same client id, other sender', { clientId: 'c-1' }),
        direct(a, b, 'repeat inside the batch', { clientId: 'c-2' }),
        direct(a, b, 'no client id'),
        direct(a, b, 'no client id'),
      ])
      expect(again.map((r) => r.duplicate)).toEqual([false, true, false, true, false, false])
      expect(again[1].message).toMatchObject({ id: first.message.id, body: 'hello' })
      expect(again[3].message.id).toBe(again[0].message.id)
      expect(again[3].message.body).toBe('other')
      expect(again[4].message.id).not.toBe(again[5].message.id)
      const rows = await store.history(directConv(a, b), { limit: 50 })
      expect(rows.map((m) => m.body)).toEqual(['hello', 'other', 'same client id, other sender', 'no client id', 'no client id'])
    })

    it('pages history backwards and forwards', async () => {
      const [a, b] = await threeUsers()
      const stored = await store.insertMessages(Array.from({ length: 5 }, (_, i) => direct(a, b, `m${i}`)))
      const ids = stored.map((r) => r.message.id)
      expect((await store.history(directConv(a, b), { limit: 2 })).map((m) => m.body)).toEqual(['m3', 'm4'])
      expect((await store.history(directConv(b, a), { before: ids[3], limit: 2 })).map((m) => m.body)).toEqual(['m1', 'm2'])
      expect((await store.history(directConv(a, b), { after: ids[0], limit: 2 })).map((m) => m.body)).toEqual(['m1', 'm2'])
      expect((await store.history(directConv(a, b), { after: ids[0], before: ids[2], limit: 9 })).map((m) => m.body)).toEqual(['m1'])
    })

    it('the backlog after an id lists what concerns a user, in id order', async () => {
      const [a, b, c] = await threeUsers()
      const group = await store.createGroup({ name: 'g', createdBy: a, memberIds: [a, b, c] })
      const r = await store.insertMessages([direct(a, b, 'to b'), direct(b, c, 'from b'), direct(a, c, 'not b'), inGroup(c, group.id, 'group')])
      const after0 = await since(store, b, [group.id], 0, 10)
      expect(after0.map((m) => m.body)).toEqual(['to b', 'from b', 'group'])
      expect((await since(store, b, [], r[1].message.id, 10)).map((m) => m.body)).toEqual([])
      expect((await since(store, b, [group.id], 0, 2)).length).toBe(2)
    })

    it('the backlog without since: direct messages still sent, group messages from others past the delivered mark', async () => {
      const [a, b, c] = await threeUsers()
      const group = await store.createGroup({ name: 'g', createdBy: a, memberIds: [a, b, c] })
      const r = await store.insertMessages([
        direct(a, b, 'waiting'),
        direct(a, b, 'live', { status: 'delivered' }),
        inGroup(a, group.id, 'g1'),
        inGroup(b, group.id, 'own group message'),
      ])
      expect((await undelivered(store, b)).map((m) => m.body)).toEqual(['waiting', 'g1'])
      const events = await delivered(store, b, [r[0].message.id, r[1].message.id], r[2].message.id)
      // Only what changed is told: the message already delivered is not.
      expect(events.map((e) => [e.userId, e.frame.message_id, e.frame.user_id])).toEqual([[a, r[0].message.id, b]])
      expect(await undelivered(store, b)).toEqual([])
      expect((await undelivered(store, c)).map((m) => m.body)).toEqual(['g1', 'own group message'])
      // A delivered mark never goes down.
      await delivered(store, b, [], 1)
      expect(await undelivered(store, b)).toEqual([])
    })

    it('read marks: direct once, group marks only rise, and raise the delivered mark', async () => {
      const [a, b, c] = await threeUsers()
      const group = await store.createGroup({ name: 'g', createdBy: a, memberIds: [a, b, c] })
      const r = await store.insertMessages([direct(a, b, 'hi'), inGroup(a, group.id, 'g1'), inGroup(a, group.id, 'g2')])
      const at = Date.now()
      const first = await store.markDirectRead(r[0].message.id, at, [statusEvent(a, r[0].message.id)])
      expect(first?.map((e) => e.seq)).toEqual([r[2].message.id + 1])
      // A repeated receipt changes nothing and appends nothing.
      expect(await store.markDirectRead(r[0].message.id, at, [statusEvent(a, r[0].message.id)])).toBeNull()
      expect(await store.getMessage(r[0].message.id)).toMatchObject({ status: 'read', readAt: at })
      expect(await store.markGroupRead(group.id, b, r[2].message.id, [statusEvent(a, r[2].message.id)])).toHaveLength(1)
      expect(await store.markGroupRead(group.id, b, r[1].message.id, [statusEvent(a, r[1].message.id)])).toBeNull()
      expect(await store.lastSeq()).toBe(r[2].message.id + 2)
      const marks = await store.readMarks(group.id)
      expect(marks.get(b)).toBe(r[2].message.id)
      expect(marks.get(c)).toBe(0)
      expect(await undelivered(store, b)).toEqual([])
    })

    it('a member added later starts with the history counted as read', async () => {
      const [a, b, c] = await threeUsers()
      const group = await store.createGroup({ name: 'g', createdBy: a, memberIds: [a, b] })
      const r = await store.insertMessages([inGroup(a, group.id, 'before c')])
      await store.addMember(group.id, c)
      expect((await store.readMarks(group.id)).get(c)).toBe(r[0].message.id)
      expect(await undelivered(store, c)).toEqual([])
    })

    it('lists conversations, newest activity first, with unread counts', async () => {
      const [a, b, c] = await threeUsers()
      const group = await store.createGroup({ name: 'g', createdBy: a, memberIds: [a, b] })
      await store.insertMessages([direct(a, b, 'hi b'), direct(b, a, 'hi a'), direct(c, a, 'from c')])
      await store.insertMessages([inGroup(b, group.id, 'group news')])
      const list = await store.conversations(a)
      expect(list.map((s) => s.conv)).toEqual([groupConv(group.id), directConv(a, c), directConv(a, b)])
      expect(list[0]).toMatchObject({ groupId: group.id, otherUserId: null, unreadCount: 1 })
      expect(list[1]).toMatchObject({ otherUserId: c, unreadCount: 1 })
      expect(list[2]).toMatchObject({ otherUserId: b, unreadCount: 1, lastMessage: { body: 'hi a' } })
    })

    it('a note to self is never unread: its writer has read it', async () => {
      const [a] = await threeUsers()
      await store.insertMessages([direct(a, a, 'remember the milk'), direct(a, a, 'and eggs')])
      const list = await store.conversations(a)
      expect(list).toHaveLength(1)
      expect(list[0]).toMatchObject({ conv: directConv(a, a), otherUserId: a, unreadCount: 0 })
    })

    it('marks a backlog of any size delivered: no statement grows with the data', async () => {
      const [a, b] = await threeUsers()
      // Beyond PostgreSQL's 65,535 parameters in one statement.
      const stored = await insertMany(store, 70_000, (i) => direct(a, b, `m${i}`))
      const changed = await delivered(store, b, stored)
      expect(changed.length).toBe(stored.length)
      expect(await undelivered(store, b)).toEqual([])
      expect(await delivered(store, b, stored)).toEqual([])
    }, 120_000)

    it('undelivered group messages skip the member’s own across as many pages as it takes; a read mark lowers the unread count', async () => {
      const [a, b] = await threeUsers()
      const group = await store.createGroup({ name: 'g', createdBy: a, memberIds: [a, b] })
      // b's own 300 messages come first: a page of 10 at a time finds nothing in them.
      await store.insertMessages(Array.from({ length: 300 }, (_, i) => inGroup(b, group.id, `own ${i}`)))
      const [forB1, , forB2] = await store.insertMessages([inGroup(a, group.id, 'for b 1'), inGroup(b, group.id, 'own again'), inGroup(a, group.id, 'for b 2')])
      expect((await undelivered(store, b)).map((m) => m.body)).toEqual(['for b 1', 'for b 2'])
      expect((await store.conversations(b))[0].unreadCount).toBe(2)
      // Read up to the first: only what came after it counts, the mark itself not.
      await store.markGroupRead(group.id, b, forB1.message.id, [])
      expect((await store.conversations(b))[0].unreadCount).toBe(1)
      await store.markGroupRead(group.id, b, forB2.message.id, [])
      expect((await store.conversations(b))[0].unreadCount).toBe(0)
    })

    it('one sequence: messages and events take the next seq in turn, and a resume after any seq replays both in order', async () => {
      const [a, b, c] = await threeUsers()
      const group = await store.createGroup({ name: 'g', createdBy: a, memberIds: [a, b] })
      const [m1] = await store.insertMessages([direct(a, b, 'one')])
      const [e1] = await store.appendEvents([statusEvent(a, m1.message.id, 'delivered')])
      const [m2] = await store.insertMessages([inGroup(a, group.id, 'two')])
      const [toGroup, toC] = await store.appendEvents([
        { userId: null, groupId: group.id, frame: { type: 'membership', group_id: group.id, user_id: b, member: true, timestamp: '' } },
        statusEvent(c, 1),
      ])
      expect([m1.message.id, e1.seq, m2.message.id, toGroup.seq, toC.seq]).toEqual([1, 2, 3, 4, 5])
      expect(await store.lastSeq()).toBe(5)
      // a hears the status for it and the group; b the group; c only its own.
      const seqs = async (user: number, groups: number[], after: number) => (await stream(store, user, groups, after, 10)).map((i) => ('frame' in i ? i.seq : i.id))
      expect(await seqs(a, [group.id], 0)).toEqual([1, 2, 3, 4])
      expect(await seqs(b, [group.id], 0)).toEqual([1, 3, 4])
      expect(await seqs(a, [group.id], 2)).toEqual([3, 4])
      expect(await seqs(c, [], 0)).toEqual([5])
      // The event keeps its frame.
      expect((await store.eventsFor(b, [group.id], 0, 99, 10))[0]).toMatchObject({ seq: 4, groupId: group.id, frame: { type: 'membership', user_id: b, member: true } })
      expect((await store.eventsFor(a, [], 0, 3, 10)).map((e) => e.seq)).toEqual([2])
    })

    it('prunes old events, never messages, and never hands a pruned seq out again', async () => {
      const [a, b] = await threeUsers()
      const [m] = await store.insertMessages([direct(a, b, 'kept')])
      await store.appendEvents([statusEvent(a, m.message.id), statusEvent(a, m.message.id)])
      expect(await store.prunedSeq()).toBe(0)
      expect(await store.pruneEvents(Date.now() - 60_000)).toBe(0)
      expect(await store.pruneEvents(Date.now() + 1)).toBe(2)
      expect(await store.prunedSeq()).toBe(3)
      expect(await store.eventsFor(a, [], 0, 99, 10)).toEqual([])
      expect((await since(store, b, [], 0, 10)).map((x) => x.body)).toEqual(['kept'])
      expect(await store.lastSeq()).toBe(3)
      const [next] = await store.appendEvents([statusEvent(a, m.message.id)])
      expect(next.seq).toBe(4)
    })

    it('edits keep id and place; a delete leaves a tombstone and erases the text from the edit events too', async () => {
      const [a, b] = await threeUsers()
      const [m] = await store.insertMessages([direct(a, b, 'first words')])
      const edit = (text: string): EventDraft => ({ userId: b, groupId: null, frame: { type: 'message_edited', message_id: m.message.id, message: text }, textOf: m.message.id })
      expect(await store.editMessage(m.message.id, 'second words', 5, [edit('second words')])).toHaveLength(1)
      expect(await store.getMessage(m.message.id)).toMatchObject({ body: 'second words', editedAt: 5, deletedAt: null })
      const deleted = await store.deleteMessage(m.message.id, 9, [{ userId: b, groupId: null, frame: { type: 'message_deleted', message_id: m.message.id } }])
      expect(deleted).toHaveLength(1)
      expect(await store.getMessage(m.message.id)).toMatchObject({ id: m.message.id, body: '', deletedAt: 9 })
      expect((await store.history(directConv(a, b), { limit: 5 })).map((x) => [x.id, x.body])).toEqual([[m.message.id, '']])
      const events = await store.eventsFor(b, [], 0, 99, 10)
      expect(events.map((e) => [e.frame.type, e.frame.message])).toEqual([['message_edited', ''], ['message_deleted', undefined]])
      // Neither can happen twice: a deleted message is neither edited nor deleted again.
      expect(await store.editMessage(m.message.id, 'back', 10, [])).toBeNull()
      expect(await store.deleteMessage(m.message.id, 11, [])).toBeNull()
    })

    it('one reaction per user, message and emoji, at most `max` a user on a message; gone with the message', async () => {
      const [a, b, c] = await threeUsers()
      const [m] = await store.insertMessages([direct(a, b, 'react to me')])
      const id = m.message.id
      expect(await store.addReaction(id, b, '👍', 1, 2, [statusEvent(a, id)])).toHaveLength(1)
      expect(await store.addReaction(id, b, '👍', 2, 2, [statusEvent(a, id)])).toBeNull()
      expect(await store.addReaction(id, a, '👍', 3, 2, [])).toEqual([])
      expect(await store.addReaction(id, b, '🎉', 4, 2, [])).toEqual([])
      expect(await store.addReaction(id, b, '❤️', 5, 2, [])).toBe('limit')
      expect((await store.reactionsOf([id, 999])).get(id)).toEqual([
        { emoji: '👍', userIds: [b, a] },
        { emoji: '🎉', userIds: [b] },
      ])
      expect(await store.removeReaction(id, b, '👍', [])).toEqual([])
      expect(await store.removeReaction(id, b, '👍', [])).toBeNull()
      expect((await store.reactionsOf([id])).get(id)).toEqual([{ emoji: '👍', userIds: [a] }, { emoji: '🎉', userIds: [b] }])
      await store.deleteMessage(id, 9, [])
      expect((await store.reactionsOf([id])).has(id)).toBe(false)
      void c
    })

    it('replies are counted on their parent and paged as a thread', async () => {
      const [a, b] = await threeUsers()
      const [parent] = await store.insertMessages([direct(a, b, 'parent')])
      await store.insertMessages([
        direct(b, a, 'r1', { replyToId: parent.message.id }),
        direct(a, b, 'not a reply'),
        direct(b, a, 'r2', { replyToId: parent.message.id }),
      ])
      await store.insertMessages([direct(a, b, 'r3', { replyToId: parent.message.id })])
      expect((await store.getMessage(parent.message.id))?.replyCount).toBe(3)
      expect((await store.replies(parent.message.id, { limit: 10 })).map((m) => m.body)).toEqual(['r1', 'r2', 'r3'])
      expect((await store.replies(parent.message.id, { limit: 2 })).map((m) => m.body)).toEqual(['r2', 'r3'])
      const [r1] = await store.replies(parent.message.id, { limit: 1, after: 0 })
      expect((await store.replies(parent.message.id, { after: r1.id, limit: 5 })).map((m) => m.body)).toEqual(['r2', 'r3'])
    })

    it('unread and mention counts stay exact through reads and deletes', async () => {
      const [a, b, c] = await threeUsers()
      const group = await store.createGroup({ name: 'g', createdBy: a, memberIds: [a, b, c] })
      const [g1, g2, g3] = await store.insertMessages([
        inGroup(a, group.id, 'hi @b', JSON.stringify([b])),
        inGroup(c, group.id, 'hi @b and @a', JSON.stringify([b, a])),
        inGroup(a, group.id, 'no mention'),
      ])
      const [d1] = await store.insertMessages([direct(a, b, 'direct @b', { mentionIds: JSON.stringify([b]) })])
      const summary = async (user: number, conv: string) => (await store.conversations(user)).find((x) => x.conv === conv)!
      expect(await summary(b, groupConv(group.id))).toMatchObject({ unreadCount: 3, mentionCount: 2 })
      expect(await summary(a, groupConv(group.id))).toMatchObject({ unreadCount: 1, mentionCount: 1 })
      expect(await summary(b, directConv(a, b))).toMatchObject({ unreadCount: 1, mentionCount: 1 })
      // A deleted unread message is no longer unread, nor its mention.
      await store.deleteMessage(g1.message.id, 1, [])
      expect(await summary(b, groupConv(group.id))).toMatchObject({ unreadCount: 2, mentionCount: 1 })
      await store.markGroupRead(group.id, b, g2.message.id, [])
      expect(await summary(b, groupConv(group.id))).toMatchObject({ unreadCount: 1, mentionCount: 0 })
      await store.markDirectRead(d1.message.id, 2, [])
      expect(await summary(b, directConv(a, b))).toMatchObject({ unreadCount: 0, mentionCount: 0 })
      void g3
    })

    // Full-text search: src/db/search.ts. Terms are what src/messages/search-query.ts parses.
    const word = (token: string, prefix = false): SearchTerm => ({ tokens: [token], prefix })
    const phrase = (...tokens: string[]): SearchTerm => ({ tokens, prefix: false })
    async function found(userId: number, terms: SearchTerm[], extra: Partial<SearchRequest> = {}) {
      return (await store.searchMessages({ userId, terms, limit: 50, ...extra })).map((m) => m.body)
    }

    it('search: words of any script, without regard to case, all of them required, newest first', async () => {
      const [a, b] = await threeUsers()
      await store.insertMessages([
        direct(a, b, 'Un café au lait, s’il vous plaît'),
        direct(b, a, 'Привет, как дела?'),
        direct(a, b, 'नमस्ते दुनिया'),
        direct(a, b, 'Ελληνικά: καλημέρα'),
        direct(b, a, 'CAFÉ closed today'),
      ])
      expect(await found(a, [word('café')])).toEqual(['CAFÉ closed today', 'Un café au lait, s’il vous plaît'])
      expect(await found(b, [word('привет')])).toEqual(['Привет, как дела?'])
      expect(await found(b, [word('ПРИВЕТ')])).toEqual(['Привет, как дела?'])
      expect(await found(a, [word('नमस्ते')])).toEqual(['नमस्ते दुनिया'])
      expect(await found(a, [word('καλημέρα')])).toEqual(['Ελληνικά: καλημέρα'])
      expect(await found(a, [word('café'), word('closed')])).toEqual(['CAFÉ closed today'])
      expect(await found(a, [word('café'), word('nowhere')])).toEqual([])
      // A word is whole: part of one is not found without a *.
      expect(await found(a, [word('caf')])).toEqual([])
    })

    it('search: runs of CJK characters are one word each, found whole or by a prefix', async () => {
      const [a, b] = await threeUsers()
      await store.insertMessages([direct(a, b, '日本語を勉強しています'), direct(a, b, '東京 大阪')])
      expect(await found(a, [word('日本')])).toEqual([])
      expect(await found(a, [word('日本', true)])).toEqual(['日本語を勉強しています'])
      expect(await found(a, [word('日本語を勉強しています')])).toEqual(['日本語を勉強しています'])
      // Separated by a space, they are words of their own.
      expect(await found(a, [word('大阪')])).toEqual(['東京 大阪'])
    })

    it('search: prefixes and phrases', async () => {
      const [a, b] = await threeUsers()
      await store.insertMessages([direct(a, b, 'hello world'), direct(a, b, 'world, hello'), direct(a, b, 'messages are here'), direct(a, b, 'a mess')])
      expect(await found(a, [word('mess', true)])).toEqual(['a mess', 'messages are here'])
      expect(await found(a, [word('messag', true)])).toEqual(['messages are here'])
      expect(await found(a, [phrase('hello', 'world')])).toEqual(['hello world'])
      expect(await found(a, [phrase('world', 'hello')])).toEqual(['world, hello'])
      expect(await found(a, [word('hello'), word('world')])).toEqual(['world, hello', 'hello world'])
      // A phrase whose last word is a prefix.
      expect(await found(a, [{ tokens: ['hello', 'wor'], prefix: true }])).toEqual(['hello world'])
    })

    it('search: only the conversations the user reads now, narrowed to one when asked', async () => {
      const [a, b, c] = await threeUsers()
      const group = await store.createGroup({ name: 'g', createdBy: a, memberIds: [a, b] })
      const other = await store.createGroup({ name: 'other', createdBy: c, memberIds: [c] })
      await store.insertMessages([
        direct(a, b, 'secret a to b'),
        direct(b, c, 'secret b to c'),
        direct(c, c, 'secret note to self'),
        inGroup(a, group.id, 'secret in the group'),
        inGroup(c, other.id, 'secret in the other group'),
      ])
      expect(await found(a, [word('secret')])).toEqual(['secret in the group', 'secret a to b'])
      expect(await found(b, [word('secret')])).toEqual(['secret in the group', 'secret b to c', 'secret a to b'])
      expect(await found(c, [word('secret')])).toEqual(['secret in the other group', 'secret note to self', 'secret b to c'])
      expect(await found(b, [word('secret')], { conv: directConv(c, b) })).toEqual(['secret b to c'])
      expect(await found(b, [word('secret')], { conv: groupConv(group.id) })).toEqual(['secret in the group'])
      // A conversation the user does not read finds nothing, even named.
      expect(await found(a, [word('secret')], { conv: directConv(b, c) })).toEqual([])
      expect(await found(a, [word('secret')], { conv: groupConv(other.id) })).toEqual([])
      // Membership as it is now: a member who left finds none of the group, one who joined finds all of it.
      await store.removeMember(group.id, b)
      await store.addMember(group.id, c)
      expect(await found(b, [word('secret')])).toEqual(['secret b to c', 'secret a to b'])
      expect(await found(c, [word('group')])).toEqual(['secret in the other group', 'secret in the group'])
    })

    it('search: pages back from a cursor', async () => {
      const [a, b] = await threeUsers()
      const ids = (await store.insertMessages(Array.from({ length: 7 }, (_, i) => direct(a, b, `needle ${i}`)))).map((r) => r.message.id)
      await store.insertMessages([direct(a, b, 'hay')])
      expect(await found(a, [word('needle')], { limit: 3 })).toEqual(['needle 6', 'needle 5', 'needle 4'])
      expect(await found(a, [word('needle')], { limit: 3, before: ids[4] })).toEqual(['needle 3', 'needle 2', 'needle 1'])
      expect(await found(a, [word('needle')], { limit: 3, before: ids[1] })).toEqual(['needle 0'])
      const [first] = await store.searchMessages({ userId: a, terms: [word('needle')], limit: 1 })
      expect(first).toEqual((await store.getMessage(ids[6]))!)
    })

    it('search: an edited message is found by its new words, not its old ones; a deleted one by none', async () => {
      const [a, b] = await threeUsers()
      const [edited, deleted] = (await store.insertMessages([direct(a, b, 'typo teh old words'), direct(a, b, 'deleted soon')])).map((r) => r.message.id)
      await store.editMessage(edited, 'the new words', Date.now(), [])
      await store.deleteMessage(deleted, Date.now(), [])
      expect(await found(a, [word('teh')])).toEqual([])
      expect(await found(a, [word('new'), word('words')])).toEqual(['the new words'])
      expect(await found(a, [word('words')])).toEqual(['the new words'])
      expect(await found(a, [word('soon')])).toEqual([])
      expect(await found(a, [word('deleted')])).toEqual([])
      // A status change leaves the index as it was.
      await delivered(store, b, [edited])
      expect(await found(a, [word('new')])).toEqual(['the new words'])
    })

    it('answers ping', async () => {
      await store.ping()
      expect(await store.lastSeq()).toBe(0)
    })

    // --- attachments ---
    const attachment = (id: string, uploaderId: number, extra: Partial<Attachment> = {}): Attachment => ({
      id,
      uploaderId,
      sha256: id.padEnd(64, '0').slice(0, 64),
      contentType: 'image/png',
      size: 100,
      name: `${id}.png`,
      width: 4,
      height: 3,
      thumbnail: true,
      createdAt: Date.now(),
      ...extra,
    })

    it('stores attachments, links them in the message commit, and every read of messages carries them in order', async () => {
      const [a, b, c] = await threeUsers()
      const group = await store.createGroup({ name: 'g', createdBy: a, memberIds: [a, b, c] })
      const x = attachment('a1', a)
      const y = attachment('a2', a, { contentType: 'application/pdf', width: null, height: null, thumbnail: false, name: 'y.pdf' })
      await store.createAttachment(x)
      await store.createAttachment(y)
      expect((await store.getAttachments(['a2', 'a1', 'nope'])).sort((p, q) => p.id.localeCompare(q.id))).toEqual([x, y])
      expect(await store.attachmentConversations('a1')).toEqual([])

      const [plain, withFiles, inGroupMsg, resent] = await store.insertMessages([
        direct(a, b, 'text'),
        direct(a, b, '', { messageType: 'file', attachments: [y, x], clientId: 'f-1' }),
        { ...inGroup(a, group.id, ''), messageType: 'image', attachments: [x] },
        direct(a, b, '', { messageType: 'file', attachments: [y, x], clientId: 'f-1' }),
      ])
      expect(withFiles.message.attachments).toEqual([y, x])
      expect(resent.duplicate).toBe(true)
      expect(resent.message.attachments).toEqual([y, x])
      expect(plain.message.attachments).toBeUndefined()
      const history = await store.history(directConv(a, b), { limit: 10 })
      expect(history.map((m) => m.attachments)).toEqual([undefined, [y, x]])
      expect((await store.history(groupConv(group.id), { limit: 10 }))[0].attachments).toEqual([x])
      expect((await store.getMessage(withFiles.message.id))!.attachments).toEqual([y, x])
      // b's backlog: both direct messages, then the group's.
      expect((await undelivered(store, b)).map((m) => m.attachments)).toEqual([undefined, [y, x], [x]])
      expect((await since(store, c, [group.id], 0, 10)).map((m) => m.attachments)).toEqual([[x]])
      const convs = await store.conversations(a)
      expect(convs.find((s) => s.groupId === group.id)!.lastMessage!.attachments).toEqual([x])
      expect(convs.find((s) => s.groupId === null)!.lastMessage!.attachments).toEqual([y, x])
      expect((await store.attachmentConversations('a1')).sort()).toEqual([directConv(a, b), groupConv(group.id)].sort())
      expect(await store.attachmentConversations('a2')).toEqual([directConv(a, b)])
      expect(inGroupMsg.message.id).toBeGreaterThan(0)
    })

    it('counts uploaded bytes per user and sweeps only old unsent attachments, naming the bytes nothing else shares', async () => {
      const [a, b] = await threeUsers()
      const old = Date.now() - 10_000
      const shared = 'f'.repeat(64)
      await store.createAttachment(attachment('sent', a, { createdAt: old, size: 10 }))
      await store.createAttachment(attachment('unsent-old', a, { createdAt: old, size: 20 }))
      await store.createAttachment(attachment('unsent-new', a, { size: 30 }))
      await store.createAttachment(attachment('dup-old', b, { createdAt: old, sha256: shared, size: 5 }))
      await store.createAttachment(attachment('dup-new', b, { sha256: shared, size: 5 }))
      expect(await store.uploadedBytes(a)).toBe(60)
      expect(await store.uploadedBytes(b)).toBe(10)
      expect(await store.uploadedBytes(999)).toBe(0)
      const [sentMessage] = await store.getAttachments(['sent'])
      await store.insertMessages([direct(a, b, '', { messageType: 'file', attachments: [sentMessage] })])

      const { deleted, orphaned } = await store.sweepUnsentAttachments(Date.now() - 5000, 100)
      expect(deleted).toBe(2)
      // dup-old's bytes are dup-new's too: not orphaned.
      expect(orphaned).toEqual([attachment('unsent-old', a).sha256])
      expect((await store.getAttachments(['sent', 'unsent-old', 'unsent-new', 'dup-old', 'dup-new'])).map((x) => x.id).sort()).toEqual(['dup-new', 'sent', 'unsent-new'])
      expect(await store.uploadedBytes(a)).toBe(40)
      expect(await store.sweepUnsentAttachments(Date.now() - 5000, 100)).toEqual({ deleted: 0, orphaned: [] })
    })

    it('releases the attachments of deleted messages: links first, then what no message carries, naming bytes nothing shares', async () => {
      const [a, b, c] = await threeUsers()
      const shared = 'e'.repeat(64)
      const x = attachment('x', a)
      const y = attachment('y', a, { sha256: shared })
      const z = attachment('z', b, { sha256: shared })
      for (const att of [x, y, z]) await store.createAttachment(att)
      const [m1, m2, m3] = await store.insertMessages([
        direct(a, b, '', { messageType: 'image', attachments: [x, y] }),
        direct(a, c, '', { messageType: 'image', attachments: [x] }),
        direct(b, c, '', { messageType: 'image', attachments: [z] }),
      ])
      // x is still carried by m2; y goes, but its bytes are z's too.
      expect(await store.releaseMessageAttachments([m1.message.id])).toEqual([])
      expect((await store.getAttachments(['x', 'y', 'z'])).map((r) => r.id).sort()).toEqual(['x', 'z'])
      expect(await store.attachmentConversations('x')).toEqual([directConv(a, c)])
      expect((await store.getMessage(m1.message.id))!.attachments).toBeUndefined()
      expect(await store.releaseMessageAttachments([m2.message.id, m3.message.id])).toEqual(expect.arrayContaining([x.sha256, shared]))
      expect(await store.getAttachments(['x', 'y', 'z'])).toEqual([])
      expect(await store.releaseMessageAttachments([m1.message.id, 999])).toEqual([])
    })
  })
}
