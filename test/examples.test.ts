import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
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

/** Runs an example with SWITCHBOARD_URL pointing at `url`: `readUntil` reads what it prints, disposing stops it. */
function runExample(command: string[], url: string) {
  const child = Bun.spawn(command, { stdout: 'pipe', stderr: 'pipe', env: { ...process.env, SWITCHBOARD_URL: url, PYTHONUNBUFFERED: '1' } })
  let out = ''
  const reader = child.stdout.getReader()
  return {
    async readUntil(text: string): Promise<string> {
      while (!out.includes(text)) {
        const { value, done } = await reader.read()
        if (done) break
        out += new TextDecoder().decode(value)
      }
      return out
    },
    [Symbol.dispose]: () => child.kill(),
  }
}

test('examples/echo-bot.ts run from the shell answers on the server at SWITCHBOARD_URL', async () => {
  await using server = await startServer()
  using bot = runExample([process.execPath, join(EXAMPLES, 'echo-bot.ts')], server.url)
  expect(await bot.readUntil('send it a message')).toContain(`echo bot is user 2 on ${server.url}`)
  using alice = await connectClient(server.url, 1)
  await alice.send({ recipient_id: 2 }, 'are you there?')
  await waitFor('the echo', () => alice.received.length === 1)
  expect(alice.received[0]).toMatchObject({ sender_id: 2, message: 'echo: are you there?' })
}, 20_000)

const python = findPython()
if (!python) console.warn('\n*** Python example test SKIPPED: no python3 with the websockets package (apt-get install python3-websockets) ***\n')

// Each prints the frames it receives in its language's notation.
const seedExamples = [
  { file: 'seed-client.js', run: process.execPath, message: 'Hello!', connected: 'Received: {\n  type: "connection_established",\n  user_id: 1,', sent: 'type: "message_sent"' },
  { file: 'python_client.py', run: python, message: 'Hello from Python!', connected: "Received: {'type': 'connection_established', 'user_id': 1", sent: "'type': 'message_sent'" },
]

for (const { file, run, message, connected, sent } of seedExamples)
  test.skipIf(!run)(`the seed’s example examples/${file} reaches a server at SWITCHBOARD_URL: user 2 gets its message, it prints message_sent`, async () => {
    await using server = await startServer()
    const bob = await TestClient.connect(server.wsUrl, '/ws/2')
    using example = runExample([run!, join(EXAMPLES, file)], server.url)
    try {
      expect(await bob.next('message', 10_000)).toMatchObject({ sender_id: 1, recipient_id: 2, message })
      const out = await example.readUntil(sent)
      expect(out).toContain(connected)
      expect(out).toContain(sent)
    } finally {
      bob.close()
    }
  }, 20_000)

// The seed's "JavaScript Client Example" and "Python Client Example", verbatim.
const SEED_JAVASCRIPT = `// Connect to WebSocket
const ws = new WebSocket('ws://localhost:8000/ws/1');

// Send a message
ws.send(JSON.stringify({
    type: 'message',
    recipient_id: 2,
    message: 'Hello!',
    message_type: 'text',
    timestamp: new Date().toISOString()
}));

// Send typing indicator
ws.send(JSON.stringify({
    type: 'typing',
    recipient_id: 2,
    is_typing: true,
    timestamp: new Date().toISOString()
}));

// Listen for messages
ws.onmessage = function(event) {
    const data = JSON.parse(event.data);
    console.log('Received:', data);
};`
const SEED_PYTHON = `import asyncio
import websockets
import json

async def chat_client():
    uri = "ws://localhost:8000/ws/1"
    async with websockets.connect(uri) as websocket:
        # Send message
        message = {
            "type": "message",
            "recipient_id": 2,
            "message": "Hello from Python!",
            "message_type": "text",
            "timestamp": "2024-01-01T12:00:00"
        }
        await websocket.send(json.dumps(message))
        
        # Listen for responses
        async for message in websocket:
            data = json.loads(message)
            print(f"Received: {data}")

asyncio.run(chat_client())`

/** The code of the first fenced block in `lang` after `heading`. */
function codeBlock(markdown: string, heading: string, lang: string): string {
  const at = markdown.indexOf(heading)
  expect(at).toBeGreaterThanOrEqual(0)
  const start = markdown.indexOf('```' + lang + '\n', at) + lang.length + 4
  return markdown.slice(start, markdown.indexOf('\n```', start))
}

/** The README's one change to the seed's JavaScript undone: the sends wait for `onopen`. */
function withoutOpenWait(code: string): string {
  const lines = code.split('\n')
  const open = lines.indexOf('ws.onopen = () => {')
  const close = lines.indexOf('};', open)
  expect([open, close].every((i) => i > 0)).toBe(true)
  const inside = lines.slice(open + 1, close).map((line) => line.replace(/^    /, ''))
  return [...lines.slice(0, open), ...inside, ...lines.slice(close + 1)].join('\n').replace('\n\n\n', '\n\n')
}

describe('the seed’s examples as the README prints them', () => {
  const readme = readFileSync(join(import.meta.dir, '..', 'README.md'), 'utf8')
  const readmeJs = codeBlock(readme, '### JavaScript client example', 'javascript')
  const readmePython = codeBlock(readme, '### Python client example', 'python')

  test('the README prints the seed’s code: Python unchanged, JavaScript changed only by waiting for onopen', () => {
    expect(readmePython).toBe(SEED_PYTHON)
    expect(withoutOpenWait(readmeJs)).toBe(SEED_JAVASCRIPT)
  })

  test('the files in examples/ are the printed code but for where the address comes from', () => {
    const js = readFileSync(join(EXAMPLES, 'seed-client.js'), 'utf8')
    expect(js.slice(js.indexOf('// Connect to WebSocket')).replace('`${WS_URL}/ws/1`', "'ws://localhost:8000/ws/1'")).toBe(readmeJs + '\n')
    const py = readFileSync(join(EXAMPLES, 'python_client.py'), 'utf8')
    expect(py.slice(py.indexOf('import asyncio')).replace('WS_URL + "/ws/1"', '"ws://localhost:8000/ws/1"')).toBe(readmePython + '\n')
  })
})
