import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** A histogram as counted so far: `counts[i]` observations at most `bounds[i]`, the last one above every bound. */
export interface HistogramReading {
  bounds: readonly number[]
  counts: number[]
  sum: number
}

/**
 * The Prometheus metrics of one app (its own registry, so several apps in one process — the tests —
 * do not collide). Served as text at GET /metrics.
 */
export function createMetrics(sources: { connections: () => number }) {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'switchboard_' })
  const registers = [registry]

  /**
   * A counter with one label, counted in a plain Map and handed to prom-client only when scraped:
   * prom-client's `inc` with labels hashes the labels on each call, too slow for counters touched
   * several times per message (docs/BENCHMARKS.md).
   */
  function tally(name: string, help: string, label: string) {
    const counts = new Map<string, number>()
    new Counter({
      name,
      help,
      labelNames: [label],
      registers,
      collect() {
        this.reset()
        for (const [value, n] of counts) this.inc({ [label]: value }, n)
      },
    })
    return {
      inc(value: string, n = 1): void {
        counts.set(value, (counts.get(value) ?? 0) + n)
      },
      /** The count for one label value so far (the admin view reads it in place). */
      get(value: string): number {
        return counts.get(value) ?? 0
      },
    }
  }

  /**
   * A histogram without labels, counted in a typed array and formatted only when scraped:
   * prom-client's `observe` hashes the empty label set and searches the buckets on each call, and
   * the delivery latency is observed once per message (docs/BENCHMARKS.md, fourth pass). The registry
   * only calls `get` and `reset` of what it holds, so a plain object serves.
   */
  function histogram(name: string, help: string, buckets: number[]) {
    const counts = new Float64Array(buckets.length + 1)
    let sum = 0
    const metric = {
      name,
      help,
      type: 'histogram',
      aggregator: 'sum',
      async get() {
        const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = []
        let cumulative = 0
        for (let i = 0; i < buckets.length; i++) values.push({ metricName: `${name}_bucket`, labels: { le: buckets[i] }, value: (cumulative += counts[i]) })
        const count = cumulative + counts[buckets.length]
        values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: count })
        values.push({ metricName: `${name}_sum`, labels: {}, value: sum }, { metricName: `${name}_count`, labels: {}, value: count })
        return { name, help, type: 'histogram', values, aggregator: 'sum' }
      },
      reset() {
        counts.fill(0)
        sum = 0
      },
    }
    registry.registerMetric(metric as unknown as Histogram)
    return {
      observe(value: number): void {
        let i = 0
        while (i < buckets.length && value > buckets[i]) i++
        counts[i]++
        sum += value
      },
      /** The bucket bounds, a copy of the counts per bucket (not cumulative; the last is above every bound) and the sum, for the admin view. */
      read(): HistogramReading {
        return { bounds: buckets, counts: Array.from(counts), sum }
      },
    }
  }

  return {
    registry,
    connections: new Gauge({
      name: 'switchboard_connections',
      help: 'Live WebSocket connections on this instance',
      registers,
      collect() {
        this.set(sources.connections())
      },
    }),
    connectionsOpened: new Counter({ name: 'switchboard_connections_opened_total', help: 'WebSocket connections opened', registers }),
    connectionsClosed: new Counter({ name: 'switchboard_connections_closed_total', help: 'WebSocket connections closed, by close code', labelNames: ['code'], registers }),
    framesIn: tally('switchboard_frames_in_total', 'Client frames received, by type (invalid: could not be decoded or checked)', 'type'),
    framesOut: tally('switchboard_frames_out_total', 'Frames handed to local sockets, by type (one per receiving socket)', 'type'),
    deliveryLatency: histogram(
      'switchboard_message_delivery_seconds',
      'From receiving a chat message frame to publishing it to its recipients (includes the group commit)',
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    ),
    batchSize: histogram('switchboard_commit_batch_size', 'Messages stored per group-commit transaction', [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000]),
    commitSeconds: histogram(
      'switchboard_commit_seconds',
      'Time to store one batch',
      [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    ),
    errors: new Counter({ name: 'switchboard_errors_total', help: 'Errors answered, by code (WebSocket error frames and REST error bodies)', labelNames: ['code', 'transport'], registers }),
    rateLimited: new Counter({ name: 'switchboard_rate_limited_total', help: 'Requests or frames refused or delayed by a rate limit, by kind', labelNames: ['kind'], registers }),
    slowConsumerCloses: new Counter({ name: 'switchboard_slow_consumer_closes_total', help: 'Connections closed because they stopped reading (close code 4002)', registers }),
    httpRequests: new Counter({ name: 'switchboard_http_requests_total', help: 'REST requests, by method and status', labelNames: ['method', 'status'], registers }),
  }
}

export type Metrics = ReturnType<typeof createMetrics>
