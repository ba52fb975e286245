import { join } from 'node:path'
import type { ServerProcess } from './server-process'

const AUTOCANNON = join(import.meta.dir, '..', '..', 'node_modules', 'autocannon', 'autocannon.js')

export interface RestResult {
  target: string
  route: string
  requestsPerSec: number
  latencyMs: { p50: number; p99: number; p999: number; max: number }
  non2xx: number
  errors: number
  serverCpuUsPerRequest: number
  serverRssBytes: number
}

/** Runs autocannon (as its own process) against one route and reads the server's CPU around it. */
export async function autocannon(
  server: ServerProcess,
  route: string,
  opts: { method?: 'GET' | 'POST'; body?: unknown; connections?: number; seconds: number },
): Promise<RestResult> {
  const args = [AUTOCANNON, '-j', '-c', String(opts.connections ?? 32), '-d', String(opts.seconds)]
  if (opts.method === 'POST') args.push('-m', 'POST', '-H', 'content-type=application/json', '-b', JSON.stringify(opts.body))
  args.push(server.httpUrl + route)
  const cpu0 = server.cpuSeconds()
  const proc = Bun.spawn([process.execPath, ...args], { stdout: 'pipe', stderr: 'pipe' })
  const out = await new Response(proc.stdout).text()
  await proc.exited
  const cpu = server.cpuSeconds() - cpu0
  const r = JSON.parse(out)
  const total = r.requests.total as number
  return {
    target: server.name,
    route: `${opts.method ?? 'GET'} ${route.split('?')[0]}`,
    requestsPerSec: total / r.duration,
    latencyMs: { p50: r.latency.p50, p99: r.latency.p99, p999: r.latency.p99_9, max: r.latency.max },
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    serverCpuUsPerRequest: (cpu * 1e6) / Math.max(1, total),
    serverRssBytes: server.rssBytes(),
  }
}
