// Under AUTH=jwt the token is the acting user of an upload and a download, as on every other route.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mintToken, SECRET } from '../hardening/fixtures'
import { api, startServer, type TestServer } from '../helpers/server'
import { pngOf, upload } from '../helpers/uploads'

let server: TestServer
const token: Record<number, string> = {}
beforeAll(async () => {
  server = await startServer({ config: { auth: 'jwt', jwtSecret: SECRET } })
  for (const id of [1, 2, 3]) token[id] = await mintToken(SECRET, { sub: String(id) })
})
afterAll(() => server[Symbol.asyncDispose]())

test('the token decides who uploads and who downloads; naming another user is 403, no token 401', async () => {
  const png = await pngOf(10, 10)
  expect((await upload(server, png, { userId: null })).status).toBe(401)
  const asOther = await upload(server, png, { userId: 2, token: token[1] })
  expect(asOther.status).toBe(403)
  expect(asOther.body.error.code).toBe('forbidden')
  const up = await upload(server, png, { userId: null, token: token[1] })
  expect(up.status).toBe(201)

  const sent = await api(server, 'POST', '/messages', { sender_id: 1, recipient_id: 2, message: '', attachment_ids: [up.body.id] }, { token: token[1] })
  expect(sent.status).toBe(201)
  const get = (who: number, query = '') => fetch(`${server.url}${up.body.url}${query}`, { headers: { authorization: `Bearer ${token[who]}` } })
  expect((await get(2)).status).toBe(200)
  expect((await get(3)).status).toBe(404)
  // carol naming bob gains nothing.
  expect((await get(3, '?user_id=2')).status).toBe(403)
  expect((await fetch(`${server.url}${up.body.url}`)).status).toBe(401)
})
