/** The webhook tables on SQLite: one process writes the file, so a claim needs no row locks. */
import type { Database, Statement } from 'bun:sqlite'
import type { EventDraft } from '../db/store'
import { outboxEntryOf, type OutboxEntry } from './events'
import { endpointOf, type ClaimedDelivery, type EndpointBacklog, type EndpointRow, type WebhookEndpoint, type WebhookStorage } from './storage'

const CLAIM = `
  select d.endpoint_id as endpointId, d.outbox_id as outboxId, o.seq as seq, o.type as type, o.frame as frame, d.attempts as attempts, o.created_at as createdAt
  from webhook_deliveries d
  join webhook_outbox o on o.id = d.outbox_id
  join webhook_endpoints e on e.id = d.endpoint_id
  where d.state = 'pending' and d.next_at <= ?1 and e.paused_until <= ?1
    and (d.conv is null or not exists (select 1 from webhook_deliveries p where p.endpoint_id = d.endpoint_id and p.conv = d.conv and p.state = 'pending' and p.outbox_id < d.outbox_id))
    and (d.conv is null or not exists (select 1 from webhook_outbox u where u.fanned = 0 and u.conv = d.conv and u.id < d.outbox_id))
  order by d.outbox_id limit ?2`

export class SqliteWebhookStorage implements WebhookStorage {
  private wanted = new Set<string>()
  private readonly insertEntry: Statement<unknown, [number | null, string, string | null, string | null, number]>
  /** One statement a batch: every message of it, by id range (one writer, one transaction). */
  private readonly insertCreated: Statement<unknown, [number, number, number]>

  constructor(private readonly client: Database) {
    this.insertEntry = client.prepare('insert into webhook_outbox (seq, type, conv, frame, created_at) values (?, ?, ?, ?, ?)')
    this.insertCreated = client.prepare(`insert into webhook_outbox (seq, type, conv, created_at) select id, 'message.created', conv, ? from messages where id between ? and ?`)
  }

  setWanted(types: Set<string>): void {
    this.wanted = types
  }

  wants(type: string): boolean {
    return this.wanted.has(type)
  }

  /** Inside insertMessages' transaction: the batch's messages, when message.created is wanted. */
  messagesStored(firstId: number, lastId: number, now: number): void {
    if (lastId && this.wanted.has('message.created')) this.insertCreated.run(now, firstId, lastId)
  }

  /** Inside an appending transaction: the event, when it is a webhook event some endpoint wants. */
  eventAppended(e: EventDraft, seq: number, frameJson: string, now: number): void {
    if (this.wanted.size === 0) return
    const entry = outboxEntryOf(e)
    if (entry && this.wanted.has(entry.type)) this.insertEntry.run(seq, entry.type, entry.conv, frameJson, now)
  }

  async listEndpoints(): Promise<WebhookEndpoint[]> {
    return this.client.query<EndpointRow, []>('select * from webhook_endpoints order by id').all().map(endpointOf)
  }

  async getEndpoint(id: number): Promise<WebhookEndpoint | undefined> {
    const row = this.client.query<EndpointRow, [number]>('select * from webhook_endpoints where id = ?').get(id)
    return row ? endpointOf(row) : undefined
  }

  async createEndpoint(input: { url: string; secret: string; events: string[] }): Promise<WebhookEndpoint> {
    const row = this.client
      .query<EndpointRow, [string, string, string, number]>(`insert into webhook_endpoints (url, secret, events, source, created_at) values (?, ?, ?, 'api', ?) returning *`)
      .get(input.url, input.secret, JSON.stringify(input.events), Date.now())!
    return endpointOf(row)
  }

  async putEnvEndpoint(input: { url: string; secret: string; events: string[] } | null): Promise<void> {
    if (!input) {
      this.client.query(`delete from webhook_endpoints where source = 'env'`).run()
      return
    }
    this.client
      .query(
        `insert into webhook_endpoints (url, secret, events, source, created_at) values (?1, ?2, ?3, 'env', ?4) ` +
          `on conflict (source) where source = 'env' do update set url = ?1, secret = ?2, events = ?3`,
      )
      .run(input.url, input.secret, JSON.stringify(input.events), Date.now())
  }

  async deleteEndpoint(id: number): Promise<boolean> {
    return this.client.query('delete from webhook_endpoints where id = ? returning id').all(id).length > 0
  }

