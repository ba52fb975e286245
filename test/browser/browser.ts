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
  page.on('pageerror', (error) => console.error(`page of user ${userId}:`, error))
  await page.goto(`${baseUrl}/`)
  await page.getByLabel('User ID').fill(String(userId))
  if (options.format === 'msgpack') await page.getByLabel('Format').selectOption({ label: 'MessagePack' })
  await page.getByRole('button', { name: 'Connect' }).click()
  await page.locator('#state[data-state="open"]').waitFor()
  return page
}

/** Types a recipient the way a person would (the field commits on change). */
export async function chooseRecipient(page: Page, recipient: string): Promise<void> {
  const field = page.getByLabel('Recipient', { exact: true })
  await field.fill(recipient)
  await field.press('Tab')
}

export async function sendMessage(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(text)
  await page.getByRole('button', { name: 'Send' }).click()
}

/** The list item showing a message with exactly this text. */
export function bubble(page: Page, text: string) {
  return page.locator('#messages li.msg').filter({ has: page.locator('.text', { hasText: new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) })
}
