// A big backlog is sent paced: the connection catching up gets all of it, in order and in pages,
// while every other connection keeps being answered at once. Against the real entry point in a
// process of its own, so that the test's clock does not freeze with the server's event loop.
import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { directConv, type NewMessage } from '../../src/db/store'
import { openSqliteStore } from '../../src/db/sqlite-store'
import { eventually } from '../helpers/server'
import { TestClient } from '../helpers/ws-client'
import { spawnServer, tempDir } from './fixtures'

/** Polls /health until `done`, and returns the slowest answer in ms. */
async function slowestHealth(url: string, done: () => boolean): Promise<number> {
  let slowest = 0
  while (!done()) {
    const started = performance.now()
    await fetch(`${url}/health`)
    slowest = Math.max(slowest, performance.now() - started)
    await Bun.sleep(5)
  }
  return slowest
}

test('a user with thousands of conversations catches up without holding the server', async () => {
  using dir = tempDir()
  const dbPath = join(dir.dir, 'backlog.db')
  const CONVERSATIONS = 10_000
  {
    // User 1 wrote once to each of 10,000 users (10,000 conversations), and each of them wrote back.
    const store = openSqliteStore(dbPath)
    const me = (await store.createUser({ username: 'me' })).id
    const others: number[] = []
    for (let i = 0; i < CONVERSATIONS; i++) others.push((await store.createUser({ username: `u${i}` })).id)
    const rows: NewMessage[] = []
    for (const other of others) {
      const base = { messageType: 'text', clientId: null, status: 'sent' as const, createdAt: Date.now(), groupId: null }
      rows.push({ ...base, conv: directConv(me, other), senderId: me, recipientId: other, body: `hello ${other}` })
      rows.push({ ...base, conv: directConv(me, other), senderId: other, recipientId: me, body: `hi back from ${other}` })
    }
    await store.insertMessages(rows)
    await store.close()
  }
  const server = await spawnServer({ AUTH: 'none', DATABASE_URL: dbPath })
  try {
    const wsUrl = server.url.replace('http', 'ws')
    // Without `since`: the 10,000 replies waiting for user 1; with since=0: all 20,000 messages.
    for (const path of ['/ws/1', '/ws/1?since=0']) {
      const client = await TestClient.connect(wsUrl, path, { waitSynced: false })
      let synced = false
      const watching = slowestHealth(server.url, () => synced)
      const end = await client.next('synced', 60_000)
      synced = true
      const slowest = await watching
      const messages = client.frames.filter((f) => f.type === 'message')
      const pages = client.frames.filter((f) => f.type === 'backlog_page')
      const expected = path.includes('since') ? 2 * CONVERSATIONS : CONVERSATIONS
      expect(messages.length).toBe(expected)
      expect(end.count).toBe(expected)
      expect(messages.map((m) => m.id)).toEqual(messages.map((m) => m.id).sort((a, b) => a - b))
      // A stall, not a speed: a catch-up that held the event loop per round held it for seconds.
      expect(slowest).toBeLessThan(1000)
      expect(pages.length).toBeGreaterThan(0)
      // Delivered once the device confirms what it was sent (its socket answers the next ping):
      // the last reply, from the last user, is the last to be confirmed.
      await eventually(async () => {
        const page = (await (await fetch(`${server.url}/messages?user_id=1&other_user_id=${CONVERSATIONS + 1}&limit=1`)).json()) as { messages: { status: string }[] }
        expect(page.messages.at(-1)?.status).toBe('delivered')
      }, 10_000)
      client.close()
    }
    // The backlog without `since` was delivered: a new connection finds nothing waiting.
    const again = await TestClient.connect(wsUrl, '/ws/1')
    expect(again.frames.filter((f) => f.type === 'message')).toEqual([])
    again.close()
  } finally {
    server.proc.kill()
    await server.exited
  }
}, 120_000)
