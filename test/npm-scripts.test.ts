// `npm start` and `npm run dev` as a user runs them: through npm itself (which runs a script with
// `sh -c`, the shell as npm's child), with a PATH that does not hold node_modules/.bin (npm adds
// it), stopped with what a process manager or a container runtime sends (SIGTERM) and what Ctrl-C
// sends (SIGINT).
import { Database } from 'bun:sqlite'
import { describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TestClient } from './helpers/ws-client'
import { mintToken, SECRET } from './hardening/fixtures'

const ROOT = join(import.meta.dir, '..')
/** The user's PATH: without the node_modules/.bin folders an outer `npm test` put in front. */
const USER_PATH = (process.env.PATH ?? '')
  .split(':')
  .filter((dir) => !/node_modules[/\\]\.bin$/.test(dir) && !dir.includes('node-gyp-bin'))
  .join(':')
const npm = Bun.which('npm', { PATH: USER_PATH })
// The process tree is read from /proc: which processes npm started, and whether any outlived it.
const skipReason = !npm ? 'npm is not on the PATH' : process.platform !== 'linux' ? 'reads the process tree from /proc (Linux)' : ''
if (skipReason) console.warn(`\n*** npm script tests SKIPPED: ${skipReason} ***\n`)

interface ScriptRun {
  proc: ReturnType<typeof Bun.spawn>
  /** The address the server printed: http://<host>:<port>. */
  url: string
  port: number
  output(): string
}

/** Runs `command` (npm or bun with its arguments) in `cwd` with only the given environment, and waits for the server to listen. */
async function runScript(command: string[], env: Record<string, string>, cwd = ROOT): Promise<ScriptRun> {
  const proc = Bun.spawn(command, {
    cwd,
    env: { PATH: USER_PATH, HOME: process.env.HOME ?? tmpdir(), PORT: '0', ...env },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  let out = ''
  const decoder = new TextDecoder()
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) out += decoder.decode(chunk)
  }
  void pump(proc.stdout as ReadableStream<Uint8Array>)
  void pump(proc.stderr as ReadableStream<Uint8Array>)
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    const m = /switchboard listening on (https?:\/\/[^:\s]+:(\d+))/.exec(out)
    if (m) return { proc, url: m[1], port: Number(m[2]), output: () => out }
    if (proc.exitCode !== null) throw new Error(`${command.join(' ')} exited with ${proc.exitCode}:\n${out}`)
    await Bun.sleep(25)
  }
  killStarted(processTree(proc.pid))
  throw new Error(`${command.join(' ')} did not start within 20 s:\n${out}`)
}

interface Proc {
  ppid: number
  /** Start time in clock ticks since boot: with the pid, names one process even after its pid is reused. */
  start: string
}

/** Every live process, from /proc/<pid>/stat; zombies count as gone. */
function liveProcesses(): Map<number, Proc> {
  const procs = new Map<number, Proc>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (fields[0] !== 'Z' && fields[0] !== 'X') procs.set(Number(entry), { ppid: Number(fields[1]), start: fields[19] })
    } catch {}
  }
  return procs
}

type Started = { pid: number; start: string }

/** `pid` and every process below it. */
function processTree(pid: number): Started[] {
  const procs = liveProcesses()
  const tree = [pid]
  for (let i = 0; i < tree.length; i++) for (const [child, p] of procs) if (p.ppid === tree[i]) tree.push(child)
  return tree.filter((p) => procs.has(p)).map((p) => ({ pid: p, start: procs.get(p)!.start }))
}

/** Those of `started` still running (the same processes, not others that got their pids). */
function stillRunning(started: Started[]): Started[] {
  const procs = liveProcesses()
  return started.filter((s) => procs.get(s.pid)?.start === s.start)
}

/** Ends what a test started and left running, by pid, never anything else. */
function killStarted(started: Started[]): void {
  for (const { pid } of stillRunning(started).reverse())
    try {
      process.kill(pid, 'SIGKILL')
    } catch {}
}

/** Whether nothing listens on the port any more: binding it succeeds. */
function portFree(port: number): boolean {
  try {
    Bun.listen({ hostname: '127.0.0.1', port, socket: { data() {} } }).stop(true)
    return true
  } catch {
    return false
  }
}

/** Whether something accepts a TCP connection at host:port. */
async function accepts(host: string, port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: host, port, socket: { data() {} } })
    socket.end()
    return true
  } catch {
    return false
  }
}

function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-npm-'))
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) }
}

/**
 * A working copy without data/ (a fresh clone after `npm install`): the repository's files linked
 * into a temporary folder, so a default DATABASE_URL lands there and not in this checkout's data/.
 */
function freshCheckout() {
  const checkout = tempDir()
  for (const entry of ['package.json', 'node_modules', 'src', 'public', 'tsconfig.json', 'bunfig.toml'])
    symlinkSync(join(ROOT, entry), join(checkout.dir, entry))
  return checkout
}

function usersIn(path: string): string[] {
  const db = new Database(path, { readonly: true })
  try {
    return (db.query('SELECT username FROM users ORDER BY id').all() as { username: string }[]).map((u) => u.username)
  } finally {
    db.close()
  }
}

