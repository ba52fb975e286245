import { Elysia } from 'elysia'
import { AppError, badRequest, notFound } from '../http/errors'
import { described, errorResponse } from '../http/responses'
import { PushActorQuery, PushSubscriptionBody, SubscriptionSaved, UnsubscribeBody, VapidPublicKey } from './model'
import type { PushStore } from './store'

export interface PushRoutesDeps {
  /** The VAPID public key; null: push is off (no keys configured). */
  publicKey: string | null
  store: PushStore
  userExists(id: number): boolean | Promise<boolean>
  /** Accepts http:// endpoints (PUSH_ALLOW_HTTP, a local test push service). */
  allowHttp: boolean
}

const disabled = ['push_disabled', 'Web Push is off: the server has no VAPID keys (set VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY; `npm run vapid` makes a pair)'] as const

/** Bytes a URL-safe base64 string decodes to; -1 when it is not one. */
const decodedLength = (text: string) => (/^[A-Za-z0-9_-]+={0,2}$/.test(text) ? Buffer.from(text, 'base64url').length : -1)

/** Checks what a browser sent: a push service URL and keys of the sizes RFC 8291 uses. */
export function subscriptionProblem(body: PushSubscriptionBody, allowHttp: boolean): string | null {
  let url: URL
  try {
    url = new URL(body.endpoint)
  } catch {
    return 'endpoint is not a URL'
  }
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) return 'endpoint must be an https:// URL'
  if (url.username || url.password) return 'endpoint must not carry credentials'
  const key = body.keys.p256dh
  if (decodedLength(key) !== 65 || Buffer.from(key, 'base64url')[0] !== 4) return 'keys.p256dh must be a 65-byte uncompressed P-256 point, URL-safe base64'
  if (decodedLength(body.keys.auth) !== 16) return 'keys.auth must be 16 bytes, URL-safe base64'
  return null
}

/** The acting user: `?user_id=` (AUTH=none); under AUTH=jwt the policy sets it to the token's. */
async function actor(query: { user_id?: number }, userExists: PushRoutesDeps['userExists']): Promise<number> {
  if (query.user_id === undefined) throw badRequest('user_id_required', 'give user_id: the subscribing user')
  if (!(await userExists(query.user_id))) throw notFound('unknown_user', `user ${query.user_id} does not exist`)
  return query.user_id
}

/** REST: the page's VAPID key, and a user's push subscriptions. */
export function pushRoutes(deps: PushRoutesDeps) {
  const on = () => {
    if (deps.publicKey === null) throw new AppError(503, ...disabled)
  }
  const off503 = errorResponse('Web Push is off: no VAPID keys are configured', disabled)
  return new Elysia({ name: 'push' })
    .get(
      '/push/vapid-public-key',
      () => {
        on()
        return { public_key: deps.publicKey! }
      },
      {
        response: { 200: described(VapidPublicKey, 'The key to subscribe with'), 503: off503 },
        detail: { summary: 'The VAPID public key', tags: ['push'] },
      },
    )
    .post(
      '/push/subscriptions',
      async ({ body, query, status }) => {
        on()
        const userId = await actor(query, deps.userExists)
        const problem = subscriptionProblem(body, deps.allowHttp)
        if (problem) throw badRequest('invalid_subscription', problem)
        await deps.store.saveSubscription({ userId, endpoint: body.endpoint, p256dh: body.keys.p256dh.replace(/=+$/, ''), auth: body.keys.auth.replace(/=+$/, '') })
        return status(201, { endpoint: body.endpoint, user_id: userId })
      },
      {
        body: PushSubscriptionBody,
        query: PushActorQuery,
        response: {
          201: described(SubscriptionSaved, 'Stored: this browser is pushed what reaches the user while none of their devices is connected'),
          400: errorResponse('Not a usable subscription', ['invalid_subscription', 'endpoint must be an https:// URL'], ['user_id_required', 'give user_id: the subscribing user']),
          404: errorResponse('No such user', ['unknown_user', 'user 99 does not exist']),
          503: off503,
        },
        detail: {
          summary: 'Subscribe a browser to Web Push',
          description: 'The body is the PushSubscription the browser returned. An endpoint stored before moves to this user, with the new keys.',
          tags: ['push'],
        },
      },
    )
    .delete(
      '/push/subscriptions',
      async ({ body, query, status }) => {
        on()
        const userId = await actor(query, deps.userExists)
        if (!(await deps.store.deleteSubscription(userId, body.endpoint))) throw notFound('unknown_subscription', 'the user has no subscription with this endpoint')
        return new Response(null, { status: 204 })
      },
      {
        body: UnsubscribeBody,
        query: PushActorQuery,
        response: {
          404: errorResponse('No such user, or no such subscription of theirs', ['unknown_subscription', 'the user has no subscription with this endpoint']),
          503: off503,
        },
        detail: { summary: 'Unsubscribe a browser', tags: ['push'] },
      },
    )
}
