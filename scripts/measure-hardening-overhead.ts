// Server CPU per delivered 1:1 message: main (before hardening) against this branch with rate
// limiting off and on (limits set high so nothing is refused: the cost of counting, not refusing).
// Usage: bun scripts/measure-hardening-overhead.ts [/path/to/main/checkout] [messages] [rounds]
// Alternates A B C A B C so that the ratios come from the same run on a noisy machine.
import { spawn } from 'bun'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const mainDir = process.argv[2] ?? '/work/main'
const N = Number(process.argv[3] ?? 20000)
const here = join(import.meta.dir, '..')
const WINDOW = 200

const variants = {
  main: { dir: mainDir, env: { AUTH: 'none' } },
  'harden, RATE_LIMIT=off': { dir: here, env: { AUTH: 'none', RATE_LIMIT: 'off' } },
  'harden, RATE_LIMIT=on': {
    dir: here,
    env: { AUTH: 'none', RATE_LIMIT: 'on', RATE_MESSAGES_PER_SECOND: '1000000', RATE_MESSAGES_BURST: '1000000', RATE_FRAMES_PER_SECOND: '1000000', RATE_FRAMES_BURST: '1000000' },
  },
} as const

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

async function run(name: keyof typeof variants): Promise<number> {
  const { dir, env } = variants[name]
  const tmp = mkdtempSync(join(tmpdir(), 'sb-overhead-'))
  const proc = spawn([join(dir, 'node_modules', '.bin', 'bun'), 'src/index.ts'], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', SEED_DEMO: '1', LOG_LEVEL: 'warn', DATABASE_URL: join(tmp, 'db.sqlite'), ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  let out = ''
  void (async () => {
    for await (const c of proc.stdout) out += new TextDecoder().decode(c)
  })()
  while (!/listening on http:\/\/[^:]+:(\d+)/.test(out)) await Bun.sleep(20)
  const port = /listening on http:\/\/[^:]+:(\d+)/.exec(out)![1]
  const open = (path: string) =>
    new Promise<WebSocket>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`)
      ws.onopen = () => resolve(ws)
    })
  const bob = await open('/ws/2')
  const alice = await open('/ws/1')
  let received = 0
  let confirmed = 0
  let sent = 0
  const done = new Promise<void>((resolve) => {
    bob.onmessage = (e) => {
      if ((e.data as string).startsWith('{"type":"message"') && ++received === N && confirmed === N) resolve()
    }
    alice.onmessage = (e) => {
      if (!(e.data as string).startsWith('{"type":"message_sent"')) return
      confirmed++
      if (sent < N) alice.send(JSON.stringify({ type: 'message', recipient_id: 2, message: `hello ${sent++}` }))
      if (received === N && confirmed === N) resolve()
    }
  })
  await Bun.sleep(200)
  const before = cpuSeconds(proc.pid)
  for (; sent < WINDOW; sent++) alice.send(JSON.stringify({ type: 'message', recipient_id: 2, message: `hello ${sent}` }))
  await done
  const cpu = cpuSeconds(proc.pid) - before
  alice.close()
  bob.close()
  proc.kill('SIGKILL')
  await proc.exited
  rmSync(tmp, { recursive: true, force: true })
  return (cpu / N) * 1e6
}

const results: Record<string, number[]> = {}
const ROUNDS = Number(process.argv[4] ?? 5)
for (let round = 0; round < ROUNDS; round++)
  for (const name of Object.keys(variants) as (keyof typeof variants)[]) (results[name] ??= []).push(await run(name))
for (const [name, values] of Object.entries(results))
  console.log(`${name.padEnd(24)} server CPU per message: ${values.map((v) => v.toFixed(1)).join(', ')} µs (median ${values.sort((a, b) => a - b)[Math.floor(values.length / 2)].toFixed(1)})`)
