import type Redis from 'ioredis'
import type { ConnectedHere, InstanceStats, Presence, PresenceFrame } from './broker'

/**
 * Cluster presence in Redis. Each instance keeps the ids of its online users in a set of its own
 * (`<prefix>:presence:<instance>`) whose expiry every heartbeat pushes back by the TTL; the
 * instance is listed in `<prefix>:instances`. An instance that dies without a goodbye stops
 * pushing its expiry back, so Redis drops its set, and its users leave presence, within the TTL.
 * Heartbeats run every third of the TTL, so one late heartbeat does not count as a death.
 *
 * The status decision needs "is this user online anywhere?" synchronously on every send, so each
 * instance also keeps a cache of the other instances' users: updated at once by their presence
 * frames, and rebuilt from Redis at every heartbeat (which also forgets dead instances and
 * repairs what a Redis restart lost).
 *
 * Each heartbeat also writes this instance's connection counts (`<prefix>:instance-stats:<instance>`,
 * JSON, expiring with the same TTL) for the admin view: one SET in the heartbeat's transaction.
 */
export class RedisPresence implements Presence {
  private readonly key: string
  private readonly instancesKey: string
  private readonly statsKey: string
  /** Users online on each other instance, as last heard. */
  private remote = new Map<string, Set<number>>()
  private timer: ReturnType<typeof setInterval> | null = null
  announce: ((frame: PresenceFrame) => void) | null = null
  private beating: Promise<void> | null = null

  constructor(
    private readonly redis: Redis,
    private readonly options: { prefix: string; instanceId: string; presenceTtlMs: number },
    private readonly local: ConnectedHere,
  ) {
    this.key = this.keyOf(options.instanceId)
    this.instancesKey = `${options.prefix}:instances`
    this.statsKey = this.statsKeyOf(options.instanceId)
    // After a Redis restart, put this instance's users back at once rather than at the next beat.
    redis.on('ready', () => void this.heartbeat())
  }

  private keyOf(instanceId: string): string {
    return `${this.options.prefix}:presence:${instanceId}`
  }

  private statsKeyOf(instanceId: string): string {
    return `${this.options.prefix}:instance-stats:${instanceId}`
  }

  isOnline(userId: number): boolean {
    if (this.local.isOnline(userId)) return true
    for (const users of this.remote.values()) if (users.has(userId)) return true
    return false
  }

  /** From Redis: the union of every live instance's set. Falls back to the cache if Redis is down. */
  async onlineUserIds(): Promise<number[]> {
    const ids = new Set(this.local.onlineUserIds())
    try {
      const instances = await this.redis.zrange(this.instancesKey, '0', '-1')
      const others = instances.filter((id) => id !== this.options.instanceId).map((id) => this.keyOf(id))
      if (others.length) for (const id of await this.redis.sunion(...others)) ids.add(Number(id))
    } catch {
      for (const users of this.remote.values()) for (const id of users) ids.add(id)
    }
    return [...ids].sort((a, b) => a - b)
  }

  observe(frame: PresenceFrame, origin?: string): boolean {
    const userId = frame.user_id
    if (origin === undefined) {
      // This instance's first or last socket of the user: record it, and announce it only if no
      // other instance has the user.
      const write = frame.online
        ? this.redis.multi().sadd(this.key, String(userId)).pexpire(this.key, this.options.presenceTtlMs).exec()
        : this.redis.srem(this.key, String(userId))
      write.catch(() => {}) // Redis down: the next heartbeat after it returns writes the whole set.
      return !this.onOtherInstance(userId)
    }
    const wasOnline = this.isOnline(userId)
    let users = this.remote.get(origin)
    if (!users) this.remote.set(origin, (users = new Set()))
    if (frame.online) users.add(userId)
    else users.delete(userId)
    return this.isOnline(userId) !== wasOnline
  }

  private onOtherInstance(userId: number): boolean {
    for (const users of this.remote.values()) if (users.has(userId)) return true
    return false
  }

  async start(): Promise<void> {
    await this.heartbeat()
    this.timer = setInterval(() => void this.heartbeat(), Math.max(100, Math.floor(this.options.presenceTtlMs / 3)))
  }

  /** Refreshes this instance's entry and rebuilds the cache of the others. Never throws. */
  heartbeat(): Promise<void> {
    this.beating ??= this.beat()
      .catch(() => {})
      .finally(() => (this.beating = null))
    return this.beating
  }

  private async beat(): Promise<void> {
    if (this.redis.status !== 'ready') return
    const { presenceTtlMs, instanceId } = this.options
    const now = Date.now()
    const users = this.local.onlineUserIds()
    const tx = this.redis.multi().zadd(this.instancesKey, now, instanceId)
    // Rewriting the set (not only its expiry) repairs a Redis restart and any write that failed.
    tx.del(this.key)
    if (users.length) tx.sadd(this.key, ...users.map(String)).pexpire(this.key, presenceTtlMs)
    tx.set(this.statsKey, JSON.stringify(this.localStats(users.length, now)), 'PX', presenceTtlMs)
    // Instances silent for far longer than the TTL are gone: keep the list short.
    tx.zremrangebyscore(this.instancesKey, '-inf', now - 20 * presenceTtlMs)
    await tx.exec()
    const instances = (await this.redis.zrange(this.instancesKey, '0', '-1')).filter((id) => id !== instanceId)
    const pipeline = this.redis.pipeline()
    for (const id of instances) pipeline.smembers(this.keyOf(id))
    const results = instances.length ? await pipeline.exec() : []
    const remote = new Map<string, Set<number>>()
    instances.forEach((id, i) => {
      const [error, members] = results![i]
      if (!error && (members as string[]).length) remote.set(id, new Set((members as string[]).map(Number)))
    })
    // Users whose state changed without a presence frame (their instance died, or a frame was
    // lost in a Redis outage): tell this instance's presence subscribers now.
    const before = new Set<number>()
    for (const users of this.remote.values()) for (const id of users) if (!this.local.isOnline(id)) before.add(id)
    this.remote = remote
    const after = new Set<number>()
    for (const users of remote.values()) for (const id of users) if (!this.local.isOnline(id)) after.add(id)
    const timestamp = new Date().toISOString()
    for (const id of before) if (!after.has(id)) this.announce?.({ type: 'presence', user_id: id, online: false, timestamp })
    for (const id of after) if (!before.has(id)) this.announce?.({ type: 'presence', user_id: id, online: true, timestamp })
  }

  private localStats(users: number, at: number): Omit<InstanceStats, 'instanceId'> {
    const byFormat: Record<string, number> = {}
    let connections = 0
    for (const ws of this.local.all()) {
      byFormat[ws.data.format] = (byFormat[ws.data.format] ?? 0) + 1
      connections++
    }
    return { connections, users, byFormat, at }
  }

  /** Every instance whose heartbeat is younger than the TTL, as that heartbeat counted it. */
  async instanceStats(): Promise<InstanceStats[]> {
    const instances = await this.redis.zrange(this.instancesKey, '0', '-1')
    if (!instances.length) return []
    const values = await this.redis.mget(...instances.map((id) => this.statsKeyOf(id)))
    return instances.flatMap((instanceId, i) => (values[i] ? [{ ...(JSON.parse(values[i]!) as Omit<InstanceStats, 'instanceId'>), instanceId }] : []))
  }

  async stop(options: { goodbye?: boolean } = {}): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.beating
    if (options.goodbye === false || this.redis.status !== 'ready') return
    await this.redis.multi().del(this.key, this.statsKey).zrem(this.instancesKey, this.options.instanceId).exec().catch(() => {})
  }
}
