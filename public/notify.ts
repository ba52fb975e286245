import { rest } from './rest'

/** Whether this browser can receive Web Push (a secure context with service workers and the Push API). */
export function pushSupported(): boolean {
  return window.isSecureContext && 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window
}

/** The VAPID key as the bytes `applicationServerKey` takes. */
function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (base64url.length % 4)) % 4)
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))
}

/**
 * Registers the service worker (/sw.js), asks for permission (call it from a click), subscribes
 * with the server's VAPID key and stores the subscription for `userId`.
 */
export async function enableNotifications(userId: number): Promise<PushSubscriptionJSON> {
  const registration = await navigator.serviceWorker.register('/sw.js')
  const permission = await Notification.requestPermission()
  if (permission !== 'granted') throw new Error(`permission ${permission}`)
  const { public_key } = await rest.vapidPublicKey()
  await navigator.serviceWorker.ready
  const subscription =
    (await registration.pushManager.getSubscription()) ??
    (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(public_key) }))
  const json = subscription.toJSON()
  await rest.subscribePush(userId, json)
  return json
}
