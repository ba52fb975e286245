import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm'
import type { BunSQLiteDatabase } from 'drizzle-orm/bun-sqlite'
import { groupMembers, messages } from '../db/schema'
import { slices } from '../db/store'
import { pushRetries, pushSubscriptions } from './schema'
import { markKey, type NewPushSubscription, type PushRetry, type PushStore, type PushSubscriptionRow } from './store'

/** PushStore on the SQLite store's database (one process writes it: a claim needs no lock). */
export class SqlitePushStore implements PushStore {
  constructor(private readonly db: BunSQLiteDatabase<any>) {}

  async saveSubscription(sub: NewPushSubscription): Promise<void> {
    this.db
      .insert(pushSubscriptions)
      .values({ ...sub, createdAt: Date.now() })
      .onConflictDoUpdate({ target: pushSubscriptions.endpoint, set: { userId: sub.userId, p256dh: sub.p256dh, auth: sub.auth } })
      .run()
  }

  async deleteSubscription(userId: number, endpoint: string): Promise<boolean> {
    const rows = this.db
      .delete(pushSubscriptions)
      .where(and(eq(pushSubscriptions.userId, userId), eq(pushSubscriptions.endpoint, endpoint)))
      .returning({ id: pushSubscriptions.id })
      .all()
    return rows.length > 0
  }

  async deleteSubscriptionById(id: number): Promise<void> {
    this.db.delete(pushSubscriptions).where(eq(pushSubscriptions.id, id)).run()
  }

  async subscriptionsOf(userIds: number[]): Promise<PushSubscriptionRow[]> {
    const rows: PushSubscriptionRow[] = []
    for (const ids of slices(userIds)) rows.push(...this.db.select().from(pushSubscriptions).where(inArray(pushSubscriptions.userId, ids)).all())
    return rows
  }

  async getSubscription(id: number): Promise<PushSubscriptionRow | undefined> {
    return this.db.select().from(pushSubscriptions).where(eq(pushSubscriptions.id, id)).get()
  }

  async stillSent(messageIds: number[]): Promise<Set<number>> {
    const sent = new Set<number>()
    for (const ids of slices(messageIds))
      for (const r of this.db.select({ id: messages.id }).from(messages).where(and(inArray(messages.id, ids), eq(messages.status, 'sent'))).all()) sent.add(r.id)
    return sent
  }

  async deliveredMarks(groupIds: number[], userIds: number[]): Promise<Map<string, number>> {
    const marks = new Map<string, number>()
    for (const users of slices(userIds, 250))
      for (const groups of slices(groupIds, 250))
        for (const r of this.db
          .select({ groupId: groupMembers.groupId, userId: groupMembers.userId, mark: groupMembers.lastDeliveredId })
          .from(groupMembers)
          .where(and(inArray(groupMembers.groupId, groups), inArray(groupMembers.userId, users)))
          .all())
          marks.set(markKey(r.groupId, r.userId), r.mark)
    return marks
  }

  async addRetry(retry: Omit<PushRetry, 'id'>): Promise<void> {
    this.db.insert(pushRetries).values(retry).run()
  }

  async claimRetries(now: number, limit: number, leaseMs: number): Promise<PushRetry[]> {
    return this.db.transaction((tx) => {
      const due = tx.select().from(pushRetries).where(lte(pushRetries.dueAt, now)).orderBy(asc(pushRetries.dueAt)).limit(limit).all() as PushRetry[]
      if (due.length) tx.update(pushRetries).set({ dueAt: sql`${now + leaseMs}` }).where(inArray(pushRetries.id, due.map((r) => r.id))).run()
      return due
    })
  }

  async deleteRetry(id: number): Promise<void> {
    this.db.delete(pushRetries).where(eq(pushRetries.id, id)).run()
  }

  async rescheduleRetry(id: number, attempts: number, dueAt: number): Promise<void> {
    this.db.update(pushRetries).set({ attempts, dueAt }).where(eq(pushRetries.id, id)).run()
  }
}
