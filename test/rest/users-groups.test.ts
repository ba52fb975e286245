import { describe, expect, test } from 'bun:test'
import { api, startServer } from '../helpers/server'

describe('users', () => {
  test('POST /users creates a user, GET /users/{id} reads it, a taken username is 409', async () => {
    await using server = await startServer()
    const created = await api(server, 'POST', '/users', { username: 'dave', display_name: 'Dave' })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ id: 4, username: 'dave', display_name: 'Dave', online: false })
    expect((await api(server, 'GET', '/users/4')).body.username).toBe('dave')
    const again = await api(server, 'POST', '/users/', { username: 'dave' })
    expect(again.status).toBe(409)
    expect(again.body.error.code).toBe('username_taken')
  })

  test('usernames are unique without regard to case, and a 409 uses up no id', async () => {
    await using server = await startServer()
    const dave = await api(server, 'POST', '/users', { username: 'Dave' })
    expect(dave.body.id).toBe(4)
    for (const username of ['dave', 'DAVE', 'alice']) {
      const taken = await api(server, 'POST', '/users', { username })
      expect(taken.status).toBe(409)
      expect(taken.body.error.code).toBe('username_taken')
    }
    expect((await api(server, 'POST', '/users', { username: 'erin' })).body.id).toBe(5)
    expect((await api(server, 'GET', '/users/4')).body.username).toBe('Dave')
  })

  test.each([
    ['no username', {}],
    ['empty username', { username: '' }],
    ['username with spaces', { username: 'a b' }],
    ['unknown field', { username: 'eve', admin: true }],
    ['wrong type', { username: 42 }],
  ])('POST /users with %s is 422 with a JSON error', async (_, body) => {
    await using server = await startServer()
    const res = await api(server, 'POST', '/users', body)
    expect(res.status).toBe(422)
    expect(res.body.error.code).toBe('validation_failed')
    expect(typeof res.body.error.message).toBe('string')
  })

  test('GET /users lists users by id a page at a time, with q searching username and display name', async () => {
    await using server = await startServer()
    for (const [username, display_name] of [['dave', 'Dave Smith'], ['davina', undefined], ['eve', 'Eve Davies']])
      expect((await api(server, 'POST', '/users', { username, display_name })).status).toBe(201)
    const all = await api(server, 'GET', '/users')
    expect(all.status).toBe(200)
    expect(all.body.users.map((u: { username: string }) => u.username)).toEqual(['alice', 'bob', 'carol', 'dave', 'davina', 'eve'])
    expect(all.body.users[0]).toEqual({ id: 1, username: 'alice', display_name: 'Alice', created_at: expect.any(String), online: false })
    expect(all.body).toMatchObject({ has_more: false, next_cursor: null })

    const first = await api(server, 'GET', '/users?limit=4')
    expect(first.body.users.map((u: { id: number }) => u.id)).toEqual([1, 2, 3, 4])
    expect(first.body).toMatchObject({ has_more: true, next_cursor: { after: 4 } })
    const rest = await api(server, 'GET', '/users?limit=4&after=4')
    expect(rest.body.users.map((u: { id: number }) => u.id)).toEqual([5, 6])
    expect(rest.body).toMatchObject({ has_more: false, next_cursor: null })

    const dav = await api(server, 'GET', '/users?q=DAV&limit=2')
    expect(dav.body.users.map((u: { username: string }) => u.username)).toEqual(['dave', 'davina'])
    expect(dav.body.next_cursor).toEqual({ after: 5 })
    // The cursor keeps the search: the next page has the match on a display name.
    expect((await api(server, 'GET', '/users?q=dav&limit=2&after=5')).body.users.map((u: { username: string }) => u.username)).toEqual(['eve'])
    expect((await api(server, 'GET', '/users?q=nobody')).body).toEqual({ users: [], has_more: false, next_cursor: null })
  })

  test.each([
    ['limit above 100', '?limit=101'],
    ['limit 0', '?limit=0'],
    ['a negative cursor', '?after=-1'],
    ['an empty q', '?q='],
    ['a q of 65 characters', `?q=${'a'.repeat(65)}`],
  ])('GET /users with %s is 422', async (_, query) => {
    await using server = await startServer()
    const res = await api(server, 'GET', `/users${query}`)
    expect(res.status).toBe(422)
    expect(typeof res.body.error.message).toBe('string')
  })

  test('malformed JSON is 400, an unknown user 404, a bad id 422, an unknown route 404', async () => {
    await using server = await startServer()
    const bad = await api(server, 'POST', '/users', '{"username":')
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('invalid_json')
    expect((await api(server, 'GET', '/users/99')).status).toBe(404)
    expect((await api(server, 'GET', '/users/abc')).status).toBe(422)
    const route = await api(server, 'GET', '/nothing-here')
    expect(route.status).toBe(404)
    expect(route.body.error.code).toBe('not_found')
  })

  test('a body larger than the limit is 413 with a JSON error', async () => {
    await using server = await startServer({ config: { maxBodyBytes: 2048 } })
    const res = await api(server, 'POST', '/users', { username: 'x', display_name: 'y'.repeat(5000) })
    expect(res.status).toBe(413)
    expect(res.body.error.code).toBe('body_too_large')
  })
})

describe('groups', () => {
  test('create, read, add and remove members', async () => {
    await using server = await startServer()
    const created = await api(server, 'POST', '/groups', { name: 'pair', member_ids: [1, 2] })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ id: 2, name: 'pair', member_ids: [1, 2] })
    expect((await api(server, 'GET', '/groups/2')).body.member_ids).toEqual([1, 2])
    const added = await api(server, 'POST', '/groups/2/members', { user_id: 3 })
    expect(added.status).toBe(201)
    expect(added.body.member_ids).toEqual([1, 2, 3])
    expect((await api(server, 'POST', '/groups/2/members', { user_id: 3 })).status).toBe(409)
    const removed = await api(server, 'DELETE', '/groups/2/members/1')
    expect(removed.status).toBe(200)
    expect(removed.body.member_ids).toEqual([2, 3])
    expect((await api(server, 'DELETE', '/groups/2/members/1')).status).toBe(404)
  })

  test('unknown members, unknown groups and bad bodies are refused', async () => {
    await using server = await startServer()
    const unknownMember = await api(server, 'POST', '/groups', { name: 'x', member_ids: [1, 99] })
    expect(unknownMember.status).toBe(404)
    expect(unknownMember.body.error.code).toBe('unknown_user')
    expect((await api(server, 'POST', '/groups', { name: 'x', member_ids: [] })).status).toBe(422)
    expect((await api(server, 'GET', '/groups/42')).status).toBe(404)
    expect((await api(server, 'POST', '/groups/42/members', { user_id: 1 })).status).toBe(404)
    expect((await api(server, 'POST', '/groups/1/members', { user_id: 99 })).status).toBe(404)
  })
})
