import type { InstanceStats } from '../broker/broker'
import { notFound } from '../http/errors'
import type { RecentRefusals } from '../limits/refusals'
import type { Logger } from '../observability/logger'
import type { HistogramReading, Metrics } from '../observability/metrics'
import { CloseCode } from '../protocol/close-codes'
import type { Connections, Disconnected, HistogramView, InstanceConnections, Overview, RateLimited, SlowConsumer, Traffic, UserConnections } from './model'

/** What the admin view reads of a live connection (a Bun ServerWebSocket of the gateway fits). */
export interface AdminSocketView {
  readonly data: { readonly userId: number; readonly format: 'json' | 'msgpack'; readonly guard?: { readonly id: number } }
  getBufferedAmount(): number
}

export interface AdminSocket extends AdminSocketView {
  close(code?: number, reason?: string): void
}

/**
 * Everything the admin view reads, handed in by createApp: the only seam between it and the rest
 * of the server. Accessors, read when a snapshot is asked for; the admin view writes nothing.
 */
export interface AdminSources {
  /** This instance's live connections. */
  sockets(): Iterable<AdminSocket>
  /** One user's live connections on this instance. */
  socketsOf(userId: number): Iterable<AdminSocket>
  /** The counters and histograms the server keeps, read in place (never scraped from text). */
  metrics: Pick<Metrics, 'batchSize' | 'framesOut' | 'deliveryLatency' | 'commitSeconds'>
  refusals: Pick<RecentRefusals, 'recent' | 'windowMs'>
  userExists(userId: number): Promise<boolean>
  /** Cluster mode only: every instance's counts, from the presence heartbeat. */
  instanceStats?: () => Promise<InstanceStats[]>
  /** Cluster mode only: asks the other instances to close a user's connections. */
  tellOthersToDisconnect?: (userId: number) => void
}

export const DISCONNECT_REASON = 'disconnected by an administrator'
const DEFAULT_LIMIT = 20
const SAMPLE_EVERY_MS = 1000

/** The q-quantile of a bucketed histogram, linear within its bucket (Prometheus' histogram_quantile); null when empty. */
export function quantile(bounds: readonly number[], counts: ArrayLike<number>, q: number): number | null {
  let total = 0
  for (let i = 0; i < counts.length; i++) total += counts[i]
  if (total === 0) return null
  const rank = q * total
  let below = 0
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] > 0 && below + counts[i] >= rank) {
      // Above the last bound nothing more is known than that bound.
      if (i === bounds.length) return bounds[bounds.length - 1]
      const lower = i === 0 ? 0 : bounds[i - 1]
      return lower + ((bounds[i] - lower) * (rank - below)) / counts[i]
    }
    below += counts[i]
  }
  return bounds[bounds.length - 1]
}

const zeroFormats = () => ({ json: 0, msgpack: 0 })

/** Totals by format and the `limit` users with the most connections (then by id). */
export function summarizeConnections(sockets: Iterable<AdminSocketView>, limit: number): Omit<Connections, 'instances' | 'cluster_reachable'> {
  const byFormat = zeroFormats()
  const users = new Map<number, UserConnections>()
  let total = 0
  for (const { data } of sockets) {
    total++
    byFormat[data.format]++
    let user = users.get(data.userId)
    if (!user) users.set(data.userId, (user = { user_id: data.userId, connections: 0, by_format: zeroFormats() }))
    user.connections++
    user.by_format[data.format]++
  }
  const top = [...users.values()].sort((a, b) => b.connections - a.connections || a.user_id - b.user_id).slice(0, limit)
  return { total, users_online: users.size, by_format: byFormat, users: top }
}

/** The `limit` sockets with the most bytes queued; a socket with none queued is not slow. */
export function slowestConsumers(sockets: Iterable<AdminSocketView>, limit: number): SlowConsumer[] {
  const slow: SlowConsumer[] = []
  for (const ws of sockets) {
    const queued = ws.getBufferedAmount()
    if (queued > 0) slow.push({ connection_id: ws.data.guard?.id ?? 0, user_id: ws.data.userId, format: ws.data.format, queued_bytes: queued })
  }
  return slow.sort((a, b) => b.queued_bytes - a.queued_bytes).slice(0, limit)
}

