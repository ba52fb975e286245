import { randomUUID } from 'node:crypto'
import { Elysia, t } from 'elysia'
import { requestPath } from '../http/url'
import type { Logger } from './logger'
import type { Metrics } from './metrics'

/** A caller's own X-Request-Id is kept when it is short and plain; otherwise one is made. */
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/

/**
 * Request ids and one log line per REST request (method, path without query, status, time), and
 * GET /metrics in Prometheus text format. The query string is never logged: `?token=` lives there.
 */
export function observability(deps: { logger: Logger; metrics: Metrics }) {
  const { logger, metrics } = deps
  const started = new WeakMap<Request, { id: string; at: number }>()
  return new Elysia({ name: 'observability' })
    .onRequest(({ request, set }) => {
      const given = request.headers.get('x-request-id')
      const id = given && REQUEST_ID.test(given) ? given : randomUUID()
      started.set(request, { id, at: performance.now() })
      set.headers['x-request-id'] = id
    })
    .onAfterResponse({ as: 'global' }, ({ request, set, route }) => {
      const start = started.get(request)
      const status = typeof set.status === 'number' ? set.status : 200
      metrics.httpRequests.inc({ method: request.method, status: String(status) })
      const line = {
        req: start?.id,
        method: request.method,
        path: requestPath(request.url),
        route: route || undefined,
        status,
        ms: start ? Math.round((performance.now() - start.at) * 100) / 100 : undefined,
      }
      if (status >= 500) logger.error(line, 'request failed')
      else logger.info(line, 'request')
    })
    .get(
      '/metrics',
      async () => new Response(await metrics.registry.metrics(), { headers: { 'content-type': metrics.registry.contentType } }),
      {
        response: t.String({
          description: 'Prometheus text format: connections, frames in and out, deliveries, commit time and batch sizes, errors, rate limiting, HTTP requests',
          examples: ['# HELP switchboard_connections Live WebSocket connections on this instance\n# TYPE switchboard_connections gauge\nswitchboard_connections 12\n'],
        }),
        detail: { summary: 'Prometheus metrics', tags: ['operations'] },
      },
    )
}
