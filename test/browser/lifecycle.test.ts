import { describe, expect, test } from 'bun:test'
import type { Page } from 'playwright-core'
import { api, startServer } from '../helpers/server'
import { TcpProxy } from '../helpers/network-faults'
import { artifactPath, BROWSER_TEST_MS, bubble, eventually, hasChromium, openAs, openChat, sendMessage, sharedBrowser } from './browser'

/** Clicks one of a message's buttons (they show on hover), by its accessible name. */
async function actOn(page: Page, text: string, action: string): Promise<void> {
  const li = bubble(page, text)
  await li.hover()
  await li.getByRole('button', { name: action, exact: true }).click()
}

/** What the open conversation shows of each message, the same for every member (no per-viewer marks). */
function shown(page: Page) {
  return page.locator('#messages li.msg').evaluateAll((items) =>
    items.map((li) => ({
      text: li.querySelector('.text')!.textContent,
      edited: !li.querySelector<HTMLElement>('.edited')!.hidden,
      deleted: li.classList.contains('deleted'),
      quote: li.querySelector('.quote-text')?.textContent ?? null,
      reactions: [...li.querySelectorAll<HTMLElement>('.chip')].map((c) => `${c.dataset.emoji} ${c.querySelector('.count')!.textContent}`),
    })),
  )
}

