import { Elysia } from 'elysia'
import { join } from 'node:path'
import { described, errorResponse } from '../http/responses'
import { checkAdminRequest, type AdminAccess } from './access'
import { Connections, Disconnected, LimitQuery, Overview, RateLimited, SlowConsumers, Traffic, UserParams } from './model'
import type { AdminService } from './service'

const PAGE_DIR = join(import.meta.dir, 'page')

/** The page handles a token: nothing but its own files may run in it, and no other site may frame it. */
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
}

const PAGE_FILES = {
  '/admin': ['index.html', 'text/html; charset=utf-8'],
  '/admin/admin.js': ['admin.js', 'text/javascript; charset=utf-8'],
  '/admin/admin.css': ['admin.css', 'text/css; charset=utf-8'],
} as const

/** What every /admin/api route answers when the caller is not let in. */
export const adminRefusals = {
  401: errorResponse('ADMIN_TOKEN is set and the request does not carry it', ['missing_admin_token', 'send Authorization: Bearer <ADMIN_TOKEN>'], ['invalid_admin_token', 'that is not the admin token']),
  403: errorResponse(
    'No ADMIN_TOKEN under AUTH=none, and the caller is not on this machine',
    ['admin_loopback_only', 'without ADMIN_TOKEN the admin view answers callers on this machine only; set ADMIN_TOKEN to use it from elsewhere'],
  ),
  404: errorResponse('The admin view is off: AUTH=jwt without ADMIN_TOKEN', ['admin_disabled', 'the admin view is disabled: AUTH=jwt without ADMIN_TOKEN; set ADMIN_TOKEN to enable it']),
}
const api = (summary: string, description: string) => ({ summary, description, tags: ['admin'], security: [{ adminToken: [] }] })

/**
 * GET /admin (the page, its script and style) and /admin/api/* (the same numbers as JSON), behind
 * ADMIN_TOKEN: see `AdminAccess` for who is let in. Routes only; the numbers come from the service.
 */
export function adminRoutes(deps: { service: AdminService; access: AdminAccess }) {
  const { service, access } = deps
  let app = new Elysia({ name: 'admin' })
    // Before validation, so a caller without the token learns nothing from a 422 either.
    .onTransform(({ request, server, set, path }) => {
      checkAdminRequest(access, request, server?.requestIP(request)?.address, path.startsWith('/admin/api/'), set)
      if (path.startsWith('/admin/api/')) set.headers['cache-control'] = 'no-store'
    })

  for (const [path, [file, type]] of Object.entries(PAGE_FILES))
    app = app.get(path, () => new Response(Bun.file(join(PAGE_DIR, file)), { headers: { ...PAGE_HEADERS, 'content-type': type } }), { detail: { hide: true } })

  return app
    .get('/admin/api/overview', () => service.overview(), {
      response: { 200: described(Overview, 'The instance that answered: all of the below in one body'), ...adminRefusals },
      detail: api('Everything the admin page shows', 'Connections, traffic, the slowest consumers and rate-limited users of the instance that answers, in one call.'),
    })
    .get('/admin/api/connections', ({ query }) => service.connections(query.limit), {
      query: LimitQuery,
      response: { 200: described(Connections, 'Connections by format and user, and every instance of the cluster'), ...adminRefusals },
      detail: api('Live connections', 'Totals by format, the users with the most connections on this instance, and every instance of the cluster.'),
    })
    .get('/admin/api/traffic', () => service.traffic(), {
      response: { 200: described(Traffic, 'Rates and latency histograms'), ...adminRefusals },
      detail: api('Messages a second, delivery latency and commit time', 'Rates over the last seconds; histograms over the last minute, from the metrics the server keeps.'),
    })
    .get('/admin/api/slow-consumers', ({ query }) => service.slowConsumers(query.limit), {
      query: LimitQuery,
      response: { 200: described(SlowConsumers, 'Sockets with bytes queued, most first'), ...adminRefusals },
      detail: api('The slowest consumers', 'Sockets with the most bytes queued because the client does not read them.'),
    })
    .get('/admin/api/rate-limited', ({ query }) => service.rateLimited(query.limit), {
      query: LimitQuery,
      response: { 200: described(RateLimited, 'Users refused by a rate limit lately, most first'), ...adminRefusals },
      detail: api('Users a rate limit refused lately', 'Refusals per user and per limit, most first; a user quiet for the window is forgotten.'),
    })
    .post('/admin/api/users/:id/disconnect', ({ params }) => service.disconnect(params.id), {
      params: UserParams,
      response: { 200: described(Disconnected, 'The connections closed here, and whether the other instances were told'), ...adminRefusals },
      detail: api(
        "Disconnect a user's devices",
        'Closes every connection of the user with close code 4003 ("disconnected by an administrator"), on every instance in cluster mode. Clients may reconnect: to keep a user out, revoke their tokens.',
      ),
    })
}
