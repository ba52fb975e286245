import { Type } from '@sinclair/typebox'
import { t, type Static } from 'elysia'
import { urlInteger } from '../http/validation'

// The admin API's wire shapes, declared once: they check the responses and document them in
// OpenAPI, and the service's return types are derived from them. Integers are TypeBox's strict
// `Type.Integer` in responses (see src/protocol/message.ts); `t.Integer` only where the URL is read.

// Examples for the API reference; a test checks each against its schema.
const exampleHistogram = { count: 120, total_count: 48210, mean_ms: 1.4, p50_ms: 1.1, p90_ms: 2.6, p99_ms: 4.8, buckets: [{ le_ms: 1, count: 52 }, { le_ms: 5, count: 67 }, { le_ms: null, count: 1 }] }
const exampleConnections = {
  total: 3,
  users_online: 2,
  by_format: { json: 2, msgpack: 1 },
  users: [{ user_id: 42, connections: 2, by_format: { json: 1, msgpack: 1 } }, { user_id: 7, connections: 1, by_format: { json: 1, msgpack: 0 } }],
  instances: [{ instance_id: 'a1b2c3', self: true, connections: 3, users: 2, by_format: { json: 2, msgpack: 1 }, updated_at: '2026-12-01T09:30:00.000Z' }],
  cluster_reachable: true,
}
const exampleTraffic = { messages_per_second: 12.5, deliveries_per_second: 31, rate_window_seconds: 10, histogram_window_seconds: 60, delivery: exampleHistogram, commit: exampleHistogram }
const exampleSlowConsumers = { limit_bytes: 4194304, sockets: [{ connection_id: 17, user_id: 42, format: 'json', queued_bytes: 65536 }] }
const exampleRateLimited = {
  window_seconds: 300,
  users: [{ user_id: 7, refusals: 14, by_kind: { message: 12, typing: 2 }, first_at: '2026-12-01T09:28:10.000Z', last_at: '2026-12-01T09:29:55.000Z' }],
}

const count = (description?: string) => Type.Integer({ minimum: 0, ...(description && { description }) })
const ms = (description: string) => t.Union([t.Number(), t.Null()], { description })

export const ByFormat = t.Object({ json: count(), msgpack: count() }, { description: 'Connections per format' })

export const UserConnections = t.Object({
  user_id: Type.Integer(),
  connections: count('Live connections of this user on this instance'),
  by_format: ByFormat,
})

export const InstanceConnections = t.Object({
  instance_id: t.String(),
  self: t.Boolean({ description: 'The instance that answered' }),
  connections: count(),
  users: count('Users with at least one connection there'),
  by_format: ByFormat,
  updated_at: t.String({ format: 'date-time', description: 'When these counts were taken: now for this instance, its last heartbeat for the others' }),
})

export const Connections = t.Object({
  total: count('Live connections on this instance'),
  users_online: count('Users with a connection on this instance'),
  by_format: ByFormat,
  users: t.Array(UserConnections, { description: 'Users with the most connections here, most first (then by id)' }),
  instances: t.Array(InstanceConnections, { description: 'Every instance of the cluster; only this one outside cluster mode' }),
  cluster_reachable: t.Boolean({ description: 'False when Redis could not be asked for the other instances: only this one is listed' }),
}, { examples: [exampleConnections] })

/** A histogram of durations over the last window, in milliseconds. */
const histogram = (description: string) =>
  t.Object(
    {
      count: count('Observations in the window'),
      total_count: count('Observations since the start'),
      mean_ms: ms('Mean in the window; null without observations'),
      p50_ms: ms('Estimated from the buckets, as Prometheus histogram_quantile does; null without observations'),
      p90_ms: ms('As p50_ms'),
      p99_ms: ms('As p50_ms'),
      buckets: t.Array(
        t.Object({
          le_ms: t.Union([t.Number(), t.Null()], { description: 'Upper bound; null for the bucket above the last bound' }),
          count: count('Observations in this bucket in the window (not cumulative)'),
        }),
      ),
    },
    { description },
  )

export const Traffic = t.Object({
  messages_per_second: t.Number({ description: 'Chat messages stored a second (REST and WebSocket, direct and group)' }),
  deliveries_per_second: t.Number({ description: 'Message frames handed to local sockets a second (one per receiving socket)' }),
  rate_window_seconds: t.Number({ description: 'The rates are averages over this last stretch' }),
  histogram_window_seconds: t.Number({ description: 'The histograms count this last stretch' }),
  delivery: histogram('Chat frame received → committed → published to its recipients'),
  commit: histogram('Time to store one group-commit batch'),
}, { examples: [exampleTraffic] })

export const SlowConsumer = t.Object({
  connection_id: Type.Integer(),
  user_id: Type.Integer(),
  format: t.String(),
  queued_bytes: count('Bytes Bun holds for this socket that it has not read'),
})

export const SlowConsumers = t.Object({
  limit_bytes: count('SLOW_CONSUMER_BYTES: beyond it a socket is closed with 4002'),
  sockets: t.Array(SlowConsumer, { description: 'Sockets with bytes queued, most first' }),
}, { examples: [exampleSlowConsumers] })

export const RateLimitedUser = t.Object({
  user_id: Type.Integer(),
  refusals: count('Refusals since the user was last quiet for the window'),
  by_kind: t.Record(t.String(), count(), { description: 'message, typing (coalesced), frame, rest_user, rest_conversations' }),
  first_at: t.String({ format: 'date-time' }),
  last_at: t.String({ format: 'date-time' }),
})

export const RateLimited = t.Object({
  window_seconds: t.Number({ description: 'A user quiet this long is forgotten' }),
  users: t.Array(RateLimitedUser, { description: 'Most refused first' }),
}, { examples: [exampleRateLimited] })

export const Overview = t.Object({
  instance_id: t.String(),
  cluster: t.Boolean({ description: 'Cluster mode (REDIS_URL)' }),
  at: t.String({ format: 'date-time' }),
  connections: Connections,
  traffic: Traffic,
  slow_consumers: SlowConsumers,
  rate_limited: RateLimited,
}, { examples: [{ instance_id: 'a1b2c3', cluster: false, at: '2026-12-01T09:30:00.000Z', connections: exampleConnections, traffic: exampleTraffic, slow_consumers: exampleSlowConsumers, rate_limited: exampleRateLimited }] })

export const Disconnected = t.Object({
  user_id: Type.Integer(),
  closed: count('Connections of the user closed on this instance'),
  close_code: Type.Integer({ description: 'The close code they got: 4003' }),
  other_instances_told: t.Boolean({ description: 'Cluster mode: the other instances were asked to close theirs' }),
}, { examples: [{ user_id: 42, closed: 2, close_code: 4003, other_instances_told: false }] })

export const LimitQuery = t.Object({ limit: t.Optional(urlInteger({ minimum: 1, maximum: 1000, description: 'At most this many rows (default 20)' })) })
export const UserParams = t.Object({ id: urlInteger({ minimum: 1, description: 'The user whose devices to disconnect' }) })

export type Connections = Static<typeof Connections>
export type UserConnections = Static<typeof UserConnections>
export type InstanceConnections = Static<typeof InstanceConnections>
export type HistogramView = Static<ReturnType<typeof histogram>>
export type Traffic = Static<typeof Traffic>
export type SlowConsumer = Static<typeof SlowConsumer>
export type SlowConsumers = Static<typeof SlowConsumers>
export type RateLimited = Static<typeof RateLimited>
export type Overview = Static<typeof Overview>
export type Disconnected = Static<typeof Disconnected>
