import { Elysia } from 'elysia'
import type { Config } from '../config'
import type { Store } from '../db/store'
import { AppError } from '../http/errors'
import type { Directory } from '../messages/directory'
import { bearerToken, type Principal, type TokenVerifier } from './verifier'

/**
 * The method whose rules a request follows. Elysia answers HEAD by running the GET route's handler
 * and hooks, so HEAD is judged as GET: a second table could drift, and a HEAD that answers 200 where
 * GET answers 403 leaks the length of what GET refuses to show.
 */
export function ruleMethod(method: string): string {
  return method === 'HEAD' ? 'GET' : method
}

/** Routes anyone may call: liveness, readiness, metrics, the test page (and its service worker) and the API docs. */
export function isPublicRoute(method: string, route: string): boolean {
  if (ruleMethod(method) !== 'GET') return false
  return route === '/health' || route === '/ready' || route === '/metrics' || route === '/' || route === '/sw.js' || route.startsWith('/public/') || route === '/docs' || route.startsWith('/docs/')
}

/**
 * The admin page and its API: guarded by ADMIN_TOKEN (src/admin/access.ts), never by a user's
 * token. A user token there grants nothing, and the admin token is never verified as a user's.
 */
export function isAdminRoute(route: string): boolean {
  return route === '/admin' || route.startsWith('/admin/')
}

/** The WebSocket upgrade: the only route where `?token=` is accepted (browsers cannot set headers there). */
export const UPGRADE_ROUTE = '/ws/:user_id'

interface RuleInput {
  principal: Principal
  params: Record<string, any>
  query: Record<string, any>
  body: any
}
type Rule = (input: RuleInput, deps: PolicyDeps) => void | Promise<void>

const forbidden = (code: string, message: string) => new AppError(403, code, message)

/** A path, query or body that names a user must name the token's subject: refused, never rewritten. */
function sameUser(named: unknown, principal: Principal, what: string): void {
  if (named !== undefined && named !== principal.userId)
    throw forbidden('forbidden', `${what} is ${named}, but the token is for user ${principal.userId}`)
}

/** The route acts for `?user_id=`: under AUTH=jwt it must be the token's subject, and is set to it. */
function actAsToken({ principal, query }: RuleInput): void {
  sameUser(query.user_id, principal, 'user_id')
  query.user_id = principal.userId
}

async function requireMember(groupId: number, principal: Principal, deps: PolicyDeps): Promise<void> {
  const members = await deps.directory.membersOf(groupId)
  // An unknown group is left to the route, which answers 404.
  if (members && !members.has(principal.userId)) throw forbidden('not_a_member', `user ${principal.userId} is not a member of group ${groupId}`)
}

/**
 * Who may do what, per route, under AUTH=jwt. A route missing here still requires a valid token;
 * these rules add what the token's subject may touch. Kept in one table so it can be audited at once.
 */
