import { expect, test } from 'bun:test'
import type { ControlMessage, Publication } from '../../src/broker/broker'
import { LocalBroker } from '../../src/broker/broker'
import { RedisBroker } from '../../src/broker/redis'
import { LocalConnections } from '../../src/realtime/connections'
import { groupTarget, presenceTarget, userTarget } from '../../src/protocol/topics'
import { REDIS_URL, redisUnavailable } from '../helpers/services'

const skipReason = await redisUnavailable()
if (skipReason) console.warn(`RedisBroker tests skipped: ${skipReason}`)

const frame = (text: string) =>
  ({ type: 'typing', sender_id: 1, recipient_id: 2, is_typing: text === 'on', timestamp: new Date().toISOString() }) as const

/** Two brokers on one Redis under a prefix of their own, with what each received. */
async function pair() {
  const prefix = `sbtest:broker:${crypto.randomUUID().slice(0, 8)}`
  const make = async (instanceId: string) => {
    const broker = new RedisBroker({ url: REDIS_URL, prefix, instanceId, presenceTtlMs: 3000 })
    broker.createPresence(new LocalConnections())
    const received: Publication[] = []
    const control: ControlMessage[] = []
    await broker.start((p) => received.push(p), (m) => control.push(m))
    return { broker, received, control }
  }
  const a = await make('a')
  const b = await make('b')
  return {
    a,
    b,
    async [Symbol.asyncDispose]() {
      await a.broker.close()
      await b.broker.close()
    },
  }
}

/** A round trip through Redis on each connection: what was published before it has arrived. */
const settle = () => Bun.sleep(100)

test('LocalBroker: a single instance publishes to nobody and is always healthy', async () => {
  const broker = new LocalBroker()
  const received: Publication[] = []
  await broker.start((p) => received.push(p))
  broker.publish({ targets: [userTarget(1)], frame: frame('on') })
  await broker.watch(userTarget(1))
  expect(received).toEqual([])
  expect(broker.isHealthy()).toBe(true)
})

test.skipIf(!!skipReason)(`RedisBroker: only watching instances receive, each target once, never the publisher${skipReason ? ` (skipped: ${skipReason})` : ''}`, async () => {
  await using cluster = await pair()
  const { a, b } = cluster
  await b.broker.watch(userTarget(2))
  await b.broker.watch(userTarget(1))
  // One publication for two targets B both watches: B delivers each target once.
  a.broker.publish({ targets: [userTarget(2), userTarget(1)], frame: frame('on') })
  // A target nobody watches costs nothing and arrives nowhere.
  a.broker.publish({ targets: [groupTarget(7)], frame: frame('off') })
  await settle()
  expect(b.received.map((p) => p.targets)).toEqual([[userTarget(2)], [userTarget(1)]])
  expect(b.received[0]).toMatchObject({ origin: 'a', frame: { type: 'typing', is_typing: true } })
  expect(a.received).toEqual([])

  // Counted: the channel stays until the last watcher leaves.
  await b.broker.watch(userTarget(2))
  b.broker.unwatch(userTarget(2))
  b.broker.unwatch(userTarget(1))
  a.broker.publish({ targets: [userTarget(2), userTarget(1)], frame: frame('off') })
  await settle()
  expect(b.received.slice(2).map((p) => p.targets)).toEqual([[userTarget(2)]])
  b.broker.unwatch(userTarget(2))
  expect(b.broker.watchedChannels).toBe(0)
})

test.skipIf(!!skipReason)(`RedisBroker: presence and control messages reach every other instance${skipReason ? ` (skipped: ${skipReason})` : ''}`, async () => {
  await using cluster = await pair()
  const { a, b } = cluster
  a.broker.publish({ targets: [presenceTarget], frame: { type: 'presence', user_id: 5, online: true, timestamp: new Date().toISOString() } })
  a.broker.publishControl({ kind: 'membership', groupId: 3, userId: 5, isMember: true })
  await settle()
  expect(b.received).toMatchObject([{ targets: [presenceTarget], frame: { type: 'presence', user_id: 5 } }])
  expect(b.control).toEqual([{ kind: 'membership', groupId: 3, userId: 5, isMember: true }])
  expect(a.control).toEqual([])
  expect(a.broker.isHealthy() && b.broker.isHealthy()).toBe(true)
})
