// A 422 names the field (its path within the query, the path parameters or the body) and says
// in plain words what it expects, for every kind of schema failure the REST routes can meet.
import { expect, test } from 'bun:test'
import { api, startServer } from '../helpers/server'

const history = '/messages?user_id=1&other_user_id=2'

test.each([
  // query
  ['GET', `${history}&limit=500`, undefined, 'limit: at most 200 (got 500)'],
  ['GET', `${history}&limit=0`, undefined, 'limit: at least 1 (got 0)'],
  ['GET', `${history}&limit=abc`, undefined, 'limit: expected a whole number from 1 to 200 (got "abc")'],
  ['GET', `${history}&limit=2.5`, undefined, 'limit: expected a whole number from 1 to 200 (got "2.5")'],
  ['GET', `${history}&after=-1`, undefined, 'after: at least 0 (got -1)'],
  ['GET', '/messages?other_user_id=2', undefined, 'user_id: required, a whole number of at least 1'],
  ['PUT', '/messages/1/read?user_id=x', undefined, 'user_id: expected a whole number of at least 1 (got "x")'],
  // path parameters
  ['GET', '/users/abc', undefined, 'id: expected a whole number of at least 1 (got "abc")'],
  ['GET', '/users/0', undefined, 'id: at least 1 (got 0)'],
  ['DELETE', '/groups/1/members/zero', undefined, 'user_id: expected a whole number of at least 1 (got "zero")'],
  ['GET', '/messages/conversations/-3', undefined, 'user_id: at least 1 (got -3)'],
  // body
  ['POST', '/users', {}, 'username: required, a string of 1 to 64 characters'],
  ['POST', '/users', { username: '' }, 'username: at least 1 character (got 0)'],
  ['POST', '/users', { username: 'x'.repeat(65) }, 'username: at most 64 characters (got 65)'],
  ['POST', '/users', { username: 'a b' }, "username: only letters, digits, '_', '.' and '-' (got \"a b\")"],
  ['POST', '/users', { username: 42 }, 'username: expected a string of 1 to 64 characters (got 42)'],
  ['POST', '/users', { username: 'eve', admin: true }, 'admin: not a field of this body (its fields: username, display_name)'],
  ['POST', '/users', [], 'body: expected a JSON object (got a list)'],
  ['POST', '/users', 'null', 'body: expected a JSON object (got null)'],
  ['POST', '/users', { username: 'eve', display_name: 'd'.repeat(129) }, 'display_name: at most 128 characters (got 129)'],
  ['POST', '/groups', { name: 'g', member_ids: [] }, 'member_ids: at least 1 item (got 0)'],
  ['POST', '/groups', { name: 'g', member_ids: [1, 'a'] }, 'member_ids[1]: expected a whole number of at least 1 (got "a")'],
  ['POST', '/groups', { name: 'g', member_ids: 1 }, 'member_ids: expected a list of 1 to 10000 items (got 1)'],
  ['POST', '/messages', { sender_id: 1, recipient_id: 2.5, message: 'x' }, 'recipient_id: expected a whole number of at least 1 (got 2.5)'],
  ['POST', '/messages', { sender_id: 1, recipient_id: 2, message: 'x', message_type: 'NO' }, "message_type: a lowercase letter, then up to 31 lowercase letters, digits, '_', '.' or '-' (got \"NO\")"],
  ['POST', '/messages', { sender_id: 1, recipient_id: 2, message: 'x', client_id: 'c'.repeat(65) }, 'client_id: at most 64 characters (got 65)'],
  ['POST', '/messages', { sender_id: '1', recipient_id: 2, message: 'x' }, 'sender_id: expected a whole number of at least 1 (got "1")'],
  ['POST', '/messages', { sender_id: 1, recipient_id: 2, message: true }, 'message: expected a string (got true)'],
] as const)('%s %s %j: 422 "%s"', async (method, path, body, message) => {
  await using server = await startServer()
  const res = await api(server, method, path, body)
  expect(res.status).toBe(422)
  expect(res.body.error).toEqual({ code: 'validation_failed', message })
})
