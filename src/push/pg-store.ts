import { and, eq, inArray, sql } from 'drizzle-orm'
import type { BunSQLDatabase } from 'drizzle-orm/bun-sql'
import { groupMembers, messages } from '../db/pg-schema'
import { slices } from '../db/store'
import { pgPushRetries as pushRetries, pgPushSubscriptions as pushSubscriptions } from './schema'
import { markKey, type NewPushSubscription, type PushRetry, type PushStore, type PushSubscriptionRow } from './store'

/** PushStore on PostgreSQL; instances sharing it claim retries with FOR UPDATE SKIP LOCKED. */
export class PgPushStore implements PushStore {
  constructor(private readonly db: BunSQLDatabase<any>) {}

  async saveSubscription(sub: NewPushSubscription): Promise<void> {
    await this.db
      .insert(pushSubscriptions)
      .values({ ...sub, createdAt: Date.now() })
      .onConflictDoUpdate({ target: pushSubscriptions.endpoint, set: { userId: sub.userId, p256dh: sub.p256dh, auth: sub.auth } })
  }

  async deleteSubscription(userId: number, endpoint: string): Promise<boolean> {
    const rows = await this.db
      .delete(pushSubscriptions)
      .where(and(eq(pushSubscriptions.userId, userId), eq(pushSubscriptions.endpoint, endpoint)))
      .returning({ id: pushSubscriptions.id })
    return rows.length > 0
  }

  async deleteSubscriptionById(id: number): Promise<void> {
    await this.db.delete(pushSubscriptions).where(eq(pushSubscriptions.id, id))
  }

  async subscriptionsOf(userIds: number[]): Promise<PushSubscriptionRow[]> {
    const rows: PushSubscriptionRow[] = []
    for (const ids of slices(userIds)) rows.push(...(await this.db.select().from(pushSubscriptions).where(inArray(pushSubscriptions.userId, ids))))
    return rows
  }

  async getSubscription(id: number): Promise<PushSubscriptionRow | undefined> {
    const [row] = await this.db.select().from(pushSubscriptions).where(eq(pushSubscriptions.id, id))
    return row
  }

  async stillSent(messageIds: number[]): Promise<Set<number>> {
    const sent = new Set<number>()
    for (const ids of slices(messageIds))
      for (const r of await this.db.select({ id: messages.id }).from(messages).where(and(inArray(messages.id, ids), eq(messages.status, 'sent')))) sent.add(r.id)
    return sent
  }

  async deliveredMarks(groupIds: number[], userIds: number[]): Promise<Map<string, number>> {
    const marks = new Map<string, number>()
    for (const users of slices(userIds, 250))
      for (const groups of slices(groupIds, 250))
        for (const r of await this.db
          .select({ groupId: groupMembers.groupId, userId: groupMembers.userId, mark: groupMembers.lastDeliveredId })
          .from(groupMembers)
          .where(and(inArray(groupMembers.groupId, groups), inArray(groupMembers.userId, users))))
          marks.set(markKey(r.groupId, r.userId), Number(r.mark))
    return marks
  }

  async addRetry(retry: Omit<PushRetry, 'id'>): Promise<void> {
    await this.db.insert(pushRetries).values(retry)
  }

  async claimRetries(now: number, limit: number, leaseMs: number): Promise<PushRetry[]> {
    // The lease is taken in the claiming statement: another instance skips the locked rows, then
    // finds them due only after the lease.
    const rows = await this.db.execute(sql`
      update ${pushRetries} set due_at = ${now + leaseMs}
      where id in (select id from ${pushRetries} where due_at <= ${now} order by due_at limit ${limit} for update skip locked)
      returning id, subscription_id, payload, topic, urgency, ttl, attempts, due_at, first_failed_at`)
    return (rows as unknown as Record<string, unknown>[]).map((r) => ({
      id: Number(r.id),
      subscriptionId: Number(r.subscription_id),
      payload: String(r.payload),
      topic: (r.topic as string | null) ?? null,
      urgency: r.urgency as PushRetry['urgency'],
      ttl: Number(r.ttl),
      attempts: Number(r.attempts),
      dueAt: now,
      firstFailedAt: Number(r.first_failed_at),
    }))
  }

  async deleteRetry(id: number): Promise<void> {
    await this.db.delete(pushRetries).where(eq(pushRetries.id, id))
  }

  async rescheduleRetry(id: number, attempts: number, dueAt: number): Promise<void> {
    await this.db.update(pushRetries).set({ attempts, dueAt }).where(eq(pushRetries.id, id))
  }
}