export const restRules: Record<string, Rule> = {
  'POST /users': () => {},
  // Any signed-in user may look others up (to find whom to write to), as with GET /users/:id.
  'GET /users': () => {},
  'GET /users/:id': () => {},
  'GET /ws/online-users': () => {},
  'GET /ws/:user_id': ({ principal, params }) => sameUser(params.user_id, principal, 'the path user'),
  'POST /messages': ({ principal, body }) => sameUser(body?.sender_id, principal, 'sender_id'),
  'GET /messages': ({ principal, query }) => sameUser(query.user_id, principal, 'user_id'),
  // The route then searches only that user's conversations, and a group only for its members.
  'GET /messages/search': ({ principal, query }) => sameUser(query.user_id, principal, 'user_id'),
  'GET /messages/conversations/:user_id': ({ principal, params }) => sameUser(params.user_id, principal, 'the path user'),
  // The reader is the token's subject; the route then checks that the message was addressed to them.
  'PUT /messages/:id/read': ({ principal, query }) => {
    sameUser(query.user_id, principal, 'user_id')
    query.user_id = principal.userId
  },
  // The actor of a message's lifecycle is the token's subject; the route checks what they may do.
  'PATCH /messages/:id': actAsToken,
  'DELETE /messages/:id': actAsToken,
  'PUT /messages/:id/reactions/:emoji': actAsToken,
  'DELETE /messages/:id/reactions/:emoji': actAsToken,
  'GET /messages/:id/replies': actAsToken,
  // The acting user of an upload or download is the token's subject; the attachment service then
  // checks what that user may read.
  'POST /attachments': actAsToken,
  'GET /attachments/:id': actAsToken,
  'GET /attachments/:id/thumbnail': actAsToken,
  'POST /groups': ({ principal, body }) => {
    sameUser(body?.created_by, principal, 'created_by')
    if (!body?.member_ids?.includes(principal.userId))
      throw forbidden('not_a_member', `a group you create must include you (user ${principal.userId}) in member_ids`)
  },
  // The VAPID public key is for any signed-in page; a subscription is the token's subject's.
  'GET /push/vapid-public-key': () => {},
  'POST /push/subscriptions': actAsToken,
  'DELETE /push/subscriptions': actAsToken,
  'GET /groups/:id': ({ principal, params }, deps) => requireMember(params.id, principal, deps),
  'POST /groups/:id/members': ({ principal, params }, deps) => requireMember(params.id, principal, deps),
  // A member may leave; only the group's creator removes someone else.
  'DELETE /groups/:id/members/:user_id': async ({ principal, params }, deps) => {
    await requireMember(params.id, principal, deps)
    if (params.user_id === principal.userId) return
    const group = await deps.store.getGroup(params.id)
    if (group && group.createdBy !== principal.userId)
      throw forbidden('forbidden', `only the creator of group ${params.id} may remove another member`)
  },
}

export interface PolicyDeps {
  config: Config
  verifier: TokenVerifier | null
  store: Store
  directory: Directory
}

/**
 * Authentication and authorization for every route, WebSocket upgrade included: the token is
 * verified before validation and before any upgrade (401), then the route's rule runs on the
 * validated input (403). Under AUTH=none nothing is checked and `principalOf` answers undefined.
 */
export function accessPolicy(deps: PolicyDeps) {
  const { config, verifier } = deps
  const principals = new WeakMap<Request, Principal>()
  const allowedOrigins = config.allowedOrigins && new Set(config.allowedOrigins)

  const plugin = new Elysia({ name: 'access-policy' })
    .onTransform({ as: 'global' }, async ({ request, route, set }) => {
      const upgrade = route === UPGRADE_ROUTE
      if (upgrade && allowedOrigins) {
        // Cross-site WebSocket hijacking: browsers always send Origin; other clients may not.
        const origin = request.headers.get('origin')
        if (origin !== null && !allowedOrigins.has(origin)) throw forbidden('origin_not_allowed', `origin ${origin.slice(0, 200)} may not open a WebSocket here`)
      }
      if (config.auth !== 'jwt' || isPublicRoute(request.method, route) || isAdminRoute(route)) return
      const token = bearerToken(request, upgrade)
      if (!token) {
        set.headers['www-authenticate'] = 'Bearer'
        if (token === '') throw new AppError(401, 'invalid_token', 'the Authorization header must be "Bearer <token>"')
        throw new AppError(401, 'missing_token', upgrade ? 'send a token: Authorization: Bearer <token>, or ?token=' : 'send Authorization: Bearer <token>')
      }
      try {
        principals.set(request, await verifier!.verify(token))
      } catch (e) {
        set.headers['www-authenticate'] = 'Bearer error="invalid_token"'
        throw e
      }
    })
    .onBeforeHandle({ as: 'global' }, async ({ request, route, params, query, body }) => {
      const principal = principals.get(request)
      if (!principal) return
      const rule = restRules[`${ruleMethod(request.method)} ${route}`]
      if (rule) await rule({ principal, params: params as any, query: query as any, body }, deps)
    })

  return {
    plugin,
    /** The verified caller of a request (AUTH=jwt), for the WebSocket to keep its expiry. */
    principalOf: (request: Request): Principal | undefined => principals.get(request),
  }
}
