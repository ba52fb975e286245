// The page's half of Web Push in Chromium, as far as it goes without a real push service: headless
// Chromium has no push service to subscribe with, so only pushManager.subscribe is stubbed (it
// returns what a browser would, and records the key it was given); the service worker is the
// real /sw.js, fed a push by dispatching a PushEvent inside it.
import { describe, expect, test } from 'bun:test'
import webpush from 'web-push'
import { startServer } from '../helpers/server'
import { browserSubscription } from '../push/push-service'
import { BROWSER_TEST_MS, hasChromium, sharedBrowser } from './browser'

const vapid = webpush.generateVAPIDKeys()

describe.skipIf(!hasChromium)('Web Push on the page', () => {
  const browser = sharedBrowser()

  test('Notify me registers the service worker, subscribes with the VAPID key and stores the subscription; a push shows a notification', async () => {
    await using server = await startServer({ config: { vapidPublicKey: vapid.publicKey, vapidPrivateKey: vapid.privateKey } })
    const fake = (await browserSubscription('https://push.example/send/abc')).json
    const context = await browser().newContext()
    try {
      await context.grantPermissions(['notifications'], { origin: server.url })
      await context.addInitScript((subscription) => {
        const w = window as unknown as { subscribedWith?: string }
        PushManager.prototype.getSubscription = async () => null
        PushManager.prototype.subscribe = async function (options?: PushSubscriptionOptionsInit) {
          const key = new Uint8Array(options!.applicationServerKey as ArrayBuffer)
          w.subscribedWith = btoa(String.fromCharCode(...key)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
          return { toJSON: () => subscription } as unknown as PushSubscription
        }
      }, fake)
      const page = await context.newPage()
      page.setDefaultTimeout(10_000)
      await page.goto(`${server.url}/`)
      await page.getByLabel('User ID').fill('2')
      await page.getByRole('button', { name: 'Connect' }).click()
      await page.locator('#state[data-state="open"]').waitFor()
      await page.getByRole('button', { name: 'Notify me' }).click()
      await page.getByRole('button', { name: 'Notifications on' }).waitFor()
      expect(await page.evaluate(() => (window as unknown as { subscribedWith?: string }).subscribedWith)).toBe(vapid.publicKey)
      const stored = await server.store.push.subscriptionsOf([2])
      expect(stored.map((s) => [s.endpoint, s.p256dh, s.auth])).toEqual([[fake.endpoint, fake.keys.p256dh, fake.keys.auth]])

      // The worker must be active before it is sent a push (on a loaded machine it may still be installing).
      await page.evaluate(async () => void (await navigator.serviceWorker.ready))
      const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'))
      expect(new URL(worker.url()).pathname).toBe('/sw.js')
      const shown = await worker.evaluate(async (payload) => {
        const sw = self as unknown as { registration: ServiceWorkerRegistration; dispatchEvent(e: Event): boolean }
        const PushEventCtor = (self as unknown as { PushEvent: new (type: string, init: { data: string }) => Event }).PushEvent
        try {
          sw.dispatchEvent(new PushEventCtor('push', { data: JSON.stringify(payload) }))
        } catch {
          // waitUntil refuses a script-made event; the handler has called showNotification by then.
        }
        for (let i = 0; i < 100; i++) {
          const list = await sw.registration.getNotifications()
          if (list.length) return list.map((n) => ({ title: n.title, body: n.body, tag: n.tag }))
          await new Promise((r) => setTimeout(r, 100))
        }
        return []
      }, { title: 'Alice', body: 'lunch at noon?', conversation: { kind: 'direct', user_id: 1 }, url: '/' })
      expect(shown).toEqual([{ title: 'Alice', body: 'lunch at noon?', tag: 'd1' }])
    } finally {
      await context.close()
    }
  }, BROWSER_TEST_MS)
})
