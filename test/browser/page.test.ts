import { describe, expect, test } from 'bun:test'
import { mintToken, SECRET } from '../hardening/fixtures'
import { ADMIN_TOKEN, adminApi } from '../helpers/admin'
import { api, startServer } from '../helpers/server'
import { artifactPath, BROWSER_TEST_MS, bubble, eventually, hasChromium, openAs, openChat, sendMessage, sharedBrowser } from './browser'

describe.skipIf(!hasChromium)('the test page', () => {
  const browser = sharedBrowser()

  test('people and groups are picked by name from a searchable list', async () => {
    await using server = await startServer()
    await api(server, 'POST', '/users', { username: 'dave', display_name: 'Dave Smith' })
    await api(server, 'POST', '/users', { username: 'davina' })
    for (let i = 1; i <= 25; i++) await api(server, 'POST', '/users', { username: `member${String(i).padStart(2, '0')}` })
    const alice = await openAs(browser(), server.url, 1)
    const directory = alice.getByRole('list', { name: 'People and groups' })
    const names = () => directory.locator('button.pick .name').allInnerTexts()
    // Your groups, then people by name (yourself for notes); no ids anywhere.
    await directory.getByRole('button', { name: 'Bob' }).waitFor()
    // A group's name arrives after its id (GET /groups/{id}): it may show as "group 1" for a moment.
    await eventually(async () => (await names()).slice(0, 6), ['everyone', 'Alice (you)', 'Bob', 'Carol', 'Dave Smith', 'davina'])
    expect((await directory.innerText())).not.toMatch(/\b(id|user) ?\d/)

    await alice.getByLabel('Find people and groups').fill('dav')
    await eventually(names, ['Dave Smith', 'davina'])
    await directory.getByRole('button', { name: /^Dave Smith/ }).click()
    await alice.locator('#chat-title', { hasText: 'Dave Smith' }).waitFor()
    await sendMessage(alice, 'hello Dave')
    await bubble(alice, 'hello Dave').locator('.tick[aria-label="sent"]').waitFor()
    const stored = await api(server, 'GET', '/messages?user_id=4&other_user_id=1')
    expect(stored.body.messages.map((m: { message: string }) => m.message)).toEqual(['hello Dave'])

    // A long list comes a page at a time.
    await alice.getByLabel('Find people and groups').fill('member')
    await eventually(async () => (await names()).length, 20)
    await alice.getByRole('button', { name: 'More people' }).click()
    await eventually(async () => (await names()).length, 25)
    expect(await alice.getByRole('button', { name: 'More people' }).count()).toBe(0)

    // Groups by name too; Enter picks the first match.
    await alice.getByLabel('Find people and groups').fill('every')
    await alice.getByLabel('Find people and groups').press('Enter')
    await alice.locator('#chat-title', { hasText: 'everyone' }).waitFor()
    await alice.getByLabel('Find people and groups').fill('zebra')
    await directory.getByText('Nobody matches “zebra”').waitFor()
    await alice.screenshot({ path: artifactPath('directory.png') })
    await alice.context().close()
  }, BROWSER_TEST_MS)

  test('a group is created from the page with the people ticked, and its members chat in it', async () => {
    await using server = await startServer()
    const alice = await openAs(browser(), server.url, 1)
    const bob = await openAs(browser(), server.url, 2)
    // The form shows only when asked for.
    await alice.getByRole('button', { name: 'New group' }).waitFor()
    expect(await alice.getByLabel('Group name').isVisible()).toBe(false)
    await alice.getByRole('button', { name: 'New group' }).click()
    await alice.getByLabel('Group name').fill('project')
    await alice.getByRole('checkbox', { name: 'Bob' }).check()
    await alice.getByRole('checkbox', { name: 'Carol' }).check()
    await alice.screenshot({ path: artifactPath('new-group.png') })
    await alice.getByRole('button', { name: 'Create group' }).click()
    await alice.locator('#chat-title', { hasText: 'project' }).waitFor()
    const group = await api(server, 'GET', '/groups/2')
    expect(group.body).toMatchObject({ name: 'project', member_ids: [1, 2, 3], created_by: 1 })

    await sendMessage(alice, 'kick-off')
    await bubble(bob, 'kick-off').locator('.who', { hasText: /^Alice$/ }).waitFor()
    await bob.locator('#conversations button[data-key="g:2"] .name', { hasText: 'project' }).waitFor()
    await sendMessage(bob, 'on it')
    await bubble(alice, 'on it').locator('.who', { hasText: /^Bob$/ }).waitFor()
    for (const page of [alice, bob]) await page.context().close()
  }, BROWSER_TEST_MS)

  test('group messages show the sender by name once it is learned, never an id', async () => {
    await using server = await startServer()
    const alice = await openAs(browser(), server.url, 1)
    await openChat(alice, 'everyone')
    // Carol is offline and has never written to Alice: her name is not known to the page yet.
    await api(server, 'POST', '/messages', { sender_id: 3, group_id: 1, message: 'carol here' })
    await bubble(alice, 'carol here').locator('.who', { hasText: /^Carol$/ }).waitFor()
    await alice.locator('#conversations button[data-key="g:1"] .last', { hasText: 'Carol: carol here' }).waitFor()
    await alice.locator('#chat-title', { hasText: 'everyone' }).waitFor()
    expect(await alice.locator('body').innerText()).not.toMatch(/user 3|\(3\)/)
    await alice.context().close()
  }, BROWSER_TEST_MS)

  test("a group message's 'read by N' survives reconnects and counts each reader once", async () => {
    await using server = await startServer()
    const alice = await openAs(browser(), server.url, 1)
    const bob = await openAs(browser(), server.url, 2)
    await openChat(alice, 'everyone')
    await sendMessage(alice, 'to all')
    await openChat(bob, 'everyone')
    const tick = alice.locator('#messages li.msg .tick')
    await bubble(alice, 'to all').locator('.tick[aria-label="read by 1"]').waitFor()

    // A format switch reconnects: the count is kept.
    await alice.getByLabel('Format').selectOption({ label: 'MessagePack' })
    await alice.locator('#state[data-state="open"]', { hasText: 'MessagePack' }).waitFor()
    await bubble(alice, 'to all').waitFor()
    expect(await tick.getAttribute('aria-label')).toBe('read by 1')

    // Carol reads it while Alice is away: after connecting again Alice sees both readers.
    await alice.getByRole('button', { name: 'Disconnect' }).click()
    const stored = await api(server, 'GET', '/messages?user_id=3&group_id=1')
    expect((await api(server, 'PUT', `/messages/${stored.body.messages[0].id}/read?user_id=3`)).status).toBe(200)
    await alice.getByRole('button', { name: 'Connect' }).click()
    await alice.locator('#state[data-state="open"]').waitFor()
    await bubble(alice, 'to all').locator('.tick[aria-label="read by 2"]').waitFor()

    // Bob reading a later message counts him for that one, not twice for the first.
    await sendMessage(alice, 'second')
    await bubble(alice, 'second').locator('.tick[aria-label="read by 1"]').waitFor()
    expect(await bubble(alice, 'to all').locator('.tick').getAttribute('aria-label')).toBe('read by 2')
    for (const page of [alice, bob]) await page.context().close()
  }, BROWSER_TEST_MS)

  test('after a reconnect the page resumes from the stream: what was sent meanwhile shows once, and history is not fetched again', async () => {
    await using server = await startServer({ config: { adminToken: ADMIN_TOKEN } })
    const alice = await openAs(browser(), server.url, 1)
    const historyFetches: string[] = []
    alice.on('request', (request) => {
      const url = new URL(request.url())
      if (url.pathname === '/messages') historyFetches.push(url.search)
    })
    await openChat(alice, 'Bob')
    await sendMessage(alice, 'before the drop')
    await bubble(alice, 'before the drop').locator('.tick:not([aria-label="sending"])').waitFor()
    expect(historyFetches.length).toBe(1) // opening the conversation

    expect((await adminApi(server, 'POST', '/admin/api/users/1/disconnect')).status).toBe(200)
    await alice.locator('#state[data-state="reconnecting"]').waitFor()
    await api(server, 'POST', '/messages', { sender_id: 2, recipient_id: 1, message: 'while you were away' })
    await alice.locator('#state[data-state="open"]').waitFor()
    await bubble(alice, 'while you were away').waitFor()
    await Bun.sleep(500) // a refetch after the reconnect's synced would have happened by now
    expect(await alice.locator('#messages li.msg .text').allInnerTexts()).toEqual(['before the drop', 'while you were away'])
    expect(historyFetches.length).toBe(1)
    await alice.context().close()
  }, BROWSER_TEST_MS)

  test('read counts, delivered ticks and new groups that changed while the page was away arrive from the stream, without history', async () => {
    await using server = await startServer({ config: { adminToken: ADMIN_TOKEN } })
    const alice = await openAs(browser(), server.url, 1)
    const bob = await openAs(browser(), server.url, 2)
    const historyFetches: string[] = []
    alice.on('request', (request) => {
      const url = new URL(request.url())
      if (url.pathname === '/messages') historyFetches.push(url.search)
    })
    await openChat(alice, 'everyone')
    await sendMessage(alice, 'to all')
    await openChat(bob, 'everyone')
    await bubble(alice, 'to all').locator('.tick[aria-label="read by 1"]').waitFor()
    expect(historyFetches.length).toBe(1)

    // The connection drops; meanwhile carol reads the message and is put in a new group with alice.
    expect((await adminApi(server, 'POST', '/admin/api/users/1/disconnect')).status).toBe(200)
    await alice.locator('#state[data-state="reconnecting"]').waitFor()
    const stored = await api(server, 'GET', '/messages?user_id=3&group_id=1')
    expect((await api(server, 'PUT', `/messages/${stored.body.messages.at(-1).id}/read?user_id=3`)).status).toBe(200)
    await api(server, 'POST', '/groups', { name: 'alice and carol', member_ids: [1, 3] })
    await alice.locator('#state[data-state="open"]').waitFor()
    await bubble(alice, 'to all').locator('.tick[aria-label="read by 2"]').waitFor()
    await alice.getByText('alice and carol').first().waitFor()
    await alice.screenshot({ path: artifactPath('stream-resume.png') })
    expect(historyFetches.length).toBe(1)
    for (const page of [alice, bob]) await page.context().close()
  }, BROWSER_TEST_MS)

  test('a note to self leaves no unread badge', async () => {
    await using server = await startServer()
    const alice = await openAs(browser(), server.url, 1)
    await openChat(alice, 'Alice')
    await sendMessage(alice, 'remember the milk')
    await alice.locator('#conversations button[data-key="u:1"] .last', { hasText: 'remember the milk' }).waitFor()
    await bubble(alice, 'remember the milk').locator('.tick[aria-label="read"]').waitFor()
    await alice.locator('#conversations button[data-key="u:1"]:not(:has(.unread))').waitFor()
    // Still none after a reload of the list from the server (another conversation's message triggers one).
    await api(server, 'POST', '/messages', { sender_id: 2, recipient_id: 1, message: 'from bob' })
    await alice.locator('#conversations button[data-key="u:2"] .unread').waitFor()
    expect(await alice.locator('#conversations button[data-key="u:1"] .unread').count()).toBe(0)
    await alice.context().close()
  }, BROWSER_TEST_MS)

  test('the user, format and token are remembered across a reload until forgotten', async () => {
    await using server = await startServer({ config: { auth: 'jwt', jwtSecret: SECRET } })
    const context = await browser().newContext()
    const page = await context.newPage()
    page.setDefaultTimeout(10_000)
    await page.goto(`${server.url}/`)
    await page.getByLabel('User ID').fill('2')
    await page.getByLabel('Format').selectOption({ label: 'MessagePack' })
    await page.getByLabel('Token').fill(await mintToken(SECRET, { sub: '2' }))
    await page.getByRole('button', { name: 'Connect' }).click()
    await page.locator('#state[data-state="open"]').waitFor()

    await page.reload()
    // Connected again as Bob, in MessagePack, without typing anything.
    await page.locator('#state[data-state="open"]', { hasText: 'MessagePack' }).waitFor()
    expect(await page.getByLabel('User ID').inputValue()).toBe('2')
    await page.locator('#conversations button[data-key="g:1"]').waitFor() // an authorized REST call

    await page.getByRole('button', { name: 'Forget me' }).click()
    await page.locator('#state[data-state="closed"], #state[data-state="idle"]').waitFor()
    await page.reload()
    await page.getByRole('button', { name: 'Connect' }).waitFor()
    await Bun.sleep(300)
    expect(await page.locator('#state').innerText()).toBe('not connected')
    expect(await page.getByLabel('Token').inputValue()).toBe('')
    await context.close()
  }, BROWSER_TEST_MS)

  test('on a phone (390 px) the conversation list collapses and the chat takes the screen', async () => {
    await using server = await startServer()
    await api(server, 'POST', '/messages', { sender_id: 2, recipient_id: 1, message: 'hi from bob' })
    const alice = await openAs(browser(), server.url, 1, { viewport: { width: 390, height: 844 } })
    const list = alice.getByRole('list', { name: 'Conversations' })
    const chat = alice.locator('#messages')
    // Nothing open: the list has the screen, the chat is not shown.
    await list.locator('button[data-key="u:2"]').waitFor()
    expect(await chat.isVisible()).toBe(false)
    await alice.screenshot({ path: artifactPath('phone-list.png') })

    await list.locator('button[data-key="u:2"]').click()
    await bubble(alice, 'hi from bob').waitFor()
    expect(await list.isVisible()).toBe(false)
    const box = (await chat.boundingBox())!
    expect(box.width).toBeGreaterThan(370)
    expect(box.height).toBeGreaterThan(500)
    await sendMessage(alice, 'hello from the phone')
    await bubble(alice, 'hello from the phone').waitFor()
    await alice.screenshot({ path: artifactPath('phone-chat.png') })

    // Back to the list, and into another conversation.
    await alice.getByRole('button', { name: 'Back to conversations' }).click()
    await list.locator('button[data-key="g:1"]').click()
    await alice.locator('#chat-title', { hasText: 'everyone' }).waitFor()
    expect(await list.isVisible()).toBe(false)
    await alice.context().close()
  }, BROWSER_TEST_MS)
})
