// A method a path does not answer to is 405 with an Allow header naming those it does (RFC 9110
// §15.5.6), and the JSON error body; a path no route has stays 404.
import { expect, test } from 'bun:test'
import { mintToken, SECRET } from '../hardening/fixtures'
import { api, startServer } from '../helpers/server'

test.each([
  ['DELETE', '/users', 'GET, HEAD, POST'],
  ['PUT', '/users/', 'GET, HEAD, POST'],
  ['PATCH', '/users/1', 'GET, HEAD'],
  ['POST', '/health', 'GET, HEAD'],
  ['DELETE', '/metrics', 'GET, HEAD'],
  ['GET', '/groups/1/members', 'POST'],
  ['PUT', '/groups/1/members/2', 'DELETE'],
  ['GET', '/messages/1/read', 'PUT'],
  ['DELETE', '/messages', 'GET, HEAD, POST'],
  ['POST', '/messages/conversations/1', 'GET, HEAD'],
  ['POST', '/ws/1', 'GET, HEAD'],
  ['POST', '/', 'GET, HEAD'],
  ['PUT', '/public/style.css', 'GET, HEAD'],
  ['OPTIONS', '/groups/1', 'GET, HEAD'],
])('%s %s is 405 with Allow: %s', async (method, path, allow) => {
  await using server = await startServer()
  const res = await api(server, method, path)
  expect(res.status).toBe(405)
  expect(res.headers.get('allow')).toBe(allow)
  expect(res.body.error.code).toBe('method_not_allowed')
  expect(res.body.error.message).toBe(`${method} is not allowed here; use ${allow}`)
})

test('HEAD on a path without GET is 405 with Allow and no body', async () => {
  await using server = await startServer()
  const res = await fetch(server.url + '/groups/1/members', { method: 'HEAD' })
  expect(res.status).toBe(405)
  expect(res.headers.get('allow')).toBe('POST')
  expect(await res.text()).toBe('')
})

test.each([
  ['GET', '/nothing-here'],
  ['DELETE', '/nothing-here'],
  ['POST', '/users/1/extra'],
  ['GET', '/messages/1/unread'],
])('%s %s, a path no route has, stays 404', async (method, path) => {
  await using server = await startServer()
  const res = await api(server, method, path)
  expect(res.status).toBe(404)
  expect(res.headers.get('allow')).toBeNull()
  expect(res.body.error.code).toBe('not_found')
})

test('a wrong method is 405 before any token is asked for (AUTH=jwt)', async () => {
  await using server = await startServer({ config: { auth: 'jwt', jwtSecret: SECRET } })
  const res = await api(server, 'DELETE', '/users/1')
  expect(res.status).toBe(405)
  expect(res.headers.get('allow')).toBe('GET, HEAD')
  // The right method still needs the token.
  expect((await api(server, 'GET', '/users/1')).status).toBe(401)
  expect((await api(server, 'GET', '/users/1', undefined, { token: await mintToken(SECRET, { sub: '1' }) })).status).toBe(200)
})
