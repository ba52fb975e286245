import type { Registry } from 'prom-client'
import { adminAccess } from '../admin/access'
import type { Config } from '../config'
import type { Store } from '../db/store'
import type { Logger } from '../observability/logger'
import { urlRefusal } from './addresses'
import { WebhookDispatcher } from './dispatcher'
import { presenceEntry } from './events'
import { registerWebhookMetrics } from './metrics'
import { webhookRoutes } from './routes'
import { createWebhookService } from './service'

/** Webhooks: the dispatcher, the admin routes, and the presence hook (the store enqueues the rest). */
export function createWebhooks(deps: { config: Config; store: Store; logger: Logger; registry: Registry }) {
  const { config, store, logger } = deps
  const metrics = registerWebhookMetrics(deps.registry, store.webhooks)
  const dispatcher = new WebhookDispatcher({
    store,
    logger,
    retryBaseMs: config.webhookRetryBaseMs,
    attemptTimeoutMs: config.webhookTimeoutMs,
    allowPrivate: config.webhookAllowPrivate,
    pollMs: Math.min(Math.max(config.webhookRetryBaseMs, 50), 1000),
    onDelivered: metrics.delivered,
    onFailed: metrics.failed,
  })
  const service = createWebhookService({ storage: store.webhooks, config, changed: () => dispatcher.refreshEndpoints() })
  return {
    routes: webhookRoutes({ service, access: adminAccess(config) }),
    dispatcher,
    /** Writes the WEBHOOK_URL endpoint (refused when its address is private) and starts sending. */
    async start() {
      if (config.webhookUrl && config.webhookSecret) {
        const refusal = await urlRefusal(config.webhookUrl, config.webhookAllowPrivate)
        if (refusal) throw new Error(`WEBHOOK_URL refused: ${refusal}`)
      }
      await store.webhooks.putEnvEndpoint(config.webhookUrl && config.webhookSecret ? { url: config.webhookUrl, secret: config.webhookSecret, events: config.webhookEvents } : null)
      await dispatcher.start()
    },
    stop: () => dispatcher.stop(),
    /** A commit may have enqueued something: send it now rather than at the next poll. */
    committed: () => dispatcher.wake(),
    /**
     * A user's first connection here opened or last one closed. Not in the stream, so enqueued
     * best-effort in a statement of its own: a crash right after the change can lose it.
     */
    presence(userId: number, online: boolean, timestamp: string) {
      const entry = presenceEntry(userId, online)
      if (!store.webhooks.wants(entry.type)) return
      store.webhooks
        .enqueue([entry], { type: 'presence', user_id: userId, online, timestamp })
        .then(() => dispatcher.wake())
        .catch((error) => logger.warn({ err: error, user: userId }, 'presence webhook not enqueued'))
    },
  }
}
