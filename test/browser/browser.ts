import { afterAll, beforeAll, expect } from 'bun:test'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM)
if (!hasChromium) console.warn(`\n*** browser tests SKIPPED: ${CHROMIUM} is missing (apt-get install -y chromium) ***\n`)

export const ARTIFACTS = join(import.meta.dir, '..', 'artifacts')

/** Debian's Chromium, headless, without the background traffic a test does not want. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  })
}

/** A browser test does a lot per step; the default 5 s is for unit tests. */
export const BROWSER_TEST_MS = 30_000

/** One Chromium for a suite, launched before its tests and closed after them. */
export function sharedBrowser(): () => Browser {
  let browser: Browser | undefined
  beforeAll(async () => {
    browser = await launchChromium()
  }, BROWSER_TEST_MS)
  afterAll(async () => {
    await browser?.close()
  }, BROWSER_TEST_MS)
  return () => browser!
}

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true })
  return join(ARTIFACTS, name)
}

/** Opens the test page in a fresh context and connects as `userId`, the way a person would. */
export async function openAs(
  browser: Browser,
  baseUrl: string,
  userId: number,
  options: { format?: 'json' | 'msgpack'; viewport?: { width: number; height: number } } = {},
): Promise<Page> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1000, height: 680 } })
  const page = await context.newPage()
  // Below the test's own 30 s, so a wait that fails names the element it waited for.
  page.setDefaultTimeout(10_000)
  page.on('pageerror', (error) => console.error(`page of user ${userId}:`, error))
  await page.goto(`${baseUrl}/`)
  await page.getByLabel('User ID').fill(String(userId))
  if (options.format === 'msgpack') await page.getByLabel('Format').selectOption({ label: 'MessagePack' })
  await page.getByRole('button', { name: 'Connect' }).click()
  await page.locator('#state[data-state="open"]').waitFor()
  return page
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const exactly = (text: string) => new RegExp(`^${escapeRegExp(text)}$`)

/** Opens a conversation the way a person would: finds the name and picks it ("Alice" finds "Alice (you)" too). */
export async function openChat(page: Page, name: string): Promise<void> {
  const find = page.getByLabel('Find people and groups')
  // On a phone the list is behind the open conversation.
  if (!(await find.isVisible())) await page.getByRole('button', { name: 'Back to conversations' }).click()
  await find.fill(name)
  const named = page.locator('.name', { hasText: new RegExp(`^${escapeRegExp(name)}( \\(you\\))?$`) })
  await page.getByRole('list', { name: 'People and groups' }).locator('button.pick').filter({ has: named }).click()
}

export async function sendMessage(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(text)
  await page.getByRole('button', { name: 'Send' }).click()
}

/** The list item showing a message with exactly this text. */
export function bubble(page: Page, text: string) {
  return page.locator('#messages li.msg').filter({ has: page.locator('.text', { hasText: exactly(text) }) })
}

/** Reads until the value equals `expected` or 10 s pass, then asserts it, so a failure shows the last value read. */
export async function eventually<T>(read: () => Promise<T>, expected: T, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = await read()
  while (!Bun.deepEquals(last, expected) && Date.now() < deadline) {
    await Bun.sleep(50)
    last = await read()
  }
  expect(last as unknown).toEqual(expected)
}
