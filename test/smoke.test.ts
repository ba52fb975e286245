import { expect, test } from 'bun:test'
import { startServer } from './helpers/server'
import { TestClient } from './helpers/ws-client'

test('a message from alice reaches bob and alice gets message_sent', async () => {
  await using server = await startServer()
  const alice = await TestClient.connect(server.wsUrl, '/ws/1')
  const bob = await TestClient.connect(server.wsUrl, '/ws/2')
  alice.send({ type: 'message', recipient_id: 2, message: 'Hello!' })
  const got = await bob.next('message')
  expect(got).toMatchObject({ sender_id: 1, recipient_id: 2, message: 'Hello!', status: 'delivered' })
  const sent = await alice.next('message_sent')
  expect(sent).toMatchObject({ message_id: got.id, status: 'sent' })
  // Then bob's device confirms it (its socket answers a ping): alice is told.
  expect(await alice.next('message_status')).toMatchObject({ message_id: got.id, status: 'delivered', user_id: 2 })
  alice.close()
  bob.close()
})
