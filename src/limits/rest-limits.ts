import { Elysia } from 'elysia'
import type { Principal } from '../auth/verifier'
import type { Config } from '../config'
import { AppError, errorBody } from '../http/errors'
import { requestPath } from '../http/url'
import type { Metrics } from '../observability/metrics'
import { RateLimiter } from './rate-limiter'
import type { RecentRefusals } from './refusals'

/** The route with a bucket of its own (see `listings`). */
const CONVERSATIONS_ROUTE = '/messages/conversations/:user_id'

/** Operational endpoints stay reachable however busy a client is. */
export const UNLIMITED = new Set(['/health', '/ready', '/metrics'])

/**
 * REST rate limits: a token bucket per client IP (before anything else runs) and one per
 * authenticated user (after the token is verified). A refused request gets 429, `Retry-After`
 * and a JSON error with `retry_after` in seconds. The WebSocket upgrade counts as a request.
 */
export function restLimits(deps: {
  config: Config
  metrics: Metrics
  principalOf: (request: Request) => Principal | undefined
  /** Live WebSockets of a user on this instance, for MAX_CONNECTIONS_PER_USER. */
  connectionsOf: (userId: number) => number
  /** Who was refused lately, for the admin view (refusals by IP alone name nobody). */
  refusals: RecentRefusals
}) {
  const { config, metrics } = deps
  const byIp = new RateLimiter<string>(config.restIpPerSecond, config.restIpBurst)
  const byUser = new RateLimiter<number>(config.restPerSecond, config.restBurst)
  // The conversation list reads every conversation of a user: a bucket of its own keeps it from
  // being an amplifier at the general REST rate.
  const listings = new RateLimiter<number | string>(config.conversationsPerSecond, config.conversationsBurst)

  function refuse(kind: 'rest_ip' | 'rest_user' | 'rest_conversations', wait: number, set: { status?: number | string; headers: Record<string, any> }, userId?: number) {
    metrics.rateLimited.inc({ kind })
    if (userId !== undefined) deps.refusals.record(userId, kind)
    set.status = 429
    set.headers['retry-after'] = String(Math.max(1, Math.ceil(wait / 1000)))
    return { ...errorBody('rate_limited', 'too many requests: wait retry_after seconds'), retry_after: wait / 1000 }
  }

  return new Elysia({ name: 'rest-limits' })
    .onRequest(({ request, server, set }) => {
      if (!config.rateLimit) return
      const path = requestPath(request.url)
      if (UNLIMITED.has(path)) return
      const ip = server?.requestIP(request)?.address ?? 'unknown'
      const wait = byIp.take(ip)
      if (wait > 0) return refuse('rest_ip', wait, set)
    })
    .onBeforeHandle({ as: 'global' }, ({ request, route, params, set, server }) => {
      // The connection cap holds whether or not rate limiting is on: it bounds memory, not pace.
      if (route === '/ws/:user_id') {
        const userId = (params as unknown as { user_id: number }).user_id
        if (deps.connectionsOf(userId) >= config.maxConnectionsPerUser)
          throw new AppError(429, 'too_many_connections', `user ${userId} already has ${config.maxConnectionsPerUser} connections open here`)
      }
      if (!config.rateLimit) return
      const principal = deps.principalOf(request)
      if (route === CONVERSATIONS_ROUTE) {
        const wait = listings.take(principal?.userId ?? server?.requestIP(request)?.address ?? 'unknown')
        if (wait > 0) return refuse('rest_conversations', wait, set, principal?.userId)
      }
      if (!principal) return
      const wait = byUser.take(principal.userId)
      if (wait > 0) return refuse('rest_user', wait, set, principal.userId)
    })
}
