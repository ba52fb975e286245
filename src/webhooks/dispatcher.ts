/** Sends what the outbox holds: claims due deliveries, POSTs them signed, retries with backoff, pauses failing endpoints. */
import type { Store } from '../db/store'
import type { Logger } from '../observability/logger'
import { messageFrame } from '../protocol/views'
import { urlRefusal } from './addresses'
import { subscribes, typesCovered, webhookBody } from './events'
import { signatureHeaders } from './signing'
import type { ClaimedDelivery, WebhookEndpoint, WebhookStorage } from './storage'

/** A claim not settled within this is claimed again (its instance died): at-least-once. */
const LEASE_MS = 30_000
/** Retries go on for at least this long after the event, then the delivery is dead-lettered. */
export const RETRY_FOR_MS = 24 * 3600 * 1000
/** The longest wait between two attempts. */
const MAX_BACKOFF_MS = 3600 * 1000
/** Consecutive failures after which an endpoint is paused, then probed with one delivery at a time. */
export const CIRCUIT_THRESHOLD = 5
const CLAIM_BATCH = 50
/** Endpoints are re-read this often: one created on another instance is served within it. */
const ENDPOINTS_REFRESH_MS = 2000

export interface DispatcherDeps {
  store: Store
  logger: Logger
  retryBaseMs: number
  /** How long one attempt may take (connect, send, answer headers); WEBHOOK_TIMEOUT_MS, default 5000. */
  attemptTimeoutMs: number
  allowPrivate: boolean
  /** How often the outbox is looked at when nothing wakes the dispatcher. */
  pollMs: number
  onDelivered?: (endpointId: number) => void
  onFailed?: (endpointId: number, reason: string) => void
}

/** The delay before attempt `attempts + 1`: doubling from the base, capped, with jitter (half to all of it). */
export function backoffMs(attempts: number, baseMs: number, random = Math.random): number {
  const full = Math.min(baseMs * 2 ** Math.max(attempts - 1, 0), MAX_BACKOFF_MS)
  return Math.round(full / 2 + (full / 2) * random())
}

/** How long an endpoint stays paused after `failures` consecutive failures (0: not paused). */
export function pauseMs(failures: number, baseMs: number): number {
  if (failures < CIRCUIT_THRESHOLD) return 0
  return Math.min(baseMs * 10 * 2 ** (failures - CIRCUIT_THRESHOLD), 5 * 60 * 1000)
}

/** Whether an answer (or its absence) is worth retrying: 5xx, 408, 429, timeouts and refused connections. */
export function retryable(status: number | null): boolean {
  return status === null || status >= 500 || status === 408 || status === 429
}

export class WebhookDispatcher {
  private readonly storage: WebhookStorage
  private endpoints = new Map<number, WebhookEndpoint>()
  private timer: ReturnType<typeof setTimeout> | null = null
  private running = false
  private stopped = true
  private again = false
  private endpointsReadAt = 0

  constructor(private readonly deps: DispatcherDeps) {
    this.storage = deps.store.webhooks
  }

  /** Reads the endpoints (and so what the store enqueues), then starts the loop. */
  async start(): Promise<void> {
    await this.storage.releaseOwnLeases(Date.now())
    await this.refreshEndpoints()
    this.stopped = false
    this.schedule(0)
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  /** Re-reads the endpoints now (one was created, deleted or rotated here). */
  async refreshEndpoints(): Promise<void> {
    const list = await this.storage.listEndpoints()
    this.endpoints = new Map(list.map((e) => [e.id, e]))
    this.storage.setWanted(typesCovered(list.map((e) => e.events)))
    this.endpointsReadAt = Date.now()
  }

  /** Something was enqueued: look now rather than at the next poll. */
  wake(): void {
    if (this.stopped) return
    if (this.running) this.again = true
    else this.schedule(0)
  }

  private schedule(ms: number): void {
    if (this.stopped) return
    if (this.timer) clearTimeout(this.timer)
    this.timer = setTimeout(() => void this.pass(), ms)
  }

  private async pass(): Promise<void> {
    this.timer = null
    if (this.running) return
    this.running = true
    let busy = false
    try {
      if (Date.now() - this.endpointsReadAt > ENDPOINTS_REFRESH_MS) await this.refreshEndpoints()
      busy = await this.runOnce()
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'webhook dispatch failed; retrying at the next poll')
    } finally {
      this.running = false
    }
    const next = busy || this.again ? 0 : this.deps.pollMs
    this.again = false
    this.schedule(next)
  }

