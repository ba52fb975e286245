import { expect, test } from 'bun:test'
import { SwitchboardError } from '../../src/client'
import { SECRET, mintToken } from '../hardening/fixtures'
import { startServer } from '../helpers/server'
import { pngOf } from '../helpers/uploads'
import { connectClient, waitFor } from './helpers'

test('upload() stores a file, send() carries its id, the other side receives the metadata and downloads the bytes (AUTH=jwt)', async () => {
  await using server = await startServer({ config: { auth: 'jwt', jwtSecret: SECRET } })
  using alice = await connectClient(server.url, 1, { token: await mintToken(SECRET, { sub: '1' }) })
  using bob = await connectClient(server.url, 2, { token: await mintToken(SECRET, { sub: '2' }) })
  const png = await pngOf(30, 20)
  const attachment = await alice.upload(new Blob([png]), 'dot.png')
  expect(attachment).toMatchObject({ content_type: 'image/png', name: 'dot.png', width: 30, height: 20 })
  const sent = await alice.send({ recipient_id: 2 }, '', { attachmentIds: [attachment.id] })
  expect(sent.duplicate).toBe(false)
  await waitFor('the message', () => bob.received.length === 1)
  expect(bob.received[0]).toMatchObject({ message_type: 'image', attachments: [attachment] })
  expect(new Uint8Array(await (await bob.download(bob.received[0].attachments![0])).arrayBuffer())).toEqual(png)
  expect((await bob.download(attachment, { thumbnail: true })).size).toBeGreaterThan(0)

  // Refusals come back as SwitchboardError with the server's code.
  const exe = new Uint8Array([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, ...new Array(100).fill(0)])
  const refused = await alice.upload(new Blob([exe]), 'setup.exe').catch((e) => e)
  expect(refused).toBeInstanceOf(SwitchboardError)
  expect(refused.code).toBe('type_not_allowed')
  const notHers = await bob.send({ recipient_id: 1 }, '', { attachmentIds: [attachment.id] }).catch((e) => e)
  expect(notHers.code).toBe('attachment_not_allowed')
})
