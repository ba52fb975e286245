// /docs in headless Chromium with every request that is not to the server itself refused: the API
// reference is served by the server (the pinned @scalar/api-reference bundle), so it renders its
// routes on a machine without internet.
import { describe, expect, test } from 'bun:test'
import { api, startServer } from '../helpers/server'
import { artifactPath, hasChromium, launchChromium } from './browser'

const BROWSER_TEST_MS = 60_000

describe.skipIf(!hasChromium)('/docs in headless Chromium, offline', () => {
  test('renders every documented route with the network cut off but for the server', async () => {
    await using server = await startServer()
    await using browser = { chromium: await launchChromium(), [Symbol.asyncDispose]() { return this.chromium.close() } }
    const context = await browser.chromium.newContext({ viewport: { width: 1280, height: 900 } })
    const elsewhere: string[] = []
    await context.route('**/*', (route) => {
      const url = route.request().url()
      if (url.startsWith(server.url + '/')) return route.continue()
      elsewhere.push(url)
      return route.abort('internetdisconnected')
    })
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(String(error)))
    const response = await page.goto(`${server.url}/docs`)
    expect(response?.status()).toBe(200)

    const doc = (await api(server, 'GET', '/docs/json')).body
    const summaries: string[] = Object.values(doc.paths).flatMap((ops: any) => Object.values(ops).map((op: any) => op.summary))
    expect(summaries.length).toBeGreaterThanOrEqual(15)
    for (const summary of summaries) await page.getByText(summary, { exact: true }).first().waitFor({ timeout: 20_000 })

    await page.screenshot({ path: artifactPath('docs-offline.png') })
    // The page asked for nothing beyond the server: no CDN, no fonts, no telemetry.
    expect(elsewhere).toEqual([])
    expect(errors).toEqual([])
    await context.close()
  }, BROWSER_TEST_MS)
})
