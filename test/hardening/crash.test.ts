// Crash safety of the real entry point: under steady load the server is killed with SIGKILL (no
// shutdown code runs), then restarted on the same database. Every message confirmed with
// `message_sent` must be stored exactly once, the database must pass `PRAGMA integrity_check`,
// a retry of an unconfirmed message with its client_id must not store it twice, and a client that
// reconnects with `since` must receive everything.
import { Database } from 'bun:sqlite'
import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { TestClient } from '../helpers/ws-client'
import { spawnServer, tempDir } from './fixtures'

const WINDOW = 20

/** A sender that keeps WINDOW messages in flight and remembers which were confirmed. */
function startSending(client: TestClient, prefix: string, target: (i: number) => object) {
  const confirmed = new Map<string, number>()
  const attempted: { clientId: string; frame: object }[] = []
  let running = true
  let i = 0
  const sendOne = () => {
    const clientId = `${prefix}${i}`
    const frame = { type: 'message', ...target(i), message: `${prefix} #${i}`, client_id: clientId }
    i++
    attempted.push({ clientId, frame })
    client.send(frame)
  }
  const loop = (async () => {
    for (let n = 0; n < WINDOW; n++) sendOne()
    while (running && !client.closed) {
      const sent = await Promise.race([client.next('message_sent', 5000).catch(() => null), client.waitClosed(10_000).then(() => null)])
      if (!sent) break
      confirmed.set(sent.client_id, sent.message_id)
      if (running) sendOne()
    }
  })()
  return {
    confirmed,
    attempted,
    stop: async () => {
      running = false
      await loop
    },
  }
}

test('kill -9 under load: confirmed messages stored exactly once, database intact, `since` catches up', async () => {
  using dir = tempDir()
  const dbPath = join(dir.dir, 'crash.db')
  const env = { AUTH: 'none', RATE_LIMIT: 'off', SEED_DEMO: '1', DATABASE_URL: dbPath, LOG_LEVEL: 'error' }
  const first = await spawnServer(env)
  const wsUrl = first.url.replace('http', 'ws')
  const bob = await TestClient.connect(wsUrl, '/ws/2')
  const alice = await TestClient.connect(wsUrl, '/ws/1')
  const carol = await TestClient.connect(wsUrl, '/ws/3')
  const a = startSending(alice, 'a', () => ({ recipient_id: 2 }))
  const c = startSending(carol, 'c', (i) => (i % 2 ? { group_id: 1 } : { recipient_id: 2 }))
  // Steady load for a moment, then SIGKILL mid-stream.
  await Bun.sleep(400)
  first.proc.kill('SIGKILL')
  expect(await first.exited).not.toBe(0)
  await Promise.all([alice.waitClosed(), carol.waitClosed(), bob.waitClosed()])
  await Promise.all([a.stop(), c.stop()])
  const confirmed = new Map([...a.confirmed, ...c.confirmed])
  const bobBefore = bob.frames.filter((f) => f.type === 'message').map((f) => f.id as number)
  expect(confirmed.size).toBeGreaterThan(50)

  // The same database, a new process.
  const second = await spawnServer(env)
  try {
    const db = new Database(dbPath, { readonly: true })
    expect(db.query('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' })
    const byClientId = new Map<string, { id: number; n: number }>()
    for (const row of db.query('SELECT client_id AS clientId, MIN(id) AS id, COUNT(*) AS n FROM messages GROUP BY sender_id, client_id').all() as any[])
      byClientId.set(row.clientId, { id: row.id, n: row.n })
    let lost = 0
    for (const [clientId, messageId] of confirmed) {
      const row = byClientId.get(clientId)
      if (!row || row.id !== messageId || row.n !== 1) lost++
    }
    expect(lost).toBe(0)
    const unconfirmed = [...a.attempted, ...c.attempted].filter((x) => !confirmed.has(x.clientId))
    const storedUnconfirmed = unconfirmed.filter((x) => byClientId.has(x.clientId)).length
    console.log(
      `crash: ${confirmed.size} confirmed before SIGKILL, all stored once; ${unconfirmed.length} in flight, ` +
        `${storedUnconfirmed} of them committed without their confirmation reaching the client`,
    )

    // Clients retry what was never confirmed, with the same client_id: nothing is stored twice.
    const wsUrl2 = second.url.replace('http', 'ws')
    const alice2 = await TestClient.connect(wsUrl2, '/ws/1')
    const carol2 = await TestClient.connect(wsUrl2, '/ws/3')
    for (const x of unconfirmed) (x.clientId.startsWith('a') ? alice2 : carol2).send(x.frame)
    let duplicates = 0
    for (const x of unconfirmed) {
      const sent = await (x.clientId.startsWith('a') ? alice2 : carol2).next((f) => f.type === 'message_sent' && f.client_id === x.clientId)
      confirmed.set(x.clientId, sent.message_id)
      if (sent.duplicate) duplicates++
    }
    expect(duplicates).toBe(storedUnconfirmed)
    const counts = db.query('SELECT COUNT(*) AS n, COUNT(DISTINCT client_id) AS distinct_ids FROM messages').get() as any
    expect(counts).toEqual({ n: confirmed.size, distinct_ids: confirmed.size })
    db.close()

    // Bob reconnects from the last id he saw and gets every message, each once.
    const since = bobBefore.at(-1) ?? 0
    const bob2 = await TestClient.connect(wsUrl2, `/ws/2?since=${since}`)
    const bobAfter = bob2.frames.filter((f) => f.type === 'message').map((f) => f.id as number)
    const all = new Set([...bobBefore, ...bobAfter])
    expect(all.size).toBe(bobBefore.length + bobAfter.length)
    expect([...confirmed.values()].filter((id) => !all.has(id))).toEqual([])
    for (const c of [alice2, carol2, bob2]) c.close()
  } finally {
    second.proc.kill('SIGKILL')
    await second.exited
  }
}, 30_000)
