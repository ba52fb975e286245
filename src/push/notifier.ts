import type { Store, StoredMessage } from '../db/store'
import type { Logger } from '../observability/logger'
import { buildPayload, mentions, topicOf, urgencyOf, type Pending } from './payload'
import type { PushOutcome } from './metrics'
import { outcomeOf, type PushOptions, type PushSend } from './sender'
import { markKey, type PushRetry, type PushSubscriptionRow } from './store'

export interface NotifierDeps {
  store: Store
  /** The members of a group (the directory's cache). */
  membersOf(groupId: number): Set<number> | undefined | Promise<Set<number> | undefined>
  send: PushSend
  logger: Logger
  graceMs: number
  preview: boolean
  ttlSeconds: number
  retryBaseMs: number
  /** Counts each attempt's outcome (metrics). */
  onAttempt?: (outcome: PushOutcome) => void
}

/** Messages waiting for their grace check, at most: past it the oldest is checked at once. */
const PENDING_MAX = 100_000
/** Checks falling due this close together are made in one batch. */
const BATCH_SLACK_MS = 50
/** A retry is given up after this many attempts, or once older than its TTL. */
export const MAX_ATTEMPTS = 10
const MAX_RETRY_DELAY_MS = 3_600_000
/** Retries taken per poll, and how long one is held by whoever took it. */
const RETRIES_PER_POLL = 100
const RETRY_LEASE_MS = 60_000
/** Pushes in flight at once. */
const CONCURRENCY = 16

/**
 * Pushes the messages no device of their recipient confirmed in time. A committed message costs an
 * array push here and nothing more until its grace time has passed; then the messages due
 * together are checked in one batch: the recipients' subscriptions (one read), then, for those who
 * have one, whether a device confirmed the message (the direct message's status, the member's
 * group delivered mark: one read each). Only the instance that committed a message checks it.
 */
export class PushNotifier {
  private pending: { message: StoredMessage; dueAt: number }[] = []
  private timer: ReturnType<typeof setTimeout> | null = null
  private checking: Promise<void> | null = null
  private retryTimer: ReturnType<typeof setInterval> | null = null
  private retrying = false
  private stopped = false
  private readonly names = new Map<string, string>()

  constructor(private readonly deps: NotifierDeps) {}

  /** Messages waiting for their grace check. */
  get waiting(): number {
    return this.pending.length
  }

  /** A message was committed (not a resend): it is checked once its grace time is over. */
  committed(message: StoredMessage): void {
    if (this.stopped || message.recipientId === message.senderId) return
    if (this.pending.length >= PENDING_MAX) this.pending[0].dueAt = 0
    this.pending.push({ message, dueAt: Date.now() + this.deps.graceMs })
    this.arm()
  }

  /** Starts retrying failed pushes. */
  start(): void {
    this.stopped = false
    const every = Math.min(this.deps.retryBaseMs, 1000)
    this.retryTimer ??= setInterval(() => void this.retryDue(), every)
    this.retryTimer.unref?.()
  }

