// GET /messages/search over a real server: what a user finds, as history shows it, with its
// snippet; what they may not find; and every malformed query answered 400, never 500.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { api, startServer, type TestServer } from '../helpers/server'

let server: TestServer
const sent: Record<string, number> = {}
const send = async (key: string, body: Record<string, unknown>) => {
  const res = await api(server, 'POST', '/messages', body)
  expect(res.status).toBe(201)
  sent[key] = res.body.id
}
const search = (query: string) => api(server, 'GET', `/messages/search?${query}`)
const q = (text: string) => encodeURIComponent(text)

// Seeded: alice (1), bob (2), carol (3), group 1 of all three.
beforeAll(async () => {
  server = await startServer()
  await send('ab', { sender_id: 1, recipient_id: 2, message: 'Lunch at the café <tomorrow>?' })
  await send('bc', { sender_id: 2, recipient_id: 3, message: 'lunch without alice' })
  await send('group', { sender_id: 3, group_id: 1, message: 'Team lunch on Friday' })
  await send('ba', { sender_id: 2, recipient_id: 1, message: 'Sure, see you at lunch' })
  const read = await api(server, 'PUT', `/messages/${sent.group}/read?user_id=2`)
  expect(read.status).toBe(200)
})
afterAll(() => server?.[Symbol.asyncDispose]())

test("finds the user's messages newest first, each as history shows it, with a highlighted snippet", async () => {
  const res = await search(`user_id=1&q=${q('lunch')}`)
  expect(res.status).toBe(200)
  expect(res.body.results.map((r: any) => r.message.id)).toEqual([sent.ba, sent.group, sent.ab])
  expect(res.body).toMatchObject({ has_more: false, next_cursor: null })
  expect(res.body.results.map((r: any) => r.snippet)).toEqual([
    'Sure, see you at <mark>lunch</mark>',
    'Team <mark>lunch</mark> on Friday',
    '<mark>Lunch</mark> at the café &lt;tomorrow&gt;?',
  ])
  const direct = (await api(server, 'GET', '/messages?user_id=1&other_user_id=2')).body.messages
  const group = (await api(server, 'GET', '/messages?user_id=1&group_id=1')).body.messages
  expect(res.body.results[0].message).toEqual(direct.find((m: any) => m.id === sent.ba))
  expect(res.body.results[1].message).toEqual(group.find((m: any) => m.id === sent.group))
  expect(res.body.results[1].message).toMatchObject({ group_id: 1, read_count: 1 })
})

test("never another user's conversation", async () => {
  const res = await search(`user_id=1&q=${q('alice')}`)
  expect(res.body.results).toEqual([])
  expect((await search(`user_id=3&q=${q('alice')}`)).body.results.map((r: any) => r.message.id)).toEqual([sent.bc])
})

test('narrowed to one direct conversation or one group', async () => {
  expect((await search(`user_id=2&q=lunch&other_user_id=1`)).body.results.map((r: any) => r.message.id)).toEqual([sent.ba, sent.ab])
  expect((await search(`user_id=2&q=lunch&other_user_id=3`)).body.results.map((r: any) => r.message.id)).toEqual([sent.bc])
  expect((await search(`user_id=2&q=lunch&group_id=1`)).body.results.map((r: any) => r.message.id)).toEqual([sent.group])
})

test('prefixes, phrases and accents', async () => {
  expect((await search(`user_id=1&q=${q('lun*')}`)).body.results).toHaveLength(3)
  expect((await search(`user_id=1&q=${q('"team lunch"')}`)).body.results.map((r: any) => r.message.id)).toEqual([sent.group])
  expect((await search(`user_id=1&q=${q('"lunch team"')}`)).body.results).toEqual([])
  expect((await search(`user_id=1&q=${q('CAFE')}`)).body.results.map((r: any) => r.snippet)).toEqual(['Lunch at the <mark>café</mark> &lt;tomorrow&gt;?'])
})

test('pages with next_cursor until has_more is false', async () => {
  const seen: number[] = []
  let query = `user_id=2&q=lunch&limit=2`
  for (;;) {
    const res = await search(query)
    expect(res.status).toBe(200)
    seen.push(...res.body.results.map((r: any) => r.message.id))
    if (!res.body.has_more) {
      expect(res.body.next_cursor).toBeNull()
      break
    }
    expect(res.body.next_cursor).toEqual({ before: seen[seen.length - 1] })
    query = `user_id=2&q=lunch&limit=2&before=${res.body.next_cursor.before}`
  }
  expect(seen).toEqual([sent.ba, sent.group, sent.bc, sent.ab])
})

describe('refusals', () => {
  test.each([
    ['an unbalanced quote', `user_id=1&q=${q('"team lunch')}`, 400, 'invalid_query'],
    ['a lone *', `user_id=1&q=${q('*')}`, 400, 'invalid_query'],
    ['a * inside a word', `user_id=1&q=${q('lu*nch')}`, 400, 'invalid_query'],
    ['an empty query', 'user_id=1&q=', 400, 'invalid_query'],
    ['punctuation only', `user_id=1&q=${q('?!')}`, 400, 'invalid_query'],
    ['a query over 200 characters', `user_id=1&q=${'a'.repeat(201)}`, 400, 'invalid_query'],
    ['both other_user_id and group_id', 'user_id=1&q=lunch&other_user_id=2&group_id=1', 400, 'invalid_query'],
    ['no q', 'user_id=1', 422, 'validation_failed'],
    ['a limit over 100', 'user_id=1&q=lunch&limit=101', 422, 'validation_failed'],
    ['an unknown user', 'user_id=99&q=lunch', 404, 'unknown_user'],
    ['an unknown other user', 'user_id=1&q=lunch&other_user_id=99', 404, 'unknown_user'],
    ['an unknown group', 'user_id=1&q=lunch&group_id=99', 404, 'unknown_group'],
  ])('%s', async (_, query, status, code) => {
    const res = await search(query)
    expect({ status: res.status, code: res.body.error.code }).toEqual({ status, code })
    expect(typeof res.body.error.message).toBe('string')
  })

  test('a group the user is not in: 403 not_a_member', async () => {
    const group = await api(server, 'POST', '/groups', { name: 'bob and carol', member_ids: [2, 3] })
    expect(group.status).toBe(201)
    const res = await search(`user_id=1&q=lunch&group_id=${group.body.id}`)
    expect({ status: res.status, code: res.body.error.code }).toEqual({ status: 403, code: 'not_a_member' })
  })

  // What FTS5 or to_tsquery would read as syntax is searched for as text: each answers 200.
  test.each(['NEAR(lunch team)', 'lunch OR', 'AND', 'NOT lunch', 'body:lunch', '^lunch', '(lunch', 'lunch)', "lunch' & !", '{body}: lunch', 'lunch + team', 'lunch:*', '\\ lunch', '🍕 lunch'])(
    'raw syntax %p is text',
    async (text) => {
      const res = await search(`user_id=1&q=${q(text)}`)
      expect(res.status).toBe(200)
      expect(Array.isArray(res.body.results)).toBe(true)
    },
  )
})