const npmArgs = (script: string) => (script === 'start' ? ['start'] : ['run', script])
/** The README's commands: `npm start`, `npm run dev`, and with Bun `bun run start`, `bun run dev`. */
const runners = [
  { label: (script: string) => `npm ${npmArgs(script).join(' ')}`, command: (script: string) => [npm!, ...npmArgs(script)] },
  { label: (script: string) => `bun run ${script}`, command: (script: string) => [join(ROOT, 'node_modules', '.bin', 'bun'), 'run', script] },
]
const scripts: { script: string; env: Record<string, string>; jwt: boolean }[] = [
  // npm start is production: AUTH=jwt. SEED_DEMO gives it two users to talk.
  { script: 'start', env: { AUTH: 'jwt', JWT_SECRET: SECRET, SEED_DEMO: '1', HOST: '127.0.0.1' }, jwt: true },
  { script: 'dev', env: {}, jwt: false },
]
const signals = ['SIGTERM', 'SIGINT'] as const

const cases = runners.flatMap((runner) => scripts.flatMap((s) => signals.map((signal) => ({ runner, ...s, signal }))))

describe.skipIf(!!skipReason)('stopping the package scripts', () => {
  for (const { runner, script, env, jwt, signal } of cases)
    test(`${signal} to \`${runner.label(script)}\`: every confirmed message is stored, the port is free within 10 s, no process is left`, async () => {
      using dir = tempDir()
      const dbPath = join(dir.dir, 'signals.db')
      const run = await runScript(runner.command(script), { ...env, DATABASE_URL: dbPath })
      const tree = processTree(run.proc.pid)
      let alice: TestClient | undefined
      let bob: TestClient | undefined
      try {
        // npm (or bun run), and under it the shell and/or bun: the server is somewhere in there.
        expect(tree.length).toBeGreaterThanOrEqual(2)
        const wsUrl = `ws://127.0.0.1:${run.port}`
        const query = async (user: number) => (jwt ? `?token=${await mintToken(SECRET, { sub: String(user) })}` : '')
        alice = await TestClient.connect(wsUrl, `/ws/1${await query(1)}`)
        bob = await TestClient.connect(wsUrl, `/ws/2${await query(2)}`)
        // 20 at once: within the rate limit's burst (both scripts limit rates).
        for (let i = 0; i < 20; i++) alice.send({ type: 'message', recipient_id: 2, message: `bye ${i}`, client_id: `c${i}` })
        const first = await alice.next('message_sent', 5000)

        const signalledAt = Date.now()
        process.kill(run.proc.pid, signal)
        // Graceful shutdown ran: the sockets were closed as "going away", not cut.
        expect((await alice.waitClosed(10_000)).code).toBe(1001)
        while (!portFree(run.port) && Date.now() - signalledAt < 10_000) await Bun.sleep(50)
        expect(portFree(run.port)).toBe(true)
        while (stillRunning(tree).length && Date.now() - signalledAt < 10_000) await Bun.sleep(50)
        expect(stillRunning(tree)).toEqual([])
        expect(Date.now() - signalledAt).toBeLessThan(10_000)
        expect(await run.proc.exited).toBe(0)
        expect(run.output()).toContain('"msg":"stopped"')

        const confirmed = [first, ...alice.frames.filter((f) => f.type === 'message_sent')].map((f) => f.client_id)
        const db = new Database(dbPath, { readonly: true })
        const stored = (db.query('SELECT client_id FROM messages ORDER BY id').all() as { client_id: string }[]).map((r) => r.client_id)
        db.close()
        expect(stored.slice(0, confirmed.length)).toEqual(confirmed)
      } finally {
        alice?.ws.close()
        bob?.ws.close()
        killStarted(tree)
      }
    }, 40_000)
})

describe.skipIf(!!skipReason)('defaults of the npm scripts on a fresh checkout', () => {
  test('npm run dev: data/dev.db, seeded, on 127.0.0.1 only; npm start: data/switchboard.db, not seeded, on every interface', async () => {
    using checkout = freshCheckout()
    const started: Started[] = []
    const stop = async (run: ScriptRun) => {
      process.kill(run.proc.pid, 'SIGTERM')
      expect(await run.proc.exited).toBe(0)
    }
    try {
      const dev = await runScript([npm!, 'run', 'dev'], {}, checkout.dir)
      started.push(...processTree(dev.proc.pid))
      expect(dev.url).toBe(`http://127.0.0.1:${dev.port}`)
      expect(await accepts('127.0.0.1', dev.port)).toBe(true)
      // Another loopback address stands for another interface: AUTH=none must not answer there.
      expect(await accepts('127.0.0.2', dev.port)).toBe(false)
      await stop(dev)
      expect(usersIn(join(checkout.dir, 'data', 'dev.db'))).toEqual(['alice', 'bob', 'carol'])
      expect(existsSync(join(checkout.dir, 'data', 'switchboard.db'))).toBe(false)

      const start = await runScript([npm!, 'start'], { JWT_SECRET: SECRET }, checkout.dir)
      started.push(...processTree(start.proc.pid))
      expect(await accepts('127.0.0.1', start.port)).toBe(true)
      expect(await accepts('127.0.0.2', start.port)).toBe(true)
      await stop(start)
      // Production does not serve the development database's demo users.
      expect(usersIn(join(checkout.dir, 'data', 'switchboard.db'))).toEqual([])
    } finally {
      killStarted(started)
    }
  }, 60_000)
})

const git = Bun.which('git')
const inCheckout = !!git && Bun.spawnSync([git, 'rev-parse', '--is-inside-work-tree'], { cwd: ROOT }).exitCode === 0
if (!inCheckout) console.warn('SKIPPED: the .env test needs a git checkout')

// Bun reads .env (and .env.local, .env.production, ...) at start-up.
test.skipIf(!inCheckout)('.env, where the docs suggest putting JWT_SECRET, is ignored by git', () => {
  for (const file of ['.env', '.env.local', '.env.production']) expect(Bun.spawnSync([git!, 'check-ignore', '-q', file], { cwd: ROOT }).exitCode).toBe(0)
})
