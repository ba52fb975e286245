// A fault the server meets (storage down, Redis unreachable, a checkpoint thread lost, a callback
// that throws) is reported through the logger it was given: a pino line with the error in
// production, nothing in a test that passes a silent one. None is printed to the console, so a
// passing test run that simulates faults stays quiet.
import { Database } from 'bun:sqlite'
import { afterEach, beforeEach, expect, spyOn, test, type Mock } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../src/app'
import { LocalBroker } from '../src/broker/broker'
import { RedisBroker } from '../src/broker/redis'
import { defaultConfig } from '../src/config'
import { startCheckpointer } from '../src/db/checkpointer'
import { seedDemo } from '../src/db/seed'
import { openSqliteStore } from '../src/db/sqlite-store'
import { directConv, type NewMessage } from '../src/db/store'
import { MessageWriter } from '../src/messages/writer'
import { createLogger } from '../src/observability/logger'

/** A logger that keeps its lines, parsed. */
function capturingLogger() {
  const lines: Record<string, any>[] = []
  return { logger: createLogger('debug', { write: (line: string) => void lines.push(JSON.parse(line)) }), lines }
}

let consoleSpies: Mock<(...args: unknown[]) => void>[] = []
beforeEach(() => {
  // Silenced as well as watched: before the fix these are what printed the stack traces.
  consoleSpies = (['error', 'warn', 'log', 'info'] as const).map((name) => spyOn(console, name).mockImplementation(() => {}))
})
afterEach(() => {
  for (const spy of consoleSpies) spy.mockRestore()
})
const printed = () => consoleSpies.flatMap((spy) => spy.mock.calls.map((args) => args.map(String).join(' ')))

const message = (clientId: string | null = null): NewMessage => ({
  conv: directConv(1, 2), senderId: 1, recipientId: 2, groupId: null, body: 'hi', messageType: 'text', clientId, status: 'sent', createdAt: Date.now(),
})

test('a message the database cannot store: 503 unavailable, one log line with the error, nothing on the console', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-faults-'))
  const { logger, lines } = capturingLogger()
  const store = openSqliteStore(join(dir, 'f.db'), { idempotencyWindowMs: 60_000, idempotencyMaxKeys: 1000, logger })
  await seedDemo(store)
  store.insertMessages = async () => {
    throw new Error('disk full (simulated)')
  }
  const switchboard = createApp({ store, broker: new LocalBroker(), config: defaultConfig(), logger })
  await switchboard.start()
  try {
    const res = await switchboard.app.handle(
      new Request('http://localhost/messages/', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sender_id: 1, recipient_id: 2, message: 'hello', client_id: 'f1' }),
      }),
    )
    expect(res.status).toBe(503)
    expect((await res.json()).error.code).toBe('unavailable')
    const logged = lines.filter((l) => l.msg === 'storing messages failed')
    expect(logged).toHaveLength(1)
    expect(logged[0]).toMatchObject({ level: 50, err: { message: 'disk full (simulated)' } })
    expect(printed()).toEqual([])
  } finally {
    await switchboard.stop()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a post-commit callback that throws is logged by the writer; the others still hear back', async () => {
  const { logger, lines } = capturingLogger()
  const store = openSqliteStore(':memory:', { idempotencyWindowMs: 60_000, idempotencyMaxKeys: 1000, logger })
  await seedDemo(store)
  const writer = new MessageWriter(store, undefined, undefined, 0, logger)
  const heard: number[] = []
  writer.submit(message(), () => {
    throw new Error('listener bug (simulated)')
  })
  writer.submit(message(), (_error, result) => heard.push(result!.message.id))
  await writer.drain()
  expect(heard).toEqual([2])
  expect(lines.filter((l) => l.msg === 'message callback failed')).toEqual([expect.objectContaining({ level: 50, err: expect.objectContaining({ message: 'listener bug (simulated)' }) })])
  expect(printed()).toEqual([])
  await store.close()
})

test('more resends to remember than IDEMPOTENCY_MAX_KEYS: the warning goes to the store’s logger', async () => {
  const { logger, lines } = capturingLogger()
  const store = openSqliteStore(':memory:', { idempotencyWindowMs: 60_000, idempotencyMaxKeys: 10, logger })
  await seedDemo(store)
  await store.insertMessages(Array.from({ length: 30 }, (_, i) => message(`k${i}`)))
  expect(lines.filter((l) => l.level === 40 && String(l.msg).includes('IDEMPOTENCY_MAX_KEYS (10) reached'))).toHaveLength(1)
  expect(printed()).toEqual([])
  await store.close()
})

test('a checkpoint thread that fails is logged, and checkpoints fall back to the main connection', async () => {
  const { logger, lines } = capturingLogger()
  const client = new Database(':memory:')
  // The thread cannot open a database in a folder that does not exist.
  const checkpointer = startCheckpointer(client, join(tmpdir(), 'no-such-folder-' + crypto.randomUUID(), 'x.db'), logger)
  const deadline = Date.now() + 5000
  while (!lines.length && Date.now() < deadline) await Bun.sleep(20)
  expect(lines[0]).toMatchObject({ level: 50, msg: 'the SQLite checkpoint thread failed; checkpoints run on the main thread again' })
  expect(client.query('PRAGMA wal_autocheckpoint').get()).toEqual({ wal_autocheckpoint: 10000 })
  expect(printed()).toEqual([])
  await checkpointer.stop()
  client.close()
})

test('Redis unreachable: one "retrying" line per connection through the broker’s logger', async () => {
  // A port nothing listens on: bound, then released.
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = probe.port
  probe.stop(true)
  const { logger, lines } = capturingLogger()
  const broker = new RedisBroker({ url: `redis://127.0.0.1:${port}`, prefix: 'sbtest:faults', instanceId: 'f', presenceTtlMs: 3000, logger })
  await expect(broker.start(() => {})).rejects.toThrow('cannot be reached')
  expect(lines.map((l) => l.msg).filter((m) => / \(retrying\)$/.test(m)).sort()).toEqual([
    expect.stringMatching(/^redis commands: .*ECONNREFUSED/),
    expect.stringMatching(/^redis subscriber: .*ECONNREFUSED/),
  ])
  expect(printed()).toEqual([])
})
