// Every malformed request and frame the hardening tests send, at once, at the real entry point in
// a process of its own, while /health is polled: the server answers each and keeps answering
// everyone else throughout. The bound is a stall (a hang, or a loop over a large input), not a
// speed target: the latency under this load is measured in bench/, on a quiet machine.
import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { rawRequest } from '../helpers/raw-http'
import { TestClient } from '../helpers/ws-client'
import { spawnServer, tempDir } from './fixtures'
import { BAD_FRAMES, MALFORMED_REQUESTS } from './malformed-cases'

test('under every malformed request and frame at once, /health never stalls: every answer within a second', async () => {
  using dir = tempDir()
  const server = await spawnServer({ AUTH: 'none', DATABASE_URL: join(dir.dir, 'survive.db'), SEED_DEMO: '1', RATE_LIMIT: 'off' })
  const wsUrl = server.url.replace('http', 'ws')
  try {
    const poller = Bun.spawn([process.execPath, join(import.meta.dir, '..', 'helpers', 'health-poller.ts'), server.url], { stdin: 'pipe', stdout: 'pipe' })
    await Bun.sleep(200)
    const attackers = await Promise.all([1, 2, 3].map((id, i) => TestClient.connect(wsUrl, `/ws/${id}`, { format: i === 1 ? 'msgpack' : 'json' })))
    let seed = 99
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32)
    for (let round = 0; round < 20; round++) {
      const requests = MALFORMED_REQUESTS.map(([, request]) => rawRequest(server.port, request))
      for (const attacker of attackers) {
        for (const [, frame] of BAD_FRAMES) attacker.sendRaw(frame)
        for (let i = 0; i < 200; i++) {
          const bytes = new Uint8Array(1 + Math.floor(rand() * 512))
          for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256)
          attacker.sendRaw(i % 2 ? bytes : String.fromCharCode(...bytes))
        }
      }
      const answers = await Promise.all(requests)
      expect(answers.every((r) => r.status === 0 || r.status >= 400)).toBe(true)
      for (const attacker of attackers) {
        attacker.send({ type: 'ping' })
        await attacker.next('pong', 20_000)
      }
    }
    poller.stdin.end()
    const latencies: number[] = JSON.parse(await new Response(poller.stdout).text())

    expect(server.proc.exitCode).toBeNull()
    for (const attacker of attackers) {
      expect(attacker.closed).toBeNull()
      expect(attacker.frames.filter((f) => f.type === 'error').length).toBeGreaterThan(20 * BAD_FRAMES.length)
      attacker.close()
    }
    const sorted = latencies.sort((a, b) => a - b)
    expect(sorted.length).toBeGreaterThan(50)
    expect(sorted[sorted.length - 1]).toBeLessThan(1000)
  } finally {
    server.proc.kill()
    await server.exited
  }
}, 120_000)