describe.skipIf(!hasChromium)('the message lifecycle on the test page', () => {
  const browser = sharedBrowser()

  test('edit, delete, reactions, a reply and a mention in two tabs; a third tab offline meanwhile converges from the stream', async () => {
    await using server = await startServer()
    // Carol's page goes through a proxy, so that her connection can go dark while the others chat.
    using proxy = TcpProxy.start(server.port)
    const alice = await openAs(browser(), server.url, 1)
    const bob = await openAs(browser(), server.url, 2)
    const carol = await openAs(browser(), proxy.url, 3, { format: 'msgpack' })
    const carolHistory: string[] = []
    carol.on('request', (request) => {
      const url = new URL(request.url())
      if (url.pathname === '/messages') carolHistory.push(url.search)
    })
    for (const page of [alice, bob, carol]) await openChat(page, 'everyone')
    await sendMessage(alice, 'lunch at noon?')
    await sendMessage(alice, 'oops, wrong chat')
    for (const page of [bob, carol]) await bubble(page, 'oops, wrong chat').waitFor()
    expect(carolHistory.length).toBe(1)

    proxy.blackhole('both') // carol's connection is open but hears nothing, and is not heard

    // Alice edits her message: the composer says so, Save sends the edit.
    await actOn(alice, 'lunch at noon?', 'Edit')
    await alice.locator('#compose-context', { hasText: 'Editing: lunch at noon?' }).waitFor()
    expect(await alice.getByLabel('Message', { exact: true }).inputValue()).toBe('lunch at noon?')
    await alice.getByLabel('Message', { exact: true }).fill('lunch at one?')
    await alice.getByRole('button', { name: 'Save' }).click()
    for (const page of [alice, bob]) await bubble(page, 'lunch at one?').locator('.edited:not([hidden])').waitFor()
    expect(await alice.getByRole('button', { name: 'Send' }).isVisible()).toBe(true)

    // And deletes the other.
    await actOn(alice, 'oops, wrong chat', 'Delete')
    for (const page of [alice, bob]) await page.locator('#messages li.msg.deleted .text', { hasText: 'message deleted' }).waitFor()
    expect(await bob.locator('#messages').innerText()).not.toContain('oops')

    // Alice looks at another conversation while Bob reacts and replies, mentioning her.
    await openChat(alice, 'Bob')
    await actOn(bob, 'lunch at one?', 'React 👍')
    await actOn(bob, 'lunch at one?', 'React 🎉')
    await actOn(bob, 'lunch at one?', 'React 😂')
    const bobChips = bubble(bob, 'lunch at one?').locator('.chip')
    await eventually(() => bobChips.evaluateAll((cs) => cs.map((c) => `${c.textContent} ${c.getAttribute('aria-pressed')}`)), ['👍1 true', '🎉1 true', '😂1 true'])
    // A click on one's own chip takes it back.
    await bobChips.filter({ hasText: '😂' }).click()
    await eventually(() => bobChips.count(), 2)
    await actOn(bob, 'lunch at one?', 'Reply')
    await bob.locator('#compose-context', { hasText: 'Replying to: lunch at one?' }).waitFor()
    await sendMessage(bob, '@Alice sounds good')
    await bubble(bob, '@Alice sounds good').locator('.quote-text', { hasText: 'lunch at one?' }).waitFor()

    // Alice's list shows the unread mention; opening the group shows it highlighted, with the quote.
    const badge = alice.locator('#conversations button[data-key="g:1"] .mentions')
    await badge.filter({ hasText: '@1' }).waitFor()
    await alice.screenshot({ path: artifactPath('lifecycle-mention-badge.png') })
    await openChat(alice, 'everyone')
    const reply = bubble(alice, '@Alice sounds good')
    await reply.locator('.quote-text', { hasText: 'lunch at one?' }).waitFor()
    expect(await reply.evaluate((li) => li.classList.contains('mentions-me'))).toBe(true)
    expect(await bubble(bob, '@Alice sounds good').evaluate((li) => li.classList.contains('mentions-me'))).toBe(false)
    await eventually(() => badge.count(), 0) // read on sight
    // Alice sees Bob's reactions, not pressed; she adds hers to the 👍.
    const aliceChips = bubble(alice, 'lunch at one?').locator('.chip')
    await eventually(() => aliceChips.evaluateAll((cs) => cs.map((c) => `${c.textContent} ${c.getAttribute('aria-pressed')}`)), ['👍1 false', '🎉1 false'])
    await aliceChips.filter({ hasText: '👍' }).click()
    await eventually(() => aliceChips.evaluateAll((cs) => cs.map((c) => `${c.textContent} ${c.getAttribute('aria-pressed')}`)), ['👍2 true', '🎉1 false'])
    await reply.locator('.quote').click()
    await bubble(alice, 'lunch at one?').and(alice.locator('.flash')).waitFor()
    await bubble(alice, 'lunch at one?').hover()
    await Bun.sleep(300) // the toolbar fades in
    await alice.screenshot({ path: artifactPath('lifecycle-alice.png') })
    await bob.screenshot({ path: artifactPath('lifecycle-bob.png') })

    // The stored state, as every member sees it now.
    const expected = [
      { text: 'lunch at one?', edited: true, deleted: false, quote: null, reactions: ['👍 2', '🎉 1'] },
      { text: 'message deleted', edited: false, deleted: true, quote: null, reactions: [] },
      { text: '@Alice sounds good', edited: false, deleted: false, quote: 'lunch at one?', reactions: [] },
    ]
    await eventually(() => shown(bob), expected)
    expect(await shown(alice)).toEqual(expected)
    // Carol saw none of it yet.
    expect((await shown(carol)).map((m) => m.text)).toEqual(['lunch at noon?', 'oops, wrong chat'])

    // Carol's connection comes back: the catch-up after `since` brings every change, no history fetch.
    proxy.blackhole('none')
    proxy.cut()
    await carol.locator('#state[data-state="open"]').waitFor()
    await eventually(() => shown(carol), expected)
    await Bun.sleep(500) // a refetch after the reconnect's synced would have happened by now
    expect(carolHistory.length).toBe(1)
    await carol.screenshot({ path: artifactPath('lifecycle-carol-after-reconnect.png') })

    // The same as a fresh load of history shows (a new page, its own REST fetch).
    const fresh = await openAs(browser(), server.url, 3)
    await openChat(fresh, 'everyone')
    await eventually(() => shown(fresh), expected)
    const stored = await api(server, 'GET', '/messages?user_id=3&group_id=1')
    expect(stored.body.messages.map((m: { message: string }) => m.message)).toEqual(['lunch at one?', '', '@Alice sounds good'])
    for (const page of [alice, bob, carol, fresh]) await page.context().close()
  }, 60_000)
})
