/**
 * The webhook tables on PostgreSQL, shared by every instance: a claim takes rows with
 * FOR UPDATE SKIP LOCKED and moves their next attempt past a lease in the same transaction, so
 * two instances never claim one delivery, and a claim an instance dies holding is retried when
 * its lease ends (at-least-once).
 */
import type { SQL } from 'bun'
import { outboxEntryOf, type OutboxEntry } from './events'
import { endpointOf, type ClaimedDelivery, type EndpointBacklog, type EndpointRow, type WebhookEndpoint, type WebhookStorage } from './storage'
import type { EventDraft } from '../db/store'

type Row = Record<string, unknown>
const claimedOf = (r: Row): ClaimedDelivery => ({
  endpointId: Number(r.endpoint_id),
  outboxId: Number(r.outbox_id),
  seq: r.seq === null ? null : Number(r.seq),
  type: r.type as string,
  frame: r.frame as string | null,
  attempts: Number(r.attempts),
  createdAt: Number(r.created_at),
})

export class PgWebhookStorage implements WebhookStorage {
  private wanted = new Set<string>()

  constructor(private readonly client: SQL) {}

  setWanted(types: Set<string>): void {
    this.wanted = types
  }

  wants(type: string): boolean {
    return this.wanted.has(type)
  }

  /** The outbox entry an appended event writes in its transaction, when some endpoint wants it. */
  entryOf(e: EventDraft): OutboxEntry | null {
    if (this.wanted.size === 0) return null
    const entry = outboxEntryOf(e)
    return entry && this.wanted.has(entry.type) ? entry : null
  }

  async listEndpoints(): Promise<WebhookEndpoint[]> {
    return ((await this.client`select * from webhook_endpoints order by id`) as EndpointRow[]).map(endpointOf)
  }

  async getEndpoint(id: number): Promise<WebhookEndpoint | undefined> {
    const [row] = (await this.client`select * from webhook_endpoints where id = ${id}`) as EndpointRow[]
    return row ? endpointOf(row) : undefined
  }

  async createEndpoint(input: { url: string; secret: string; events: string[] }): Promise<WebhookEndpoint> {
    const [row] = (await this.client`
      insert into webhook_endpoints (url, secret, events, source, created_at)
      values (${input.url}, ${input.secret}, ${JSON.stringify(input.events)}, 'api', ${Date.now()}) returning *`) as EndpointRow[]
    return endpointOf(row)
  }

  async putEnvEndpoint(input: { url: string; secret: string; events: string[] } | null): Promise<void> {
    if (!input) {
      await this.client`delete from webhook_endpoints where source = 'env'`
      return
    }
    const events = JSON.stringify(input.events)
    await this.client`
      insert into webhook_endpoints (url, secret, events, source, created_at) values (${input.url}, ${input.secret}, ${events}, 'env', ${Date.now()})
      on conflict (source) where source = 'env' do update set url = excluded.url, secret = excluded.secret, events = excluded.events`
  }

  async deleteEndpoint(id: number): Promise<boolean> {
    return ((await this.client`delete from webhook_endpoints where id = ${id} returning id`) as Row[]).length > 0
  }

  async setSecret(id: number, secret: string): Promise<WebhookEndpoint | undefined> {
    const [row] = (await this.client`update webhook_endpoints set secret = ${secret} where id = ${id} returning *`) as EndpointRow[]
    return row ? endpointOf(row) : undefined
  }

  async enqueue(entries: OutboxEntry[], frame: Record<string, unknown>): Promise<void> {
    const json = JSON.stringify(frame)
    for (const e of entries)
      if (this.wanted.has(e.type)) await this.client`insert into webhook_outbox (seq, type, conv, frame, created_at) values (null, ${e.type}, ${e.conv}, ${json}, ${Date.now()})`
  }

