import webpush from 'web-push'
import type { PushSubscriptionRow, Urgency } from './store'

export interface PushOptions {
  ttl: number
  urgency: Urgency
  topic: string | null
}

/** Sends one push; resolves with the push service's HTTP status, rejects when it could not be reached. */
export type PushSend = (sub: PushSubscriptionRow, payload: string, options: PushOptions) => Promise<number>

export interface Vapid {
  subject: string
  publicKey: string
  privateKey: string
}

/** A push service that does not answer within this long is tried again later. */
const TIMEOUT_MS = 5000

/**
 * web-push encrypts the payload (RFC 8291, aes128gcm) and signs the VAPID JWT (RFC 8292); the
 * request itself goes out with fetch, which speaks http:// too (a local test push service) and is
 * told not to follow redirects.
 */
export function webPushSender(vapid: Vapid): PushSend {
  return async (sub, payload, options) => {
    const request = webpush.generateRequestDetails({ endpoint: sub.endpoint, keys: { p256dh: sub.p256dh, auth: sub.auth } }, payload, {
      vapidDetails: vapid,
      TTL: options.ttl,
      urgency: options.urgency,
      ...(options.topic ? { topic: options.topic } : {}),
      contentEncoding: 'aes128gcm',
    })
    const headers = { ...request.headers } as Record<string, string>
    delete headers['Content-Length']
    const response = await fetch(request.endpoint, {
      method: request.method,
      headers,
      body: request.body ? new Uint8Array(request.body) : undefined,
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    })
    await response.body?.cancel()
    return response.status
  }
}

/** What a push service's answer means for the subscription (RFC 8030 §6.2, §7.3). */
export function outcomeOf(status: number): 'sent' | 'gone' | 'retry' | 'refused' {
  if (status >= 200 && status < 300) return 'sent'
  if (status === 404 || status === 410) return 'gone'
  if (status >= 500 || status === 408 || status === 429) return 'retry'
  return 'refused'
}