  /** Stops the timers; what waits for its grace check is dropped (those messages stay unpushed). */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    if (this.retryTimer) clearInterval(this.retryTimer)
    this.timer = this.retryTimer = null
    this.pending = []
    await this.checking
  }

  private arm(): void {
    if (this.timer || this.checking || !this.pending.length) return
    this.timer = setTimeout(() => {
      this.timer = null
      this.checking = this.checkDue()
        .catch((error) => this.deps.logger.error({ err: error }, 'push: the grace check failed'))
        .finally(() => {
          this.checking = null
          this.arm()
        })
    }, Math.max(0, this.pending[0].dueAt - Date.now()))
    this.timer.unref?.()
  }

  /** Checks every message whose grace time is over, and pushes those nobody's device confirmed. */
  private async checkDue(): Promise<void> {
    const until = Date.now() + BATCH_SLACK_MS
    let n = 0
    while (n < this.pending.length && this.pending[n].dueAt <= until) n++
    const due = this.pending.splice(0, n).map((p) => p.message)
    if (!due.length) return
    // Who each message is for: the recipient, or every member but the sender.
    const recipients = new Map<StoredMessage, number[]>()
    const users = new Set<number>()
    for (const m of due) {
      const ids = m.groupId === null ? [m.recipientId!] : [...((await this.deps.membersOf(m.groupId)) ?? [])].filter((id) => id !== m.senderId)
      recipients.set(m, ids)
      for (const id of ids) users.add(id)
    }
    const { push } = this.deps.store
    const subs = new Map<number, PushSubscriptionRow[]>()
    for (const s of await push.subscriptionsOf([...users])) subs.set(s.userId, [...(subs.get(s.userId) ?? []), s])
    if (!subs.size) return
    const directIds: number[] = []
    const groupIds = new Set<number>()
    const groupUsers = new Set<number>()
    for (const [m, ids] of recipients) {
      const subscribed = ids.filter((id) => subs.has(id))
      recipients.set(m, subscribed)
      if (!subscribed.length) continue
      if (m.groupId === null) directIds.push(m.id)
      else {
        groupIds.add(m.groupId)
        for (const id of subscribed) groupUsers.add(id)
      }
    }
    const [stillSent, marks] = await Promise.all([
      directIds.length ? push.stillSent(directIds) : new Set<number>(),
      groupIds.size ? push.deliveredMarks([...groupIds], [...groupUsers]) : new Map<string, number>(),
    ])
    // One push per user and conversation: the newest message, counting the others.
    const toPush = new Map<string, Pending & { userId: number }>()
    for (const [m, ids] of recipients) {
      for (const userId of ids) {
        const unconfirmed = m.groupId === null ? stillSent.has(m.id) : (marks.get(markKey(m.groupId, userId)) ?? 0) < m.id
        if (!unconfirmed) continue
        const key = `${userId} ${m.conv}`
        const mention = m.groupId !== null && mentions(m, userId)
        const seen = toPush.get(key)
        if (!seen) toPush.set(key, { userId, message: m, count: 1, mention })
        else toPush.set(key, { userId, message: m.id > seen.message.id ? m : seen.message, count: seen.count + 1, mention: seen.mention || mention })
      }
    }
    const sends: (() => Promise<void>)[] = []
    for (const p of toPush.values()) {
      const m = p.message
      const payload = JSON.stringify(buildPayload(p, await this.userName(m.senderId), m.groupId === null ? null : await this.groupName(m.groupId), this.deps.preview))
      const options: PushOptions = { ttl: this.deps.ttlSeconds, urgency: urgencyOf(p), topic: topicOf(m.conv) }
      for (const sub of subs.get(p.userId)!) sends.push(() => this.sendFirst(sub, payload, options))
    }
    await inParallel(sends, CONCURRENCY)
  }

  /** A push's first attempt: a failure worth retrying leaves a durable retry row. */
  private async sendFirst(sub: PushSubscriptionRow, payload: string, options: PushOptions): Promise<void> {
    const outcome = await this.attempt(sub, payload, options)
    if (outcome !== 'retry') return
    const now = Date.now()
    await this.deps.store.push.addRetry({ subscriptionId: sub.id, payload, topic: options.topic, urgency: options.urgency, ttl: options.ttl, attempts: 1, dueAt: now + this.delay(1), firstFailedAt: now })
  }

  /** One attempt; a subscription the push service says is gone is removed here. */
  private async attempt(sub: PushSubscriptionRow, payload: string, options: PushOptions): Promise<'sent' | 'gone' | 'retry' | 'refused'> {
    let outcome: ReturnType<typeof outcomeOf>
    try {
      const status = await this.deps.send(sub, payload, options)
      outcome = outcomeOf(status)
      if (outcome === 'refused') this.deps.logger.warn({ status, subscription: sub.id }, 'push: the push service refused a push')
    } catch (error) {
      this.deps.logger.warn({ err: error, subscription: sub.id }, 'push: the push service could not be reached')
      outcome = 'retry'
    }
    this.deps.onAttempt?.(outcome)
    if (outcome === 'gone') {
      await this.deps.store.push.deleteSubscriptionById(sub.id)
      this.deps.logger.info({ subscription: sub.id, user: sub.userId }, 'push: the subscription is gone; removed')
    }
    return outcome
  }

  /** Exponential backoff with jitter: about base × 2^(attempts - 1), capped at an hour. */
  private delay(attempts: number): number {
    const exact = Math.min(this.deps.retryBaseMs * 2 ** (attempts - 1), MAX_RETRY_DELAY_MS)
    return Math.round(exact * (0.75 + Math.random() / 2))
  }

  /** Tries the due retries again (every instance polls; each row is taken by one). */
  async retryDue(): Promise<void> {
    if (this.retrying || this.stopped) return
    this.retrying = true
    try {
      const { push } = this.deps.store
      const now = Date.now()
      const due = await push.claimRetries(now, RETRIES_PER_POLL, RETRY_LEASE_MS)
      await inParallel(due.map((r) => () => this.retry(r, now)), CONCURRENCY)
    } catch (error) {
      this.deps.logger.error({ err: error }, 'push: retrying failed pushes failed')
    } finally {
      this.retrying = false
    }
  }

  private async retry(r: PushRetry, now: number): Promise<void> {
    const { push } = this.deps.store
    const sub = await push.getSubscription(r.subscriptionId)
    // A push older than its TTL would have been dropped by the push service anyway.
    if (!sub || now - r.firstFailedAt > r.ttl * 1000) return push.deleteRetry(r.id)
    const outcome = await this.attempt(sub, r.payload, { ttl: r.ttl, urgency: r.urgency, topic: r.topic })
    if (outcome === 'gone') return
    if (outcome !== 'retry') return push.deleteRetry(r.id)
    const attempts = r.attempts + 1
    if (attempts >= MAX_ATTEMPTS) {
      this.deps.logger.warn({ subscription: sub.id, attempts }, 'push: given up after repeated failures')
      return push.deleteRetry(r.id)
    }
    await push.rescheduleRetry(r.id, attempts, Date.now() + this.delay(attempts))
  }

  private async userName(id: number): Promise<string> {
    return this.cached(`u${id}`, async () => {
      const u = await this.deps.store.getUser(id)
      return u ? (u.displayName ?? u.username) : `user ${id}`
    })
  }

  private async groupName(id: number): Promise<string> {
    return this.cached(`g${id}`, async () => (await this.deps.store.getGroup(id))?.name ?? `group ${id}`)
  }

  /** Names change rarely and a push may show a stale one: cached, at most 10,000. */
  private async cached(key: string, load: () => Promise<string>): Promise<string> {
    const hit = this.names.get(key)
    if (hit !== undefined) return hit
    const name = await load()
    if (this.names.size >= 10_000) this.names.clear()
    this.names.set(key, name)
    return name
  }
}

/** Runs the tasks, at most `limit` at a time. */
async function inParallel(tasks: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]()
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker))
}
