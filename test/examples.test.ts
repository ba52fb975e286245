import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { startEchoBot } from '../examples/echo-bot'
import { waitFor, connectClient } from './client/helpers'
import { startServer } from './helpers/server'
import { TestClient } from './helpers/ws-client'

const EXAMPLES = join(import.meta.dir, '..', 'examples')

test('the echo bot answers direct and group messages, and not its own echoes', async () => {
  await using server = await startServer()
  const bot = startEchoBot({ url: server.url, userId: 2 }, () => {})
  await bot.connect()
  using alice = await connectClient(server.url, 1)
  try {
    await alice.send({ recipient_id: 2 }, 'hello bot')
    await alice.send({ group_id: 1 }, 'hello group')
    await waitFor('two echoes', () => alice.received.length === 2)
    expect(alice.received.map((m) => [m.message, m.group_id ?? null])).toEqual([
      ['echo: hello bot', null],
      ['echo: hello group', 1],
    ])
    await Bun.sleep(100)
    expect(alice.received.length).toBe(2)
  } finally {
    bot.close()
  }
})

/** A Python with the `websockets` package, if this machine has one. */
function findPython(): string | undefined {
  for (const python of ['python3', '/usr/bin/python3']) {
    try {
      if (Bun.spawnSync([python, '-c', 'import websockets']).exitCode === 0) return python
    } catch {}
  }
}

/** The seed's example hard-codes port 8000. */
function port8000Free(): boolean {
  try {
    Bun.listen({ hostname: '0.0.0.0', port: 8000, socket: { data() {} } }).stop(true)
    return true
  } catch {
    return false
  }
}

const python = findPython()
const free = port8000Free()
const skipReason = !python ? 'no python3 with the websockets package (apt-get install python3-websockets)' : !free ? 'port 8000 is in use' : ''
if (skipReason) console.warn(`\n*** Python example test SKIPPED: ${skipReason} ***\n`)

describe.skipIf(!!skipReason)('the seed’s Python client example', () => {
  test('runs as printed: its message reaches user 2 and it prints message_sent', async () => {
    await using server = await startServer({ port: 8000, config: { host: '0.0.0.0' } })
    const bob = await TestClient.connect(server.wsUrl, '/ws/2')
    const child = Bun.spawn([python!, join(EXAMPLES, 'python_client.py')], { stdout: 'pipe', stderr: 'pipe', env: { ...process.env, PYTHONUNBUFFERED: '1' } })
    try {
      expect(await bob.next('message', 10_000)).toMatchObject({ sender_id: 1, recipient_id: 2, message: 'Hello from Python!' })
      let out = ''
      const reader = child.stdout.getReader()
      while (!out.includes("'type': 'message_sent'")) {
        const { value, done } = await reader.read()
        if (done) break
        out += new TextDecoder().decode(value)
      }
      expect(out).toContain("Received: {'type': 'connection_established', 'user_id': 1")
      expect(out).toContain("'type': 'message_sent'")
    } finally {
      child.kill()
      bob.close()
    }
  }, 20_000)
})
