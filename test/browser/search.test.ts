import { describe, expect, test } from 'bun:test'
import { api, startServer } from '../helpers/server'
import { artifactPath, BROWSER_TEST_MS, hasChromium, openAs, sharedBrowser } from './browser'

describe.skipIf(!hasChromium)('searching messages on the test page', () => {
  const browser = sharedBrowser()

  test('finds the words in the user’s conversations only, and a click opens the conversation at the message, pages back', async () => {
    await using server = await startServer()
    const send = async (body: Record<string, unknown>) => {
      const res = await api(server, 'POST', '/messages', body)
      expect(res.status).toBe(201)
      return res.body.id as number
    }
    // Seeded: alice (1), bob (2), carol (3), group 1 "everyone". The direct match is 60 messages
    // back, beyond the first page the conversation opens with.
    const old = await send({ sender_id: 2, recipient_id: 1, message: 'Meet me at the old <b>lighthouse</b> at noon' })
    for (let i = 0; i < 60; i++) await send({ sender_id: i % 2 ? 1 : 2, recipient_id: i % 2 ? 2 : 1, message: `small talk ${i}` })
    await send({ sender_id: 2, recipient_id: 3, message: 'lighthouse, but only for carol' })
    const group = await send({ sender_id: 3, group_id: 1, message: 'Lighthouse party on Friday!' })

    const alice = await openAs(browser(), server.url, 1)
    const box = alice.getByLabel('Search messages')
    await box.fill('lighthouse')
    const results = alice.getByRole('list', { name: 'Search results' }).locator('button.hit')
    await results.nth(1).waitFor()
    expect(await results.count()).toBe(2)
    expect(await results.evaluateAll((hits) => hits.map((h) => (h as HTMLElement).dataset.id))).toEqual([String(group), String(old)])
    // The matched word is marked; the message's own markup is text.
    expect(await results.nth(1).locator('mark').allInnerTexts()).toEqual(['lighthouse'])
    expect(await results.nth(1).locator('.snippet').innerText()).toContain('<b>lighthouse</b>')
    expect(await results.nth(0).locator('.name').innerText()).toBe('# everyone')

    await results.nth(1).click()
    const found = alice.locator(`#messages li.msg.found[data-id="${old}"]`)
    await found.waitFor()
    expect(await alice.locator('#chat-title').innerText()).toBe('Bob')
    expect(await found.locator('.text').innerText()).toBe('Meet me at the old <b>lighthouse</b> at noon')
    await expect(found.isVisible()).resolves.toBe(true)
    const inView = await found.evaluate((li) => {
      const list = li.closest('#messages')!.getBoundingClientRect()
      const box = li.getBoundingClientRect()
      return box.top >= list.top && box.bottom <= list.bottom
    })
    expect(inView).toBe(true)
    await alice.screenshot({ path: artifactPath('search-opened-at-message.png') })

    // A query that cannot be searched for says why, in place of the results.
    await box.fill('"lighthouse party')
    await alice.getByRole('list', { name: 'Search results' }).getByText('a quote (") is not closed', { exact: false }).waitFor()
    await alice.context().close()
  }, BROWSER_TEST_MS)
})
