import { describe, expect, test } from 'bun:test'
import { startServer } from '../helpers/server'
import { artifactPath, BROWSER_TEST_MS, bubble, hasChromium, openAs, openChat, sharedBrowser } from './browser'

describe.skipIf(!hasChromium)('typing shown in the conversation list', () => {
  const browser = sharedBrowser()

  test('two Chromium pages see typing with no conversation open', async () => {
    await using server = await startServer()
    const alice = await openAs(browser(), server.url, 1)
    const bob = await openAs(browser(), server.url, 2)
    const carol = await openAs(browser(), server.url, 3)
    const typingIn = (page: typeof bob, key: string) => page.locator(`#conversations button[data-key="${key}"] .last`)

    // Alice writes to Bob, who has nothing open and no conversation with her yet.
    await openChat(alice, 'Bob')
    await alice.getByLabel('Message', { exact: true }).pressSequentially('hel')
    await typingIn(bob, 'u:1').filter({ hasText: 'typing…' }).waitFor()
    expect(await bob.locator('#typing').innerText()).toBe('')
    // Carol is not written to: nothing shows on her page.
    expect(await carol.locator('#conversations', { hasText: 'typing' }).count()).toBe(0)
    await bob.screenshot({ path: artifactPath('typing-in-list-bob.png') })
    // Clearing the field sends the stop; the provisional entry goes with it.
    await alice.getByLabel('Message', { exact: true }).fill('')
    await bob.locator('#conversations button[data-key="u:1"]').waitFor({ state: 'detached' })

    // In the group, both Bob and Carol see who is typing, without opening it.
    await openChat(alice, 'everyone')
    await alice.getByLabel('Message', { exact: true }).pressSequentially('all')
    await typingIn(bob, 'g:1').filter({ hasText: 'Alice is typing…' }).waitFor()
    await typingIn(carol, 'g:1').filter({ hasText: 'Alice is typing…' }).waitFor()

    // A conversation opened meanwhile shows it at once; another open conversation does not.
    await openChat(bob, 'everyone')
    await bob.locator('#typing', { hasText: 'Alice is typing…' }).waitFor()
    await openChat(carol, 'Bob')
    expect(await carol.locator('#typing').innerText()).toBe('')
    await typingIn(carol, 'g:1').filter({ hasText: 'Alice is typing…' }).waitFor()

    // Sending ends it everywhere, and the list shows the message instead.
    await alice.getByRole('button', { name: 'Send' }).click()
    await bubble(bob, 'all').waitFor()
    await bob.locator('#typing:empty').waitFor()
    await typingIn(carol, 'g:1').filter({ hasText: 'Alice: all' }).waitFor()
    for (const page of [alice, bob, carol]) await page.context().close()
  }, BROWSER_TEST_MS)
})
