import { expect, test } from 'bun:test'
import { ConfigError, loadConfig } from '../src/config'

// AUTH=none: these cases are about storage and cluster settings, not key material.
const load = (env: Record<string, string>) => loadConfig({ AUTH: 'none', ...env })

test('DATABASE_URL takes a SQLite path, :memory: or a postgres:// URL; other URLs are refused', () => {
  expect(load({}).databaseUrl).toBe('data/switchboard.db')
  expect(load({ DATABASE_URL: ':memory:' }).databaseUrl).toBe(':memory:')
  expect(load({ DATABASE_URL: 'file:///tmp/x.db' }).databaseUrl).toBe('/tmp/x.db')
  for (const url of ['postgres://u:p@db:5432/chat', 'postgresql://db/chat'])
    expect(load({ DATABASE_URL: url }).databaseUrl).toBe(url)
  expect(() => load({ DATABASE_URL: 'mysql://db/chat' })).toThrow(ConfigError)
})

test('REDIS_URL turns on cluster mode; the cluster settings are validated', () => {
  const single = load({})
  expect(single.redisUrl).toBeNull()
  expect(single.presenceTtlMs).toBe(15_000)
  const cluster = load({ REDIS_URL: 'redis://cache:6379', REDIS_PREFIX: 'chat-eu', PRESENCE_TTL_SECONDS: '6', INSTANCE_ID: 'eu-1' })
  expect(cluster).toMatchObject({ redisUrl: 'redis://cache:6379', redisPrefix: 'chat-eu', presenceTtlMs: 6000, instanceId: 'eu-1' })
  expect(load({ REDIS_URL: 'rediss://cache:6380' }).redisUrl).toBe('rediss://cache:6380')
  // Two instances started without INSTANCE_ID must not share a presence key.
  expect(load({}).instanceId).not.toBe(load({}).instanceId)
  expect(() => load({ REDIS_URL: 'http://cache' })).toThrow(/REDIS_URL/)
  expect(() => load({ PRESENCE_TTL_SECONDS: '1' })).toThrow(/PRESENCE_TTL_SECONDS/)
  expect(() => load({ INSTANCE_ID: 'a b' })).toThrow(/INSTANCE_ID/)
  expect(() => load({ REDIS_PREFIX: 'x:y' })).toThrow(/REDIS_PREFIX/)
})
