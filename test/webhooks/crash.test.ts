import { expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateWebhookSecret } from '../../src/webhooks/signing'
import { startReceiver, until } from './receiver'

const ROOT = join(import.meta.dir, '..', '..')

/** `bun src/index.ts` on a free port with a file database; resolves once it listens. */
async function spawnServer(env: Record<string, string>) {
  const child = Bun.spawn(['bun', 'src/index.ts'], { cwd: ROOT, env: { ...process.env, ...env }, stdout: 'pipe', stderr: 'pipe' })
  const reader = child.stdout.getReader()
  let out = ''
  const end = Date.now() + 15_000
  while (!/listening on (http:\/\/\S+?) /.test(out)) {
    if (Date.now() > end) throw new Error(`server did not start: ${out}`)
    const { value, done } = await reader.read()
    if (done) throw new Error(`server exited: ${out}${await new Response(child.stderr).text()}`)
    out += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  return { child, url: out.match(/listening on (http:\/\/\S+?) /)![1] }
}

/** The environment of a crashing server: a file database, and its webhook at `url`. */
function serverEnv(dir: string, url: string, secret: string): Record<string, string> {
  return {
    DATABASE_URL: join(dir, 'crash.db'),
    AUTH: 'none',
    PORT: '0',
    HOST: '127.0.0.1',
    SEED_DEMO: '1',
    LOG_LEVEL: 'silent',
    RATE_LIMIT: 'off',
    WEBHOOK_URL: url,
    WEBHOOK_SECRET: secret,
    WEBHOOK_RETRY_BASE_MS: '20',
    WEBHOOK_ALLOW_PRIVATE: '1',
  }
}

/** Restarts the server on the same database with a healthy receiver; resolves once message `id`'s event arrived there, signed. */
async function restartAndReceive(env: Record<string, string>, secret: string, id: number, withinMs: number): Promise<void> {
  // A receiver on a new port, which the restarted server is given.
  using again = startReceiver(secret)
  const second = await spawnServer({ ...env, WEBHOOK_URL: again.url })
  try {
    await until(() => again.received.some((r) => r.body.type === 'message.created' && r.body.data.id === id), withinMs, 'the event after the restart')
    expect(again.badSignatures).toEqual([])
  } finally {
    second.child.kill(9)
    await second.child.exited
  }
}

test('kill -9 right after the commit: the restarted server still delivers the event', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-webhook-crash-'))
  const secret = generateWebhookSecret()
  using receiver = startReceiver(secret)
  // The receiver is down at first: nothing can be delivered before the kill.
  receiver.stop()
  const env = serverEnv(dir, receiver.url, secret)
  try {
    const first = await spawnServer(env)
    const response = await fetch(`${first.url}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sender_id: 1, recipient_id: 2, message: 'survive me' }) })
    const sent = (await response.json()) as { id: number }
    expect(response.status).toBe(201)
    first.child.kill(9)
    await first.child.exited
    await restartAndReceive(env, secret, sent.id, 10_000)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}, 40_000)

test('kill -9 in the middle of an attempt: the restarted server sends it again at once, not after the lease', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-webhook-crash-'))
  const secret = generateWebhookSecret()
  // This receiver takes the request and never answers: the attempt is in flight, its delivery leased.
  let reached!: () => void
  const inFlight = new Promise<void>((resolve) => (reached = resolve))
  using hanging = startReceiver(secret, () => {
    reached()
    return new Promise<never>(() => {})
  })
  const env = serverEnv(dir, hanging.url, secret)
  try {
    const first = await spawnServer(env)
    const response = await fetch(`${first.url}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sender_id: 1, recipient_id: 2, message: 'mid-attempt' }) })
    const sent = (await response.json()) as { id: number }
    await inFlight
    first.child.kill(9)
    await first.child.exited
    // Well before the dispatcher's lease (30 s) would have run out.
    await restartAndReceive(env, secret, sent.id, 5_000)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}, 40_000)