/** The cumulative figures the traffic view is computed from. */
export interface TrafficReading {
  /** Messages stored so far. */
  stored: number
  /** Message frames handed to sockets so far. */
  delivered: number
  /** Seconds. */
  delivery: HistogramReading
  commit: HistogramReading
}

/** What the server's metrics say now, for the sampler. */
export function readTraffic(metrics: AdminSources['metrics']): TrafficReading {
  return {
    // Each commit observes its batch size: their sum is every message stored.
    stored: metrics.batchSize.read().sum,
    delivered: metrics.framesOut.get('message'),
    delivery: metrics.deliveryLatency.read(),
    commit: metrics.commitSeconds.read(),
  }
}

const toMs = (seconds: number) => Number((seconds * 1000).toPrecision(12))

/** A histogram's observations between two readings, in milliseconds. */
function histogramBetween(base: HistogramReading, now: HistogramReading): HistogramView {
  // max(0): a registry reset between the readings must not show negative counts.
  const counts = now.counts.map((n, i) => Math.max(0, n - (base.counts[i] ?? 0)))
  const count = counts.reduce((a, b) => a + b, 0)
  const boundsMs = now.bounds.map(toMs)
  const at = (q: number) => quantile(boundsMs, counts, q)
  return {
    count,
    total_count: now.counts.reduce((a, b) => a + b, 0),
    mean_ms: count ? toMs(Math.max(0, now.sum - base.sum) / count) : null,
    p50_ms: at(0.5),
    p90_ms: at(0.9),
    p99_ms: at(0.99),
    buckets: counts.map((n, i) => ({ le_ms: i < boundsMs.length ? boundsMs[i] : null, count: n })),
  }
}

/**
 * Rates and recent histograms from cumulative counters: a reading every second (by `start`'s
 * timer), kept for the histogram window. A rate is the change from the oldest reading of the last
 * `rateWindowMs` to now; a histogram, the change over the last `histogramWindowMs`.
 */
export class TrafficSampler {
  private readonly samples: { at: number; reading: TrafficReading }[] = []
  private readonly now: () => number
  private readonly rateWindowMs: number
  private readonly histogramWindowMs: number
  private timer: ReturnType<typeof setInterval> | null = null

  constructor(
    private readonly read: () => TrafficReading,
    options: { now?: () => number; rateWindowMs?: number; histogramWindowMs?: number } = {},
  ) {
    this.now = options.now ?? (() => performance.now())
    this.rateWindowMs = options.rateWindowMs ?? 5000
    this.histogramWindowMs = options.histogramWindowMs ?? 60_000
    this.sample()
  }

  /** Takes a reading now, and forgets those too old to serve any window. */
  sample(): void {
    const at = this.now()
    this.samples.push({ at, reading: this.read() })
    while (this.samples.length > 1 && this.samples[0].at < at - this.histogramWindowMs) this.samples.shift()
  }

  /** The oldest reading at most `windowMs` old (the latest if none is, e.g. while not sampling). */
  private baseFor(now: number, windowMs: number) {
    return this.samples.find((s) => s.at >= now - windowMs) ?? this.samples[this.samples.length - 1]
  }

  view(): Traffic {
    const now = this.now()
    const current = this.read()
    const rateBase = this.baseFor(now, this.rateWindowMs)
    const seconds = (now - rateBase.at) / 1000
    const perSecond = (delta: number) => (seconds > 0.001 ? Math.max(0, delta) / seconds : 0)
    const histogramBase = this.baseFor(now, this.histogramWindowMs).reading
    return {
      messages_per_second: perSecond(current.stored - rateBase.reading.stored),
      deliveries_per_second: perSecond(current.delivered - rateBase.reading.delivered),
      rate_window_seconds: this.rateWindowMs / 1000,
      histogram_window_seconds: this.histogramWindowMs / 1000,
      delivery: histogramBetween(histogramBase.delivery, current.delivery),
      commit: histogramBetween(histogramBase.commit, current.commit),
    }
  }

  start(): void {
    this.timer ??= setInterval(() => this.sample(), SAMPLE_EVERY_MS)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }
}

