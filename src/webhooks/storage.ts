/** What webhooks keep in the database: endpoints, the outbox (one row an event) and deliveries (one an event and endpoint). */
import type { OutboxEntry } from './events'

export interface WebhookEndpoint {
  id: number
  url: string
  secret: string
  /** Subscriptions: types, families (`reaction.*`) or `*`. */
  events: string[]
  /** `env`: the one WEBHOOK_URL configures (rewritten at each start); `api`: made through the admin API. */
  source: 'env' | 'api'
  createdAt: number
  /** Consecutive failed attempts; the circuit opens at CIRCUIT_THRESHOLD. */
  failures: number
  /** No attempt before this time (ms): the circuit is open. */
  pausedUntil: number
}

/** A delivery claimed for one attempt, with what its body is built from. */
export interface ClaimedDelivery {
  endpointId: number
  outboxId: number
  seq: number | null
  type: string
  /** The stream event's frame as JSON; null for message.created (built from the message row). */
  frame: string | null
  attempts: number
  /** When the event was enqueued (ms): retries stop a day after it. */
  createdAt: number
}

export interface EndpointBacklog {
  endpointId: number
  pending: number
  dead: number
  /** Age of the oldest pending delivery, in ms (0 when none). */
  oldestMs: number
}

/**
 * The webhook tables. The store writes outbox rows in its own transactions (insertMessages,
 * appending) for the types in `wanted`; the dispatcher does the rest through these calls.
 */
export interface WebhookStorage {
  /** The event types some endpoint subscribes to: the only ones the store enqueues. The dispatcher alone sets it. */
  setWanted(types: Set<string>): void
  wants(type: string): boolean
  listEndpoints(): Promise<WebhookEndpoint[]>
  getEndpoint(id: number): Promise<WebhookEndpoint | undefined>
  createEndpoint(input: { url: string; secret: string; events: string[] }): Promise<WebhookEndpoint>
  /** Sets (or, with null, removes) the endpoint WEBHOOK_URL configures. */
  putEnvEndpoint(input: { url: string; secret: string; events: string[] } | null): Promise<void>
  /** Removes an endpoint and what it had pending; false when there was none. */
  deleteEndpoint(id: number): Promise<boolean>
  setSecret(id: number, secret: string): Promise<WebhookEndpoint | undefined>
  /** Enqueues events outside any other transaction (presence: best-effort, not in the stream). */
  enqueue(entries: OutboxEntry[], frame: Record<string, unknown>): Promise<void>
  /** Turns up to `limit` outbox rows into one delivery per endpoint `endpointsFor` names; returns how many rows. */
  fanOut(limit: number, endpointsFor: (type: string) => number[], now: number): Promise<number>
  /**
   * Claims up to `limit` due deliveries (each the earliest pending one of its conversation for its
   * endpoint, of an endpoint not paused) by moving their next attempt `leaseMs` ahead.
   */
  claim(limit: number, now: number, leaseMs: number): Promise<ClaimedDelivery[]>
  /** Delivered: the delivery goes, and the endpoint's failure count returns to 0. */
  delivered(d: ClaimedDelivery): Promise<void>
  /** Failed: retried at `nextAt`, or dead-lettered (kept, with `error`) when `nextAt` is null; the endpoint's circuit follows. */
  failed(d: ClaimedDelivery, error: string, nextAt: number | null, pausedUntil: (failures: number) => number): Promise<void>
  /** Gives a claim back unattempted (the circuit is half-open: one probe at a time). */
  release(d: ClaimedDelivery, at: number): Promise<void>
  /**
   * At start: gives back the claims a process that died held. SQLite has one process, so every
   * lease is one of its own and is released at once; PostgreSQL's instances cannot tell theirs from
   * a live neighbour's, and wait for the lease to end.
   */
  releaseOwnLeases(now: number): Promise<void>
  backlog(now: number): Promise<EndpointBacklog[]>
  /** Deletes outbox rows every endpoint is done with. */
  prune(): Promise<number>
}

export interface EndpointRow {
  id: number
  url: string
  secret: string
  events: string
  source: string
  created_at: number | string
  failures: number
  paused_until: number | string
}

/** An endpoint row as the API sees it. */
export function endpointOf(r: EndpointRow): WebhookEndpoint {
  return {
    id: Number(r.id),
    url: r.url,
    secret: r.secret,
    events: JSON.parse(r.events),
    source: r.source === 'env' ? 'env' : 'api',
    createdAt: Number(r.created_at),
    failures: Number(r.failures),
    pausedUntil: Number(r.paused_until),
  }
}