  /** One round: fan out, claim, send. True when there may be more to do at once. */
  async runOnce(): Promise<boolean> {
    const now = Date.now()
    const fanned = await this.storage.fanOut(CLAIM_BATCH * 4, (type) => this.endpointsFor(type), now)
    const claimed = await this.storage.claim(CLAIM_BATCH, now, LEASE_MS)
    const probing = new Set<number>()
    const sends: Promise<void>[] = []
    for (const d of claimed) {
      const endpoint = this.endpoints.get(d.endpointId) ?? (await this.storage.getEndpoint(d.endpointId))
      if (!endpoint) continue
      // Half-open: an endpoint that has been failing gets one delivery, the probe, until one succeeds.
      if (endpoint.failures >= CIRCUIT_THRESHOLD) {
        if (probing.has(endpoint.id)) {
          await this.storage.release(d, now)
          continue
        }
        probing.add(endpoint.id)
      }
      sends.push(this.attempt(endpoint, d))
    }
    await Promise.all(sends)
    if (fanned === 0 && claimed.length === 0) await this.storage.prune()
    return fanned > 0 || claimed.length === CLAIM_BATCH
  }

  private endpointsFor(type: string): number[] {
    const ids: number[] = []
    for (const e of this.endpoints.values()) if (subscribes(e.events, type)) ids.push(e.id)
    return ids
  }

  /** One signed POST; its outcome recorded. */
  private async attempt(endpoint: WebhookEndpoint, d: ClaimedDelivery): Promise<void> {
    const { logger, retryBaseMs, attemptTimeoutMs, allowPrivate } = this.deps
    const body = await this.bodyOf(d)
    let status: number | null = null
    let error: string | null = null
    const refusal = await urlRefusal(endpoint.url, allowPrivate)
    if (refusal) error = `refused: ${refusal}`
    else {
      // The id is the same on every attempt, so a receiver drops repeats.
      const id = d.seq !== null ? `msg_${endpoint.id}_${d.seq}` : `msg_${endpoint.id}_o${d.outboxId}`
      const headers = { 'content-type': 'application/json', 'user-agent': 'switchboard-webhooks', ...signatureHeaders(endpoint.secret, id, Math.floor(Date.now() / 1000), body) }
      try {
        const response = await fetch(endpoint.url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(attemptTimeoutMs) })
        status = response.status
        // The body is not read: nothing in it is used, and a large one costs nothing.
        await response.body?.cancel().catch(() => undefined)
        if (status < 200 || status >= 300) error = `HTTP ${status}`
      } catch (e) {
        error = (e as Error).name === 'TimeoutError' ? `timed out after ${attemptTimeoutMs} ms` : `request failed: ${(e as Error).message}`
      }
    }
    if (error === null) {
      await this.storage.delivered(d)
      endpoint.failures = 0
      this.deps.onDelivered?.(endpoint.id)
      return
    }
    const now = Date.now()
    // Never retried: a refused address, a redirect (not followed) or a 4xx other than 408 and 429.
    const again = !refusal && retryable(status) && now - d.createdAt < RETRY_FOR_MS
    const nextAt = again ? now + backoffMs(d.attempts + 1, retryBaseMs) : null
    await this.storage.failed(d, error, nextAt, (failures) => (failures >= CIRCUIT_THRESHOLD ? now + pauseMs(failures, retryBaseMs) : 0))
    endpoint.failures++
    this.deps.onFailed?.(endpoint.id, refusal ? 'refused' : status === null ? 'network' : String(status))
    logger.warn({ endpoint: endpoint.id, outbox: d.outboxId, attempts: d.attempts + 1, error, retry_at: nextAt }, nextAt ? 'webhook attempt failed; will retry' : 'webhook dead-lettered')
  }

  private async bodyOf(d: ClaimedDelivery): Promise<string> {
    if (d.frame !== null) return webhookBody(d.type, JSON.parse(d.frame), d.seq, d.createdAt)
    // message.created: the message as it is now (an erased message is sent without its text).
    const m = await this.deps.store.getMessage(d.seq!)
    const frame = m ? (messageFrame(m) as unknown as Record<string, unknown>) : { id: d.seq }
    const { seq: _seq, ...fields } = frame
    return webhookBody(d.type, fields, d.seq, d.createdAt)
  }
}
