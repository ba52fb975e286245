import { Counter, Gauge, type Registry } from 'prom-client'
import type { WebhookStorage } from './storage'

/** Webhook metrics on the app's registry: deliveries and failures (counted here), backlog and its age (read from the database when scraped). */
export function registerWebhookMetrics(registry: Registry, storage: WebhookStorage) {
  const registers = [registry]
  const delivered = new Counter({ name: 'switchboard_webhook_deliveries_total', help: 'Webhook events delivered (2xx), by endpoint', labelNames: ['endpoint'], registers })
  const failed = new Counter({ name: 'switchboard_webhook_failures_total', help: 'Failed webhook attempts, by endpoint and reason (HTTP status, network, refused)', labelNames: ['endpoint', 'reason'], registers })
  let last: Awaited<ReturnType<WebhookStorage['backlog']>> | null = null
  const read = async () => (last = await storage.backlog(Date.now()).catch(() => last ?? []))
  new Gauge({
    name: 'switchboard_webhook_backlog',
    help: 'Webhook deliveries waiting (pending, including retries) or dead-lettered, by endpoint',
    labelNames: ['endpoint', 'state'],
    registers,
    async collect() {
      this.reset()
      for (const b of await read()) {
        this.set({ endpoint: String(b.endpointId), state: 'pending' }, b.pending)
        this.set({ endpoint: String(b.endpointId), state: 'dead' }, b.dead)
      }
    },
  })
  new Gauge({
    name: 'switchboard_webhook_oldest_pending_seconds',
    help: 'Age of the oldest pending webhook delivery, by endpoint (0 when none)',
    labelNames: ['endpoint'],
    registers,
    async collect() {
      this.reset()
      for (const b of last ?? (await read())) this.set({ endpoint: String(b.endpointId) }, b.oldestMs / 1000)
    },
  })
  return {
    delivered: (endpointId: number) => delivered.inc({ endpoint: String(endpointId) }),
    failed: (endpointId: number, reason: string) => failed.inc({ endpoint: String(endpointId), reason }),
  }
}
