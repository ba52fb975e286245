import { describe, expect, test } from 'bun:test'
import { generateWebhookSecret } from '../../src/webhooks/signing'
import { postgresUnavailable, REDIS_URL, redisUnavailable } from '../helpers/services'
import { startCluster } from '../cluster/cluster-helpers'
import { startReceiver, until } from './receiver'

const skipReason = (await postgresUnavailable()) ?? (await redisUnavailable())
const clusterTest = skipReason ? test.skip : test

describe(`webhooks in cluster mode${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  clusterTest('two instances sharing PostgreSQL deliver each event exactly once to a healthy receiver', async () => {
    const secret = generateWebhookSecret()
    using receiver = startReceiver(secret)
    const cluster = await startCluster(2, { redisUrl: REDIS_URL, config: { webhookUrl: receiver.url, webhookSecret: secret, webhookRetryBaseMs: 20, webhookAllowPrivate: true, rateLimit: false } })
    try {
      const ids: number[] = []
      // Sent through both instances at once: both dispatchers race for every delivery.
      await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const instance = cluster.instances[i % 2]
          const r = await fetch(`${instance.url}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sender_id: 1 + (i % 3), recipient_id: 1 + ((i + 1) % 3), message: `m${i}` }) })
          ids.push(((await r.json()) as { id: number }).id)
        }),
      )
      await until(() => receiver.received.length >= 40, 15_000, '40 deliveries')
      await Bun.sleep(500)
      expect(receiver.badSignatures).toEqual([])
      expect(receiver.attempts).toHaveLength(40)
      expect(receiver.received.map((r) => r.body.data.id).sort((a, b) => a - b)).toEqual(ids.sort((a, b) => a - b))
      // Within each conversation, by seq.
      const byConv = new Map<string, number[]>()
      for (const r of receiver.received) {
        const d = r.body.data
        const conv = [d.sender_id, d.recipient_id].sort().join(':')
        byConv.set(conv, [...(byConv.get(conv) ?? []), d.seq])
      }
      for (const seqs of byConv.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    } finally {
      await cluster[Symbol.asyncDispose]()
    }
  }, 40_000)
})
