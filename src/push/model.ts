import { t } from 'elysia'
import { urlInteger } from '../http/validation'

/** A browser's PushSubscription as `JSON.stringify(subscription)` gives it (the Push API's toJSON). */
export const PushSubscriptionBody = t.Object(
  {
    endpoint: t.String({ minLength: 8, maxLength: 2048, description: 'The push service URL the browser was given' }),
    expirationTime: t.Optional(t.Union([t.Null(), t.Number()], { description: 'Ignored' })),
    keys: t.Object({
      p256dh: t.String({ minLength: 80, maxLength: 100, description: "The browser's P-256 public key, URL-safe base64 (65 bytes)" }),
      auth: t.String({ minLength: 16, maxLength: 30, description: 'The auth secret, URL-safe base64 (16 bytes)' }),
    }),
  },
  {
    examples: [
      {
        endpoint: 'https://fcm.googleapis.com/fcm/send/dVmF…',
        expirationTime: null,
        keys: { p256dh: 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM', auth: 'tBHItJI5svbpez7KI4CCXg' },
      },
    ],
  },
)
export type PushSubscriptionBody = typeof PushSubscriptionBody.static

export const UnsubscribeBody = t.Object({ endpoint: t.String({ minLength: 8, maxLength: 2048 }) }, { examples: [{ endpoint: 'https://fcm.googleapis.com/fcm/send/dVmF…' }] })

export const PushActorQuery = t.Object({ user_id: t.Optional(urlInteger({ minimum: 1, description: "The subscribing user (AUTH=none); under AUTH=jwt the token's" })) })

export const VapidPublicKey = t.Object(
  { public_key: t.String({ description: 'The VAPID public key, URL-safe base64: the applicationServerKey of pushManager.subscribe' }) },
  { examples: [{ public_key: 'BEl62iUYgUivxIkv69yViEuiBIa-Ib9-SkvMeAtA3LFgDzkrxZJjSgSnfckjBJuBkr3qBUYIHBQFLXYp5Nksh8U' }] },
)

export const SubscriptionSaved = t.Object({ endpoint: t.String(), user_id: t.Integer() }, { examples: [{ endpoint: 'https://fcm.googleapis.com/fcm/send/dVmF…', user_id: 2 }] })
