import { describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SwitchboardClient } from '../../src/client'
import { mintToken, SECRET } from '../hardening/fixtures'
import { api, startServer } from '../helpers/server'
import { artifactPath, BROWSER_TEST_MS, bubble, hasChromium, openAs, openChat, sendMessage, sharedBrowser } from './browser'

describe.skipIf(!hasChromium)('test page in headless Chromium', () => {
  const browser = sharedBrowser()

  test('two users exchange messages both ways and the sender sees the read tick', async () => {
    await using server = await startServer()
    const alice = await openAs(browser(), server.url, 1)
    const bob = await openAs(browser(), server.url, 2, { viewport: { width: 390, height: 760 } })
    await openChat(bob, 'Alice')

    await openChat(alice, 'Bob')
    await sendMessage(alice, 'Hello Bob!')
    await bubble(bob, 'Hello Bob!').waitFor()
    // Bob's page shows it, so it is read: Alice's tick turns to "read".
    await bubble(alice, 'Hello Bob!').locator('.tick[aria-label="read"]').waitFor()

    await sendMessage(bob, 'Hi Alice, all good here.')
    await bubble(alice, 'Hi Alice, all good here.').waitFor()
    await bubble(bob, 'Hi Alice, all good here.').locator('.tick[aria-label="read"]').waitFor()

    expect(await alice.locator('#messages li.msg').allInnerTexts()).toHaveLength(2)
    expect(await bob.locator('#messages li.msg').allInnerTexts()).toHaveLength(2)
    // Both see the other online and the conversation in the list, with nothing unread.
    await alice.locator('#online-users button[data-user-id="2"]').waitFor()
    await alice.locator('#conversations button[data-key="u:2"]').waitFor()
    expect(await alice.locator('#conversations button[data-key="u:2"] .unread').count()).toBe(0)

    await alice.screenshot({ path: artifactPath('two-users-alice-laptop.png') })
    await bob.screenshot({ path: artifactPath('two-users-bob-phone.png') })
    await alice.context().close()
    await bob.context().close()
  }, BROWSER_TEST_MS)

  test('the typing indicator appears while the other types and goes away', async () => {
    await using server = await startServer()
    const alice = await openAs(browser(), server.url, 1)
    const bob = await openAs(browser(), server.url, 2)
    await openChat(bob, 'Alice')
    await openChat(alice, 'Bob')

    await alice.getByLabel('Message', { exact: true }).pressSequentially('I am wri')
    await bob.locator('#typing', { hasText: 'Alice is typing…' }).waitFor()
    // Clearing the field sends the stop.
    await alice.getByLabel('Message', { exact: true }).fill('')
    await bob.locator('#typing:empty').waitFor()

    // Typing again, then sending, also ends it.
    await alice.getByLabel('Message', { exact: true }).pressSequentially('done')
    await bob.locator('#typing', { hasText: 'is typing' }).waitFor()
    await alice.getByRole('button', { name: 'Send' }).click()
    await bubble(bob, 'done').waitFor()
    await bob.locator('#typing:empty').waitFor()
    await alice.context().close()
    await bob.context().close()
  }, BROWSER_TEST_MS)

  test('a MessagePack page and a JSON page talk to each other, in a group too', async () => {
    await using server = await startServer()
    const alice = await openAs(browser(), server.url, 1, { format: 'msgpack' })
    const bob = await openAs(browser(), server.url, 2, { format: 'json' })
    expect(await alice.locator('#state').innerText()).toContain('MessagePack')
    expect(await bob.locator('#state').innerText()).toContain('JSON')

    await openChat(alice, 'Bob')
    await openChat(bob, 'Alice')
    await sendMessage(alice, 'packed')
    await bubble(bob, 'packed').waitFor()
    await sendMessage(bob, 'plain')
    await bubble(alice, 'plain').waitFor()
    await bubble(bob, 'plain').locator('.tick[aria-label="read"]').waitFor()

    await openChat(alice, 'everyone')
    await openChat(bob, 'everyone')
    await sendMessage(bob, 'hello everyone')
    await bubble(alice, 'hello everyone').waitFor()
    expect(await bubble(alice, 'hello everyone').locator('.who').innerText()).toBe('Bob')
    await bubble(bob, 'hello everyone').locator('.tick[aria-label^="read by"]').waitFor()

    // Switching the format while connected reconnects in the other framing and keeps the conversation.
    await bob.getByLabel('Format').selectOption({ label: 'MessagePack' })
    await bob.locator('#state[data-state="open"]', { hasText: 'MessagePack' }).waitFor()
    await bubble(bob, 'hello everyone').waitFor()
    expect(await bob.locator('#messages li.msg').count()).toBe(1)
    await sendMessage(bob, 'now packed too')
    await bubble(alice, 'now packed too').waitFor()
    await alice.context().close()
    await bob.context().close()
  }, BROWSER_TEST_MS)

  test('unread counts in the conversation list; history pages in as the list scrolls up', async () => {
    await using server = await startServer()
    const alice = await openAs(browser(), server.url, 1)
    await openChat(alice, 'Bob')
    // Carol writes while Alice looks at Bob's conversation: counted as unread, not shown.
    for (let i = 1; i <= 70; i++) await api(server, 'POST', '/messages', { sender_id: 3, recipient_id: 1, message: `old ${i}` })
    await alice.locator('#conversations button[data-key="u:3"] .unread[aria-label="70 unread"]').waitFor()
    expect(await alice.locator('#messages li.msg').count()).toBe(0)

    await alice.locator('#conversations button[data-key="u:3"]').click()
    await bubble(alice, 'old 70').waitFor()
    expect(await alice.locator('#messages li.msg').count()).toBe(30)
    // Scrolling to the top loads older pages until the first message.
    for (let i = 0; i < 5 && !(await bubble(alice, 'old 1').count()); i++) {
      await alice.locator('#messages').evaluate((list) => list.scrollTo(0, 0))
      await Bun.sleep(300)
    }
    const texts = await alice.locator('#messages li.msg .text').allInnerTexts()
    expect(texts).toEqual(Array.from({ length: 70 }, (_, i) => `old ${i + 1}`))
    // Shown means read: the unread badge goes away.
    await alice.locator('#conversations button[data-key="u:3"]:not(:has(.unread))').waitFor()
    await alice.context().close()
  }, BROWSER_TEST_MS)

  test('mistakes get a clear message: unknown user, nobody found, a send the server refuses', async () => {
    await using server = await startServer()
    const context = await browser().newContext()
    const page = await context.newPage()
    await page.goto(`${server.url}/`)
    await page.getByLabel('User ID').fill('99')
    await page.getByRole('button', { name: 'Connect' }).click()
    await page.getByRole('alert').filter({ hasText: 'user 99 does not exist' }).waitFor()
    expect(await page.locator('#state').getAttribute('data-state')).toBe('idle')

    await page.getByLabel('User ID').fill('1')
    await page.getByRole('button', { name: 'Connect' }).click()
    await page.locator('#state[data-state="open"]').waitFor()
    await page.getByLabel('Find people and groups').fill('nobody-like-this')
    await page.getByRole('list', { name: 'People and groups' }).getByText('Nobody matches “nobody-like-this”').waitFor()
    // A message the server refuses (only an invisible character) is marked failed, and says why.
    await openChat(page, 'everyone')
    await sendMessage(page, '\u200b')
    await page.locator('#messages li.msg .tick[aria-label^="failed"]').waitFor()
    await page.getByRole('alert').filter({ hasText: 'invisible' }).waitFor()
    // Removed from the group while looking at it: the page is told at once and stops offering to send.
    expect((await api(server, 'DELETE', '/groups/1/members/1')).status).toBe(200)
    await page.getByRole('alert').filter({ hasText: 'no longer a member' }).waitFor()
    expect(await page.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true)
    await page.screenshot({ path: artifactPath('errors.png') })
    await context.close()
  }, BROWSER_TEST_MS)

  test('with AUTH=jwt the page works with a pasted token, and says so without one', async () => {
    await using server = await startServer({ config: { auth: 'jwt', jwtSecret: SECRET } })
    const context = await browser().newContext()
    const page = await context.newPage()
    await page.goto(`${server.url}/`)
    await page.getByLabel('User ID').fill('1')
    await page.getByRole('button', { name: 'Connect' }).click()
    await page.getByRole('alert').filter({ hasText: 'Cannot connect' }).waitFor()

    await page.getByLabel('Token').fill(await mintToken(SECRET, { sub: '1' }))
    await page.getByRole('button', { name: 'Connect' }).click()
    await page.locator('#state[data-state="open"]').waitFor()
    await page.locator('#conversations button[data-key="g:1"]').waitFor() // an authorized REST call
    await openChat(page, 'Bob')
    await sendMessage(page, 'with a token')
    await bubble(page, 'with a token').locator('.tick[aria-label="sent"]').waitFor()
    await context.close()
  }, BROWSER_TEST_MS)

  test('a page whose server restarts reconnects and shows what was sent meanwhile exactly once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-browser-'))
    let server = await startServer({ dir })
    const port = server.port
    const alice = new SwitchboardClient({ url: server.url, userId: 1, reconnect: { initialDelayMs: 50, maxDelayMs: 300 } })
    try {
      await alice.connect()
      const bob = await openAs(browser(), server.url, 2)
      await openChat(bob, 'Alice')
      await alice.send({ recipient_id: 2 }, 'before the restart')
      await bubble(bob, 'before the restart').waitFor()

      await server.stop()
      await bob.locator('#state[data-state="reconnecting"]').waitFor()
      // Written while the server is down: queued by both clients.
      const queued = alice.send({ recipient_id: 2 }, 'queued by alice while down')
      await sendMessage(bob, 'queued by bob while down')
      await bubble(bob, 'queued by bob while down').locator('.tick[aria-label="sending"]').waitFor()

      server = await startServer({ dir, port })
      const rest = await api(server, 'POST', '/messages', { sender_id: 1, recipient_id: 2, message: 'sent over REST after the restart' })
      expect(rest.status).toBe(201)
      await queued
      await bob.locator('#state[data-state="open"]').waitFor()
      for (const text of ['queued by alice while down', 'sent over REST after the restart']) await bubble(bob, text).waitFor()
      await bubble(bob, 'queued by bob while down').locator('.tick:not([aria-label="sending"])').waitFor()
      await alice.send({ recipient_id: 2 }, 'live again')
      await bubble(bob, 'live again').waitFor()

      const texts = await bob.locator('#messages li.msg .text').allInnerTexts()
      expect(texts.toSorted()).toEqual(
        ['before the restart', 'live again', 'queued by alice while down', 'queued by bob while down', 'sent over REST after the restart'].toSorted(),
      )
      // Stored once each, the page's own queued message included.
      const stored = await api(server, 'GET', '/messages?user_id=2&other_user_id=1')
      expect(stored.body.messages.map((m: { message: string }) => m.message).toSorted()).toEqual(texts.toSorted())
      await bob.context().close()
    } finally {
      alice.close()
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }, BROWSER_TEST_MS)
})
