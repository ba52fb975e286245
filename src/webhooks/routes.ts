import { Elysia } from 'elysia'
import { checkAdminRequest, type AdminAccess } from '../admin/access'
import { adminRefusals } from '../admin/routes'
import { described, errorResponse } from '../http/responses'
import { CreateEndpoint, EndpointDeleted, EndpointList, EndpointParams, EndpointWithSecret } from './model'
import type { WebhookService } from './service'

const api = (summary: string, description: string) => ({ summary, description, tags: ['admin'], security: [{ adminToken: [] }] })

/** /admin/api/webhooks: create, list, delete and rotate the endpoints, behind ADMIN_TOKEN like the rest of /admin/api. */
export function webhookRoutes(deps: { service: WebhookService; access: AdminAccess }) {
  const { service, access } = deps
  return new Elysia({ name: 'webhooks' })
    .onTransform(({ request, server, set, path }) => {
      if (!path.startsWith('/admin/api/webhooks')) return
      checkAdminRequest(access, request, server?.requestIP(request)?.address, true, set)
      set.headers['cache-control'] = 'no-store'
    })
    .get('/admin/api/webhooks', async () => ({ endpoints: await service.list() }), {
      response: { 200: described(EndpointList, 'Every endpoint, with its backlog; secrets are not shown'), ...adminRefusals },
      detail: api('Webhook endpoints', 'Every endpoint (the WEBHOOK_URL one included), its subscriptions, circuit and backlog.'),
    })
    .post('/admin/api/webhooks', async ({ body, status }) => status(201, await service.create(body)), {
      body: CreateEndpoint,
      response: {
        201: described(EndpointWithSecret, 'Created; the secret is shown this once'),
        ...adminRefusals,
        422: errorResponse('A URL that is not http(s), or resolves to a private address; a secret or event type that is not valid', ['url_refused', 'url refused: 127.0.0.1 is a loopback address']),
      },
      detail: api('Add a webhook endpoint', 'Signed per Standard Webhooks with the secret given, or a generated whsec_ one.'),
    })
    .delete('/admin/api/webhooks/:id', async ({ params }) => service.remove(params.id), {
      params: EndpointParams,
      response: { 200: described(EndpointDeleted, 'Deleted, with what it had pending'), ...adminRefusals, 404: errorResponse('No such endpoint; or the admin view is off (AUTH=jwt without ADMIN_TOKEN)', ['webhook_not_found', 'no webhook endpoint 7'], ['admin_disabled', 'the admin view is disabled: AUTH=jwt without ADMIN_TOKEN; set ADMIN_TOKEN to enable it']) },
      detail: api('Remove a webhook endpoint', 'Its pending and dead-lettered deliveries go with it.'),
    })
    .post('/admin/api/webhooks/:id/rotate-secret', async ({ params }) => service.rotate(params.id), {
      params: EndpointParams,
      response: { 200: described(EndpointWithSecret, 'The new secret, shown this once; every attempt from now on is signed with it'), ...adminRefusals, 404: errorResponse('No such endpoint; or the admin view is off (AUTH=jwt without ADMIN_TOKEN)', ['webhook_not_found', 'no webhook endpoint 7'], ['admin_disabled', 'the admin view is disabled: AUTH=jwt without ADMIN_TOKEN; set ADMIN_TOKEN to enable it']) },
      detail: api('Rotate an endpoint secret', 'A new whsec_ secret replaces the old one at once (retries included).'),
    })
}
