// The admin service's plain functions, without a server: percentiles from bucket counts, the
// connection summary, the slowest consumers, the traffic window and the refusal recorder.
import { describe, expect, test } from 'bun:test'
import { quantile, slowestConsumers, summarizeConnections, TrafficSampler, type TrafficReading } from '../../src/admin/service'
import { RecentRefusals } from '../../src/limits/refusals'

type Format = 'json' | 'msgpack'
const socket = (id: number, userId: number, format: Format, queued = 0) => ({ data: { userId, format, guard: { id } }, getBufferedAmount: () => queued })

describe('quantile (as Prometheus histogram_quantile: linear within a bucket)', () => {
  const bounds = [1, 2, 5]
  test.each([
    ['all in one bucket, the median halfway through it', [0, 10, 0, 0], 0.5, 1.5],
    ['the first bucket starts at 0', [10, 0, 0, 0], 0.5, 0.5],
    ['p90 in the third bucket', [5, 4, 1, 0], 0.9, 2],
    ['p99 in the third bucket', [5, 4, 1, 0], 0.99, 2 + 3 * 0.9],
    ['beyond the last bound: the last bound (nothing better is known)', [0, 0, 0, 7], 0.5, 5],
  ])('%s', (_, counts, q, expected) => {
    expect(quantile(bounds, counts, q)).toBeCloseTo(expected, 9)
  })
  test('no observations: null', () => expect(quantile(bounds, [0, 0, 0, 0], 0.5)).toBeNull())
})

test('summarizeConnections: totals by format, users by how many connections they hold, then by id', () => {
  const sockets = [socket(1, 7, 'json'), socket(2, 3, 'msgpack'), socket(3, 7, 'msgpack'), socket(4, 5, 'json'), socket(5, 3, 'json')]
  expect(summarizeConnections(sockets, 10)).toEqual({
    total: 5,
    users_online: 3,
    by_format: { json: 3, msgpack: 2 },
    users: [
      { user_id: 3, connections: 2, by_format: { json: 1, msgpack: 1 } },
      { user_id: 7, connections: 2, by_format: { json: 1, msgpack: 1 } },
      { user_id: 5, connections: 1, by_format: { json: 1, msgpack: 0 } },
    ],
  })
  expect(summarizeConnections(sockets, 1).users.map((u) => u.user_id)).toEqual([3])
  expect(summarizeConnections([], 10)).toEqual({ total: 0, users_online: 0, by_format: { json: 0, msgpack: 0 }, users: [] })
})

test('slowestConsumers: sockets with bytes queued, most first; none queued, none listed', () => {
  const sockets = [socket(1, 1, 'json', 0), socket(2, 2, 'json', 500), socket(3, 3, 'msgpack', 9000), socket(4, 2, 'json', 10)]
  expect(slowestConsumers(sockets, 2)).toEqual([
    { connection_id: 3, user_id: 3, format: 'msgpack', queued_bytes: 9000 },
    { connection_id: 2, user_id: 2, format: 'json', queued_bytes: 500 },
  ])
  expect(slowestConsumers([socket(1, 1, 'json', 0)], 10)).toEqual([])
})

describe('TrafficSampler', () => {
  const bounds = [0.001, 0.01]
  function fixture() {
    let now = 0
    const reading: TrafficReading = {
      stored: 0,
      delivered: 0,
      delivery: { bounds, counts: [0, 0, 0], sum: 0 },
      commit: { bounds, counts: [0, 0, 0], sum: 0 },
    }
    const sampler = new TrafficSampler(() => structuredClone(reading), { now: () => now, rateWindowMs: 5000, histogramWindowMs: 60_000 })
    return { sampler, reading, at: (ms: number) => (now = ms) }
  }

  test('messages a second over the last seconds, not since the start', () => {
    const { sampler, reading, at } = fixture()
    expect(sampler.view().messages_per_second).toBe(0)
    for (let s = 1; s <= 20; s++) {
      at(s * 1000)
      reading.stored += s <= 10 ? 100 : 10
      reading.delivered += s <= 10 ? 200 : 20
      sampler.sample()
    }
    at(20_500)
    const view = sampler.view()
    // From the sample at 16 s (the oldest of the last 5 s) to now: 40 messages in 4.5 s.
    expect(view.messages_per_second).toBeCloseTo(40 / 4.5, 6)
    expect(view.deliveries_per_second).toBeCloseTo(80 / 4.5, 6)
    expect(view.rate_window_seconds).toBe(5)
  })

  test('histograms cover the last minute: older observations drop out', () => {
    const { sampler, reading, at } = fixture()
    reading.delivery = { bounds, counts: [100, 0, 0], sum: 0.05 }
    for (let s = 1; s <= 64; s++) (at(s * 1000), sampler.sample())
    reading.delivery = { bounds, counts: [100, 4, 0], sum: 0.05 + 4 * 0.005 }
    for (let s = 65; s <= 70; s++) (at(s * 1000), sampler.sample())
    const view = sampler.view()
    expect(view.histogram_window_seconds).toBe(60)
    expect(view.delivery.count).toBe(4)
    expect(view.delivery.buckets).toEqual([
      { le_ms: 1, count: 0 },
      { le_ms: 10, count: 4 },
      { le_ms: null, count: 0 },
    ])
    expect(view.delivery.mean_ms).toBeCloseTo(5, 9)
    expect(view.delivery.p50_ms).toBeCloseTo(5.5, 9)
    expect(view.delivery.total_count).toBe(104)
    expect(view.commit).toMatchObject({ count: 0, p50_ms: null, mean_ms: null })
  })
})

describe('RecentRefusals', () => {
  test('counts refusals per user and kind, most refused first', () => {
    const log = new RecentRefusals({ capacity: 10, windowMs: 60_000 })
    for (let i = 0; i < 3; i++) log.record(1, 'message', 1000 + i)
    log.record(2, 'rest_user', 2000)
    log.record(1, 'typing', 3000)
    expect(log.recent(10, 4000)).toEqual([
      { userId: 1, refusals: 4, byKind: { message: 3, typing: 1 }, firstAt: 1000, lastAt: 3000 },
      { userId: 2, refusals: 1, byKind: { rest_user: 1 }, firstAt: 2000, lastAt: 2000 },
    ])
    expect(log.recent(1, 4000).map((r) => r.userId)).toEqual([1])
  })

  test('a user quiet for the window is forgotten, and starts again from one', () => {
    const log = new RecentRefusals({ capacity: 10, windowMs: 1000 })
    log.record(1, 'message', 0)
    log.record(1, 'message', 500)
    expect(log.recent(10, 1400)).toHaveLength(1)
    expect(log.recent(10, 1600)).toEqual([])
    log.record(1, 'message', 1700)
    expect(log.recent(10, 1800)[0]).toMatchObject({ refusals: 1, firstAt: 1700 })
  })

  test('bounded: beyond its capacity the user refused longest ago goes', () => {
    const log = new RecentRefusals({ capacity: 3, windowMs: 60_000 })
    for (const [user, at] of [[1, 1], [2, 2], [3, 3], [1, 4], [4, 5]]) log.record(user, 'message', at)
    expect(log.size).toBe(3)
    expect(log.recent(10, 10).map((r) => r.userId).sort()).toEqual([1, 3, 4])
  })
})
