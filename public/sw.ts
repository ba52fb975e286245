// The page's service worker, served at /sw.js: shows what the server pushes (src/push/payload.ts)
// and, on a click, brings the page forward.
// The webworker lib cannot be loaded beside the DOM one the page uses: the little used is typed here.
interface WorkerEvent {
  waitUntil(promise: Promise<unknown>): void
  data?: { json(): unknown; text(): string } | null
  notification: Notification
}
interface WindowClient {
  url: string
  focus(): Promise<unknown>
}
const sw = globalThis as unknown as {
  registration: ServiceWorkerRegistration
  location: Location
  skipWaiting(): Promise<void>
  clients: { claim(): Promise<void>; matchAll(options: object): Promise<WindowClient[]>; openWindow(url: string): Promise<unknown> }
  addEventListener(type: 'install' | 'activate' | 'push' | 'notificationclick', listener: (event: WorkerEvent) => void): void
}

interface Payload {
  title?: string
  body?: string
  message_id?: number
  conversation?: { kind: string; user_id?: number; group_id?: number }
  url?: string
}

sw.addEventListener('install', () => void sw.skipWaiting())
sw.addEventListener('activate', (event) => event.waitUntil(sw.clients.claim()))

sw.addEventListener('push', (event) => {
  let payload: Payload = {}
  try {
    payload = (event.data?.json() as Payload | undefined) ?? {}
  } catch {
    payload = { body: event.data?.text() }
  }
  const c = payload.conversation
  const tag = c ? (c.kind === 'group' ? `g${c.group_id}` : `d${c.user_id}`) : undefined
  event.waitUntil(
    sw.registration.showNotification(payload.title ?? 'Switchboard', {
      body: payload.body ?? 'New message',
      // One notification a conversation: the newest replaces the one before.
      tag,
      data: { url: payload.url ?? '/', message_id: payload.message_id },
    }),
  )
})

sw.addEventListener('notificationclick', (event) => {
  event.notification.close()
  const url = new URL((event.notification.data as { url?: string } | null)?.url ?? '/', sw.location.origin).href
  event.waitUntil(
    (async () => {
      const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true })
      const open = windows.find((w) => new URL(w.url).origin === sw.location.origin)
      if (open) return void (await open.focus())
      await sw.clients.openWindow(url)
    })(),
  )
})
