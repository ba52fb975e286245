import { AppError, badRequest, notFound } from '../http/errors'
import type { Config } from '../config'
import { urlRefusal } from './addresses'
import { isEventPattern } from './events'
import { generateWebhookSecret, isWebhookSecret } from './signing'
import type { EndpointBacklog, WebhookEndpoint, WebhookStorage } from './storage'
import type { CreateEndpoint } from './model'

const iso = (ms: number) => new Date(ms).toISOString()

/** What the admin API does with endpoints; `changed` tells the dispatcher to re-read them. */
export function createWebhookService(deps: { storage: WebhookStorage; config: Pick<Config, 'webhookAllowPrivate'>; changed: () => Promise<void> }) {
  const { storage, config, changed } = deps
  const view = (e: WebhookEndpoint, b?: EndpointBacklog) => ({
    id: e.id,
    url: e.url,
    events: e.events,
    source: e.source,
    created_at: iso(e.createdAt),
    failures: e.failures,
    paused_until: e.pausedUntil > Date.now() ? iso(e.pausedUntil) : null,
    pending: b?.pending ?? 0,
    dead: b?.dead ?? 0,
  })
  return {
    async list() {
      const backlog = new Map((await storage.backlog(Date.now())).map((b) => [b.endpointId, b]))
      return (await storage.listEndpoints()).map((e) => view(e, backlog.get(e.id)))
    },
    async create(body: CreateEndpoint) {
      const bad = body.events.find((e) => !isEventPattern(e))
      if (bad !== undefined) throw badRequest('invalid_event_type', `${JSON.stringify(bad)} is not an event type`)
      if (body.secret !== undefined && !isWebhookSecret(body.secret)) throw badRequest('invalid_secret', 'secret must be whsec_ followed by a base64 key of 24 to 64 bytes')
      const refusal = await urlRefusal(body.url, config.webhookAllowPrivate)
      if (refusal) throw new AppError(422, 'url_refused', `url refused: ${refusal}`)
      const endpoint = await storage.createEndpoint({ url: body.url, events: [...new Set(body.events)], secret: body.secret ?? generateWebhookSecret() })
      await changed()
      return { ...view(endpoint), secret: endpoint.secret }
    },
    async remove(id: number) {
      if (!(await storage.deleteEndpoint(id))) throw notFound('webhook_not_found', `no webhook endpoint ${id}`)
      await changed()
      return { deleted: id }
    },
    async rotate(id: number) {
      const endpoint = await storage.setSecret(id, generateWebhookSecret())
      if (!endpoint) throw notFound('webhook_not_found', `no webhook endpoint ${id}`)
      await changed()
      return { ...view(endpoint), secret: endpoint.secret }
    },
  }
}

export type WebhookService = ReturnType<typeof createWebhookService>
