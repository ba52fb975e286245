import type { Subprocess } from 'bun'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const ROOT = join(import.meta.dir, '..', '..')
/** Clock ticks per second for /proc/<pid>/stat (USER_HZ; 100 on every Linux this runs on). */
const CLK_TCK = Number(process.env.CLK_TCK ?? 100)

/** A server under test, running as its own process so its CPU time and memory are its own. */
export interface ServerProcess {
  name: string
  pid: number
  port: number
  httpUrl: string
  wsUrl: string
  /** CPU seconds (user + system) the process has used so far. */
  cpuSeconds(): number
  /** Resident set size in bytes. */
  rssBytes(): number
  /** Page faults (minor + major) so far: each costs a trap into this VM's hypervisor. */
  pageFaults(): number
  stop(): Promise<void>
}

/** The fields of /proc/<pid>/stat from field 3 (state) on: index i is field i + 3. */
function procStat(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

/** Reads utime + stime of a process, in seconds. */
export function procCpuSeconds(pid: number): number {
  const fields = procStat(pid)
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK
}

/** Reads minflt + majflt of a process. */
export function procPageFaults(pid: number): number {
  const fields = procStat(pid)
  return Number(fields[7]) + Number(fields[9])
}

/** Reads VmRSS of a process from /proc/<pid>/status, in bytes. */
export function procRssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) * 1024 : 0
}

async function spawnListening(name: string, args: string[], env: Record<string, string>, portPattern: RegExp, cleanup?: () => void): Promise<ServerProcess> {
  // BENCH_SERVER_BUN_ARGS, e.g. "--cpu-prof-md --cpu-prof-dir=/tmp/prof", profiles the servers.
  const bunArgs = (process.env.BENCH_SERVER_BUN_ARGS ?? '').split(' ').filter(Boolean)
  const proc: Subprocess<'ignore', 'pipe', 'pipe'> = Bun.spawn([process.execPath, ...bunArgs, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  let output = ''
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 15 s:\n${output}`)), 15_000)
    const read = async (stream: ReadableStream<Uint8Array>) => {
      const decoder = new TextDecoder()
      for await (const chunk of stream) {
        output += decoder.decode(chunk)
        if (process.env.BENCH_SERVER_OUTPUT) process.stderr.write(`${name}: ${decoder.decode(chunk)}`)
        const m = portPattern.exec(output)
        if (m) {
          clearTimeout(timer)
          resolve(Number(m[1]))
        }
      }
    }
    void read(proc.stdout)
    void read(proc.stderr)
    void proc.exited.then((code) => reject(new Error(`${name} exited with ${code} before listening:\n${output}`)))
  })
  return {
    name,
    pid: proc.pid,
    port,
    httpUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    cpuSeconds: () => procCpuSeconds(proc.pid),
    rssBytes: () => procRssBytes(proc.pid),
    pageFaults: () => procPageFaults(proc.pid),
    async stop() {
      proc.kill('SIGTERM')
      const killer = setTimeout(() => proc.kill('SIGKILL'), 5000)
      await proc.exited
      clearTimeout(killer)
      cleanup?.()
    },
  }
}

/** Starts Switchboard (`bun src/index.ts`) over a fresh SQLite file in a temp dir. */
export function startSwitchboard(extraEnv: Record<string, string> = {}, root: string = ROOT, name = 'switchboard'): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-'))
  return spawnListening(
    name,
    [join(root, 'src', 'index.ts')],
    {
      DATABASE_URL: join(dir, 'bench.db'),
      PORT: '0',
      HOST: '127.0.0.1',
      SEED_DEMO: '0',
      AUTH: 'none',
      RATE_LIMIT: 'off',
      LOG_LEVEL: 'warn',
      ...extraEnv,
    },
    /listening on http:\/\/[^:]+:(\d+)/,
    () => rmSync(dir, { recursive: true, force: true }),
  )
}

/** Starts the bare Bun pub/sub relay (bench/baseline-relay.ts). */
export function startRelay(): Promise<ServerProcess> {
  return spawnListening('baseline', ['bench/baseline-relay.ts'], { PORT: '0' }, /listening on (\d+)/)
}

/** Starts the bare Elysia REST baseline (bench/baseline-http.ts). */
export function startHttpBaseline(): Promise<ServerProcess> {
  return spawnListening('elysia-bare', ['bench/baseline-http.ts'], { PORT: '0' }, /listening on (\d+)/)
}