  async setSecret(id: number, secret: string): Promise<WebhookEndpoint | undefined> {
    const row = this.client.query<EndpointRow, [string, number]>('update webhook_endpoints set secret = ? where id = ? returning *').get(secret, id)
    return row ? endpointOf(row) : undefined
  }

  async enqueue(entries: OutboxEntry[], frame: Record<string, unknown>): Promise<void> {
    const json = JSON.stringify(frame)
    for (const e of entries) if (this.wanted.has(e.type)) this.insertEntry.run(null, e.type, e.conv, json, Date.now())
  }

  async fanOut(limit: number, endpointsFor: (type: string) => number[], now: number): Promise<number> {
    let n = 0
    this.client.transaction(() => {
      const rows = this.client.query<{ id: number; type: string; conv: string | null }, [number]>('select id, type, conv from webhook_outbox where fanned = 0 order by id limit ?').all(limit)
      const add = this.client.prepare('insert or ignore into webhook_deliveries (endpoint_id, outbox_id, conv, next_at, created_at) values (?, ?, ?, ?, ?)')
      for (const r of rows) for (const endpointId of endpointsFor(r.type)) add.run(endpointId, r.id, r.conv, now, now)
      if (rows.length) this.client.query('update webhook_outbox set fanned = 1 where id between ? and ? and fanned = 0').run(rows[0].id, rows[rows.length - 1].id)
      n = rows.length
    })()
    return n
  }

  async claim(limit: number, now: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    return this.client.transaction(() => {
      const claimed = this.client.query<ClaimedDelivery, [number, number]>(CLAIM).all(now, limit)
      const lease = this.client.prepare('update webhook_deliveries set next_at = ? where endpoint_id = ? and outbox_id = ?')
      for (const d of claimed) lease.run(now + leaseMs, d.endpointId, d.outboxId)
      return claimed
    })()
  }

  async delivered(d: ClaimedDelivery): Promise<void> {
    this.client.transaction(() => {
      this.client.query('delete from webhook_deliveries where endpoint_id = ? and outbox_id = ?').run(d.endpointId, d.outboxId)
      this.client.query('update webhook_endpoints set failures = 0, paused_until = 0 where id = ?').run(d.endpointId)
    })()
  }

  async failed(d: ClaimedDelivery, error: string, nextAt: number | null, pausedUntil: (failures: number) => number): Promise<void> {
    this.client.transaction(() => {
      if (nextAt === null)
        this.client.query(`update webhook_deliveries set state = 'dead', attempts = attempts + 1, last_error = ? where endpoint_id = ? and outbox_id = ?`).run(error, d.endpointId, d.outboxId)
      else
        this.client.query('update webhook_deliveries set attempts = attempts + 1, next_at = ?, last_error = ? where endpoint_id = ? and outbox_id = ?').run(nextAt, error, d.endpointId, d.outboxId)
      const row = this.client.query<{ failures: number }, [number]>('update webhook_endpoints set failures = failures + 1 where id = ? returning failures').get(d.endpointId)
      if (row) this.client.query('update webhook_endpoints set paused_until = ? where id = ?').run(pausedUntil(row.failures), d.endpointId)
    })()
  }

  async release(d: ClaimedDelivery, at: number): Promise<void> {
    this.client.query('update webhook_deliveries set next_at = ? where endpoint_id = ? and outbox_id = ?').run(at, d.endpointId, d.outboxId)
  }

  async releaseOwnLeases(now: number): Promise<void> {
    // The only process on the file: any lease is one this process held when it died, and is given
    // back. Every pending delivery goes again now (its backoff starts over).
    this.client.query(`update webhook_deliveries set next_at = ? where state = 'pending' and next_at > ?`).run(now, now)
  }

  async backlog(now: number): Promise<EndpointBacklog[]> {
    return this.client
      .query<EndpointBacklog, [number]>(
        `select e.id as endpointId, coalesce(sum(d.state = 'pending'), 0) as pending, coalesce(sum(d.state = 'dead'), 0) as dead, ` +
          `coalesce(?1 - min(case when d.state = 'pending' then d.created_at end), 0) as oldestMs ` +
          `from webhook_endpoints e left join webhook_deliveries d on d.endpoint_id = e.id group by e.id`,
      )
      .all(now)
  }

  async prune(): Promise<number> {
    return this.client.query('delete from webhook_outbox where fanned = 1 and not exists (select 1 from webhook_deliveries d where d.outbox_id = webhook_outbox.id) returning id').all().length
  }
}