  async fanOut(limit: number, endpointsFor: (type: string) => number[], now: number): Promise<number> {
    return this.client.begin(async (tx) => {
      // Rows another instance is fanning out are skipped; until it commits they stay unfanned for
      // everyone, which holds back later events of their conversations (see claim).
      const rows = (await tx`select id, type, conv from webhook_outbox where not fanned order by id limit ${limit} for update skip locked`) as Row[]
      for (const r of rows)
        for (const endpointId of endpointsFor(r.type as string))
          await tx`insert into webhook_deliveries (endpoint_id, outbox_id, conv, next_at, created_at) values (${endpointId}, ${r.id}, ${r.conv}, ${now}, ${now}) on conflict do nothing`
      if (rows.length) await tx`update webhook_outbox set fanned = true where id = any(${`{${rows.map((r) => r.id).join(',')}}`}::bigint[])`
      return rows.length
    })
  }

  async claim(limit: number, now: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const rows = (await this.client`
      with due as (
        select d.endpoint_id, d.outbox_id from webhook_deliveries d
        join webhook_endpoints e on e.id = d.endpoint_id
        where d.state = 'pending' and d.next_at <= ${now} and e.paused_until <= ${now}
          and (d.conv is null or not exists (select 1 from webhook_deliveries p where p.endpoint_id = d.endpoint_id and p.conv = d.conv and p.state = 'pending' and p.outbox_id < d.outbox_id))
          and (d.conv is null or not exists (select 1 from webhook_outbox u where not u.fanned and u.conv = d.conv and u.id < d.outbox_id))
        order by d.outbox_id limit ${limit}
        for update of d skip locked),
      leased as (
        update webhook_deliveries w set next_at = ${now + leaseMs}
        from due where w.endpoint_id = due.endpoint_id and w.outbox_id = due.outbox_id
        returning w.endpoint_id, w.outbox_id, w.attempts)
      select l.endpoint_id, l.outbox_id, l.attempts, o.seq, o.type, o.frame, o.created_at
      from leased l join webhook_outbox o on o.id = l.outbox_id order by l.outbox_id`) as Row[]
    return rows.map(claimedOf)
  }

  async delivered(d: ClaimedDelivery): Promise<void> {
    await this.client.begin(async (tx) => {
      await tx`delete from webhook_deliveries where endpoint_id = ${d.endpointId} and outbox_id = ${d.outboxId}`
      await tx`update webhook_endpoints set failures = 0, paused_until = 0 where id = ${d.endpointId} and failures > 0`
    })
  }

  async failed(d: ClaimedDelivery, error: string, nextAt: number | null, pausedUntil: (failures: number) => number): Promise<void> {
    await this.client.begin(async (tx) => {
      if (nextAt === null)
        await tx`update webhook_deliveries set state = 'dead', attempts = attempts + 1, last_error = ${error} where endpoint_id = ${d.endpointId} and outbox_id = ${d.outboxId}`
      else
        await tx`update webhook_deliveries set attempts = attempts + 1, next_at = ${nextAt}, last_error = ${error} where endpoint_id = ${d.endpointId} and outbox_id = ${d.outboxId}`
      const [row] = (await tx`update webhook_endpoints set failures = failures + 1 where id = ${d.endpointId} returning failures`) as Row[]
      if (row) await tx`update webhook_endpoints set paused_until = ${pausedUntil(Number(row.failures))} where id = ${d.endpointId}`
    })
  }

  async releaseOwnLeases(_now: number): Promise<void> {
    // A lease may be a live instance's: it is left to run out (LEASE_MS in the dispatcher).
  }

  async release(d: ClaimedDelivery, at: number): Promise<void> {
    await this.client`update webhook_deliveries set next_at = ${at} where endpoint_id = ${d.endpointId} and outbox_id = ${d.outboxId}`
  }

  async backlog(now: number): Promise<EndpointBacklog[]> {
    const rows = (await this.client`
      select e.id, count(*) filter (where d.state = 'pending') as pending, count(*) filter (where d.state = 'dead') as dead,
        coalesce(${now}::bigint - min(d.created_at) filter (where d.state = 'pending'), 0) as oldest
      from webhook_endpoints e left join webhook_deliveries d on d.endpoint_id = e.id group by e.id`) as Row[]
    return rows.map((r) => ({ endpointId: Number(r.id), pending: Number(r.pending), dead: Number(r.dead), oldestMs: Number(r.oldest) }))
  }

  async prune(): Promise<number> {
    const rows = (await this.client`
      delete from webhook_outbox o where fanned and not exists (select 1 from webhook_deliveries d where d.outbox_id = o.id) returning id`) as Row[]
    return rows.length
  }
}
