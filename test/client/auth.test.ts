import { expect, test } from 'bun:test'
import type { StateChange } from '../../src/client'
import { mintToken, SECRET } from '../hardening/fixtures'
import { startServer } from '../helpers/server'
import { connectClient, waitFor } from './helpers'

const jwt = { auth: 'jwt' as const, jwtSecret: SECRET }

test('with AUTH=jwt the token opens the socket and the online-users call', async () => {
  await using server = await startServer({ config: jwt })
  using alice = await connectClient(server.url, 1, { token: await mintToken(SECRET, { sub: '1' }), presence: true })
  using bob = await connectClient(server.url, 2, { token: await mintToken(SECRET, { sub: '2' }) })
  await waitFor('online list from the authorized REST call', () => alice.onlineUsers.join() === '1,2')
  const sent = await alice.send({ recipient_id: 2 }, 'signed and sealed')
  await waitFor('bob gets it', () => bob.received.length === 1)
  expect(bob.received[0].id).toBe(sent.message_id)
})

test('when the token expires (close 4001) the client reconnects with a fresh one and misses nothing', async () => {
  await using server = await startServer({ config: jwt })
  let minted = 0
  // Each connection asks for a token; the first lives two seconds.
  const token = () => {
    minted++
    return mintToken(SECRET, { sub: '1', exp: Math.floor(Date.now() / 1000) + (minted === 1 ? 2 : 3600) })
  }
  using alice = await connectClient(server.url, 1, { token })
  using bob = await connectClient(server.url, 2, { token: await mintToken(SECRET, { sub: '2' }) })
  const states: StateChange[] = []
  alice.on('state', (s) => states.push(s))

  const before = await bob.send({ recipient_id: 1 }, 'before expiry')
  await waitFor('closed for expiry', () => states.some((s) => s.reason?.startsWith('closed (4001')), 6000)
  const during = await bob.send({ recipient_id: 1 }, 'around expiry')
  await waitFor('open again', () => alice.state === 'open')
  const after = await bob.send({ recipient_id: 1 }, 'after expiry')
  await waitFor('all three', () => alice.received.length === 3)
  await Bun.sleep(100)
  expect(alice.received.map((m) => m.id)).toEqual([before.message_id, during.message_id, after.message_id])
  expect(minted).toBeGreaterThanOrEqual(2)
})
