// The admin page in headless Chromium: it asks for the token, shows the live numbers and draws its
// charts from the API, loads nothing from elsewhere, and its button disconnects a user's devices.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Browser } from 'playwright-core'
import { ADMIN_TOKEN } from '../helpers/admin'
import { startServer } from '../helpers/server'
import { TestClient } from '../helpers/ws-client'
import { artifactPath, hasChromium, launchChromium } from './browser'

const BROWSER_TEST_MS = 60_000

describe.skipIf(!hasChromium)('admin page in headless Chromium', () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await launchChromium()
  }, BROWSER_TEST_MS)
  afterAll(async () => {
    await browser?.close()
  }, BROWSER_TEST_MS)

  test('asks for the token, shows the numbers and charts, and its button disconnects a user', async () => {
    await using server = await startServer({ config: { adminToken: ADMIN_TOKEN } })
    const alice = await TestClient.connect(server.wsUrl, '/ws/1')
    const bob = await TestClient.connect(server.wsUrl, '/ws/2', { format: 'msgpack' })
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } })
    const page = await context.newPage()
    const problems: string[] = []
    page.on('pageerror', (error) => problems.push(`page error: ${error}`))
    page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`))
    const elsewhere: string[] = []
    page.on('request', (request) => !request.url().startsWith(server.url) && elsewhere.push(request.url()))

    await page.goto(`${server.url}/admin`)
    await page.getByLabel('Admin token').fill('not-the-admin-token')
    await page.getByRole('button', { name: 'Open' }).click()
    await page.locator('#login-error', { hasText: 'not accepted' }).waitFor()
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN)
    await page.getByRole('button', { name: 'Open' }).click()
    await page.locator('#connections-total', { hasText: /^2$/ }).waitFor()
    await page.locator('#users tr[data-user-id="2"]', { hasText: 'MessagePack' }).waitFor()

    // A few seconds of traffic, so the charts have something to draw over several polls.
    for (let i = 0; i < 40; i++) {
      alice.send({ type: 'message', recipient_id: 2, message: `hello ${i}` })
      await alice.next('message_sent')
      await Bun.sleep(75)
    }
    await page.waitForFunction(() => Number(document.querySelector('#messages-rate')?.textContent) > 0)
    await page.waitForFunction(() => (document.querySelector('#rate-chart path.line')?.getAttribute('d')?.split('L').length ?? 0) >= 3)
    await page.waitForFunction(() => [...document.querySelectorAll('#latency-chart rect.bar')].some((bar) => Number(bar.getAttribute('height')) > 0))
    expect(await page.locator('#delivery-p50').innerText()).toMatch(/\d/)
    expect(await page.locator('#format-chart').getAttribute('aria-label')).toContain('JSON 1')
    await page.screenshot({ path: artifactPath('admin-page.png'), fullPage: true })

    page.once('dialog', (dialog) => void dialog.accept())
    await page.getByRole('button', { name: 'Disconnect user 2' }).click()
    expect(await bob.waitClosed()).toEqual({ code: 4003, reason: 'disconnected by an administrator' })
    await page.locator('#notice', { hasText: 'closed 1 connection of user 2' }).waitFor()
    await page.locator('#connections-total', { hasText: /^1$/ }).waitFor()
    alice.send({ type: 'ping' })
    await alice.next('pong')
    expect(alice.closed).toBeNull()

    // The token is kept for the session: a reload goes straight to the numbers.
    await page.reload()
    await page.locator('#connections-total', { hasText: /^1$/ }).waitFor()
    expect(await page.locator('#login').isVisible()).toBe(false)

    expect(elsewhere).toEqual([])
    // Chromium reports the two refusals the page met on purpose: its first call, without a token,
    // and the wrong token; nothing else went wrong.
    const refusal = 'console: Failed to load resource: the server responded with a status of 401 (Unauthorized)'
    expect(problems).toEqual([refusal, refusal])
    await context.close()
    alice.close()
  }, BROWSER_TEST_MS)

  test('on a phone-sized screen the page stacks its cards and still draws its charts', async () => {
    await using server = await startServer({ config: { adminToken: ADMIN_TOKEN } })
    const alice = await TestClient.connect(server.wsUrl, '/ws/1')
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } })
    const page = await context.newPage()
    await page.goto(`${server.url}/admin`)
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN)
    await page.getByRole('button', { name: 'Open' }).click()
    await page.locator('#connections-total', { hasText: /^1$/ }).waitFor()
    // Nothing wider than the screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
    await page.screenshot({ path: artifactPath('admin-page-phone.png'), fullPage: true })
    await context.close()
    alice.close()
  }, BROWSER_TEST_MS)
})