export interface AdminServiceDeps {
  sources: AdminSources
  instanceId: string
  cluster: boolean
  /** SLOW_CONSUMER_BYTES, shown beside the queues. */
  slowConsumerBytes: number
  logger: Logger
}

/** The admin view's numbers and its one action, from the sources createApp hands in. */
export function createAdminService(deps: AdminServiceDeps) {
  const { sources, logger } = deps
  const sampler = new TrafficSampler(() => readTraffic(sources.metrics))

  /** This instance's row, counted now. */
  function ownRow(summary: Omit<Connections, 'instances' | 'cluster_reachable'>): InstanceConnections {
    return { instance_id: deps.instanceId, self: true, connections: summary.total, users: summary.users_online, by_format: summary.by_format, updated_at: new Date().toISOString() }
  }

  async function connections(limit = DEFAULT_LIMIT): Promise<Connections> {
    const summary = summarizeConnections(sources.sockets(), limit)
    const own = ownRow(summary)
    if (!sources.instanceStats) return { ...summary, instances: [own], cluster_reachable: true }
    try {
      const others = (await sources.instanceStats())
        .filter((s) => s.instanceId !== deps.instanceId)
        .map((s): InstanceConnections => ({
          instance_id: s.instanceId,
          self: false,
          connections: s.connections,
          users: s.users,
          by_format: { ...zeroFormats(), ...s.byFormat },
          updated_at: new Date(s.at).toISOString(),
        }))
      const instances = [own, ...others].sort((a, b) => a.instance_id.localeCompare(b.instance_id))
      return { ...summary, instances, cluster_reachable: true }
    } catch (error) {
      logger.warn({ err: error }, 'admin: the other instances could not be read from Redis')
      return { ...summary, instances: [own], cluster_reachable: false }
    }
  }

  function rateLimited(limit = DEFAULT_LIMIT): RateLimited {
    return {
      window_seconds: sources.refusals.windowMs / 1000,
      users: sources.refusals.recent(limit).map((r) => ({
        user_id: r.userId,
        refusals: r.refusals,
        by_kind: r.byKind,
        first_at: new Date(r.firstAt).toISOString(),
        last_at: new Date(r.lastAt).toISOString(),
      })),
    }
  }

  function slowConsumers(limit = 10) {
    return { limit_bytes: deps.slowConsumerBytes, sockets: slowestConsumers(sources.sockets(), limit) }
  }

  /** Closes the user's connections on this instance with 4003; how many. */
  function closeHere(userId: number): number {
    // A copy: each close takes the socket out of the set being walked.
    const sockets = [...sources.socketsOf(userId)]
    for (const ws of sockets) ws.close(CloseCode.byAdministrator, DISCONNECT_REASON)
    return sockets.length
  }

  return {
    connections,
    traffic: () => sampler.view(),
    slowConsumers,
    rateLimited,

    async overview(): Promise<Overview> {
      return {
        instance_id: deps.instanceId,
        cluster: deps.cluster,
        at: new Date().toISOString(),
        connections: await connections(),
        traffic: sampler.view(),
        slow_consumers: slowConsumers(),
        rate_limited: rateLimited(),
      }
    },

    /** Closes a user's connections here and, in cluster mode, asks the other instances to. */
    async disconnect(userId: number): Promise<Disconnected> {
      if (!(await sources.userExists(userId))) throw notFound('unknown_user', `user ${userId} does not exist`)
      const closed = closeHere(userId)
      const told = sources.tellOthersToDisconnect !== undefined
      sources.tellOthersToDisconnect?.(userId)
      logger.info({ user: userId, closed, other_instances_told: told }, 'admin: disconnected a user')
      return { user_id: userId, closed, close_code: CloseCode.byAdministrator, other_instances_told: told }
    },

    /** Another instance's admin asked for it (a control message). */
    disconnectedElsewhere(userId: number): void {
      const closed = closeHere(userId)
      if (closed) logger.info({ user: userId, closed }, 'admin: disconnected a user, as another instance asked')
    },

    start: () => sampler.start(),
    stop: () => sampler.stop(),
  }
}

export type AdminService = ReturnType<typeof createAdminService>
