/** What Web Push stores: the subscriptions, the retries, and the two reads of the grace check. */

export interface PushSubscriptionRow {
  id: number
  userId: number
  endpoint: string
  /** The browser's P-256 public key and auth secret, URL-safe base64, as its PushSubscription gives them. */
  p256dh: string
  auth: string
  createdAt: number
}

export type NewPushSubscription = Pick<PushSubscriptionRow, 'userId' | 'endpoint' | 'p256dh' | 'auth'>

export type Urgency = 'very-low' | 'low' | 'normal' | 'high'

/** One encrypted push to make again: the payload as it was built, to the subscription it was for. */
export interface PushRetry {
  id: number
  subscriptionId: number
  payload: string
  topic: string | null
  urgency: Urgency
  ttl: number
  /** Attempts made so far (the first send counts). */
  attempts: number
  dueAt: number
  firstFailedAt: number
}

export interface PushStore {
  /** Stores a subscription; an endpoint already stored is given to this user with the new keys. */
  saveSubscription(sub: NewPushSubscription): Promise<void>
  /** Removes the user's subscription with this endpoint; false when they had none. */
  deleteSubscription(userId: number, endpoint: string): Promise<boolean>
  /** Removes a subscription the push service says is gone (404/410), with its retries. */
  deleteSubscriptionById(id: number): Promise<void>
  /** The subscriptions of these users. */
  subscriptionsOf(userIds: number[]): Promise<PushSubscriptionRow[]>
  getSubscription(id: number): Promise<PushSubscriptionRow | undefined>
  /** Of these direct messages, those still `sent`: no device of the recipient confirmed them. */
  stillSent(messageIds: number[]): Promise<Set<number>>
  /** The delivered marks of these users in these groups, keyed `${groupId}:${userId}`. */
  deliveredMarks(groupIds: number[], userIds: number[]): Promise<Map<string, number>>
  addRetry(retry: Omit<PushRetry, 'id'>): Promise<void>
  /**
   * Up to `limit` retries due by `now`, each taken for `leaseMs` (its due time moves past it), so
   * that another instance, or the next poll, does not take it too while it is being sent.
   */
  claimRetries(now: number, limit: number, leaseMs: number): Promise<PushRetry[]>
  /** The retry was sent, or given up: it is gone. */
  deleteRetry(id: number): Promise<void>
  rescheduleRetry(id: number, attempts: number, dueAt: number): Promise<void>
}

/** The key of a member's delivered mark in `deliveredMarks`' answer. */
export const markKey = (groupId: number, userId: number) => `${groupId}:${userId}`
