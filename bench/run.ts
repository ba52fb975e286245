/**
 * The benchmark: Switchboard against a bare Bun pub/sub relay (and a bare Elysia route for REST),
 * both driven by the same load in the same run, alternating A B B A so that drift on a shared
 * machine falls on both. See docs/BENCHMARKS.md.
 *
 *   npm run bench               full run (about 6-8 minutes on 2 cores)
 *   npm run bench:quick         short run (under 2 minutes)
 *   bun bench/run.ts --only=pairs-json-closed,idle   selected scenarios
 *   bun bench/run.ts --reference                     also write bench/results/reference.json
 *   bun bench/run.ts --quick --rounds=6 --only=…     more alternating rounds, for small differences
 */
import { cpus, loadavg, totalmem } from 'node:os'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Histogram } from 'hdr-histogram-js'
import { closeAll, COUNTS, newHistogram, openMany, runRound, type Counts, type Format, type LoadSpec, type Population, type RoundResult, type TargetKind } from './lib/load'
import { autocannon, type RestResult } from './lib/rest'
import { startHttpBaseline, startRelay, startSwitchboard, type ServerProcess } from './lib/server-process'
import { createGroup, createUsers } from './lib/setup'

const argv = process.argv.slice(2)
const flag = (name: string) => argv.includes(`--${name}`)
const option = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const quick = flag('quick')
const only = option('only')?.split(',')
// --before=DIR: a second Switchboard checkout (e.g. `git archive` of an older commit, with
// node_modules linked) run as a third server in the same rounds, for before/after figures.
const beforeDir = option('before')
// --before-env=K=V,K=V: extra environment for the 'before' server only; with --before pointing at
// this same checkout, it compares a setting (e.g. MIMALLOC_PURGE_DELAY=-1) against the default.
const beforeEnv = Object.fromEntries(
  (option('before-env')?.split(',') ?? []).map((kv) => {
    const eq = kv.indexOf('=')
    if (eq < 1) throw new Error(`--before-env: "${kv}" is not NAME=value`)
    return [kv.slice(0, eq), kv.slice(eq + 1)]
  }),
)
// --switchboard=DIR: run the Switchboard under test from another checkout (default: this one).
const switchboardDir = option('switchboard')

// jitWarmup: seconds of unmeasured load per server and format before the first round (see warmUp).
const profile = quick
  ? { warmup: 0.5, seconds: 2, rounds: 1, jitWarmup: 2, idleConnections: 10_000, restSeconds: 2, historyRows: 20_000 }
  : { warmup: 1, seconds: 4, rounds: 2, jitWarmup: 4, idleConnections: 10_000, restSeconds: 4, historyRows: 50_000 }
// --rounds=N: more alternating rounds per scenario, for a before/after difference smaller than the
// machine's drift (figures are totals over the rounds).
if (option('rounds')) profile.rounds = Math.max(1, Number(option('rounds')))

interface Scenario {
  id: string
  title: string
  shape: 'pairs' | 'group100' | 'group1000'
  format: Format
  mode: 'closed' | 'open'
  /**
   * Open loop: offer `fraction` of the baseline's closed-loop delivery rate (same run); with two
   * scenarios, of the lower of the two, so that JSON and MessagePack run at the same rate and
   * their server CPU per delivery compares.
   */
  rateOf?: { scenarios: string[]; fraction: number }
  quick: boolean
}

const SHAPES = {
  pairs: { users: 100, senders: 100, window: 8, describe: '50 pairs, both directions' },
  group100: { users: 100, senders: 4, window: 8, describe: '4 senders into a group of 100' },
  group1000: { users: 1000, senders: 2, window: 4, describe: '2 senders into a group of 1000' },
} as const

const SCENARIOS: Scenario[] = [
  { id: 'pairs-json-closed', title: '1:1 JSON closed-loop', shape: 'pairs', format: 'json', mode: 'closed', quick: true },
  { id: 'pairs-msgpack-closed', title: '1:1 MessagePack closed-loop', shape: 'pairs', format: 'msgpack', mode: 'closed', quick: true },
  { id: 'group100-json-closed', title: 'group 100 JSON closed-loop', shape: 'group100', format: 'json', mode: 'closed', quick: true },
  { id: 'group100-msgpack-closed', title: 'group 100 MessagePack closed-loop', shape: 'group100', format: 'msgpack', mode: 'closed', quick: false },
  { id: 'group1000-json-closed', title: 'group 1000 JSON closed-loop', shape: 'group1000', format: 'json', mode: 'closed', quick: true },
  { id: 'group1000-msgpack-closed', title: 'group 1000 MessagePack closed-loop', shape: 'group1000', format: 'msgpack', mode: 'closed', quick: false },
  { id: 'pairs-json-open', title: '1:1 JSON open-loop @ ½ baseline max', shape: 'pairs', format: 'json', mode: 'open', rateOf: { scenarios: ['pairs-json-closed', 'pairs-msgpack-closed'], fraction: 0.5 }, quick: true },
  { id: 'pairs-msgpack-open', title: '1:1 MessagePack open-loop @ ½ baseline max', shape: 'pairs', format: 'msgpack', mode: 'open', rateOf: { scenarios: ['pairs-json-closed', 'pairs-msgpack-closed'], fraction: 0.5 }, quick: true },
  { id: 'group100-json-open', title: 'group 100 JSON open-loop @ ½ baseline max', shape: 'group100', format: 'json', mode: 'open', rateOf: { scenarios: ['group100-json-closed', 'group100-msgpack-closed'], fraction: 0.5 }, quick: false },
  { id: 'group100-msgpack-open', title: 'group 100 MessagePack open-loop @ ½ baseline max', shape: 'group100', format: 'msgpack', mode: 'open', rateOf: { scenarios: ['group100-json-closed', 'group100-msgpack-closed'], fraction: 0.5 }, quick: false },
]

const selected = (id: string, inQuick: boolean) => (only ? only.includes(id) : !quick || inQuick)
const scenarios = SCENARIOS.filter((s) => selected(s.id, s.quick))
const doIdle = selected('idle', true)
const doRest = selected('rest', true)

const started = performance.now()
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s`
const progress = (line: string) => console.error(`[${elapsed()}] ${line}`)

// ---------------------------------------------------------------------------------------------
// WebSocket scenarios

interface Aggregate extends Counts {
  target: TargetKind
  rounds: number
  deliveredPerSec: number
  serverCpuUsPerDelivery: number
  clientCpuUsPerDelivery: number
  serverRssMB: number
  latencyMs: { p50: number; p99: number; p999: number; max: number }
  ackLatencyMs: { p50: number; p99: number; p999: number; max: number } | null
  delivered: number
  errorCodes: Record<string, number>
  perRound: { deliveredPerSec: number; serverCpuUsPerDelivery: number; serverPageFaultsPerKDelivery: number; p99Ms: number }[]
}

const ms = (h: Histogram, p: number) => h.getValueAtPercentile(p) / 1000
const summary = (h: Histogram) => ({ p50: ms(h, 50), p99: ms(h, 99), p999: ms(h, 99.9), max: h.maxValue / 1000 })

function aggregate(target: TargetKind, rounds: RoundResult[]): Aggregate {
  const latency = newHistogram()
  const ack = newHistogram()
  let seconds = 0, delivered = 0, cpu = 0, clientCpuUs = 0
  const totals = Object.fromEntries(COUNTS.map((k) => [k, 0])) as Counts
  const errorCodes: Record<string, number> = {}
  for (const r of rounds) {
    latency.add(r.latency)
    if (r.ackLatency) ack.add(r.ackLatency)
    seconds += r.seconds
    delivered += r.delivered
    cpu += r.serverCpuSeconds
    clientCpuUs += r.clientCpuUsPerDelivery * r.delivered
    for (const k of COUNTS) totals[k] += r[k]
    for (const [code, n] of Object.entries(r.errorCodes)) errorCodes[code] = (errorCodes[code] ?? 0) + n
  }
  return {
    target,
    rounds: rounds.length,
    deliveredPerSec: delivered / seconds,
    serverCpuUsPerDelivery: (cpu * 1e6) / Math.max(1, delivered),
    clientCpuUsPerDelivery: clientCpuUs / Math.max(1, delivered),
    serverRssMB: Math.max(...rounds.map((r) => r.serverRssBytes)) / 2 ** 20,
    latencyMs: summary(latency),
    ackLatencyMs: target === 'switchboard' ? summary(ack) : null,
    delivered,
    ...totals,
    errorCodes,
    perRound: rounds.map((r) => ({
      deliveredPerSec: r.deliveredPerSec,
      serverCpuUsPerDelivery: r.serverCpuUsPerDelivery,
      serverPageFaultsPerKDelivery: r.serverPageFaultsPerKDelivery,
      p99Ms: ms(r.latency, 99),
    })),
  }
}

interface ScenarioResult {
  id: string
  title: string
  describe: string
  format: Format
  mode: 'closed' | 'open'
  offeredMsgsPerSec?: number
  switchboard: Aggregate
  baseline: Aggregate
  ratio: { deliveredPerSec: number; serverCpuUsPerDelivery: number; p99: number }
  before?: Aggregate
  beforeRatio?: { deliveredPerSec: number; serverCpuUsPerDelivery: number; p99: number }
}

async function populations(sb: ServerProcess, before?: ServerProcess): Promise<Record<TargetKind, Record<string, Population>>> {
  const need = new Set(scenarios.map((s) => s.shape))
  const sbPops: Record<string, Population> = {}
  const basePops: Record<string, Population> = {}
  const beforePops: Record<string, Population> = {}
  for (const shape of need) {
    const { users, senders } = SHAPES[shape]
    if (before) {
      const ids = await createUsers(before, users)
      beforePops[shape] = shape === 'pairs' ? { kind: 'pairs', userIds: ids } : { kind: 'group', userIds: ids, senders, groupId: await createGroup(before, ids) }
    }
    const ids = await createUsers(sb, users)
    if (shape === 'pairs') {
      sbPops[shape] = { kind: 'pairs', userIds: ids }
      basePops[shape] = { kind: 'pairs', userIds: ids.map((_, i) => 100_000 + i) }
    } else {
      sbPops[shape] = { kind: 'group', userIds: ids, senders, groupId: await createGroup(sb, ids) }
      basePops[shape] = { kind: 'group', userIds: ids.map((_, i) => 200_000 + i), senders, groupId: shape === 'group100' ? 1 : 2 }
    }
    progress(`setup: ${users} users${shape === 'pairs' ? '' : ' and their group'} for ${shape}`)
  }
  return { switchboard: sbPops, baseline: basePops, before: beforePops }
}

/**
 * Each server first carries the first scenario's load in both formats, unmeasured. JavaScriptCore
 * keeps compiling hot code for the first 10 to 20 s under load (its JIT threads count as the
 * server's CPU), and Switchboard has far more code than the relay: without this, its first
 * scenario measured 11.6 µs a message in the first two rounds and 9.5 in the next two. What the
 * rounds measure is a server that has been running, as one in production has. Lost, duplicated or
 * reordered messages here are reported like any round's.
 */
async function warmUp(servers: Record<TargetKind, ServerProcess>, targets: TargetKind[], pops: Record<TargetKind, Record<string, Population>>): Promise<void> {
  const shape = scenarios[0].shape
  for (const target of targets)
    for (const format of ['json', 'msgpack'] as const) {
      const spec: LoadSpec = { format, mode: 'closed', window: SHAPES[shape].window, warmupSeconds: profile.jitWarmup, seconds: 0.25 }
      const r = await runRound(servers[target], target, pops[target][shape], spec)
      const bad = r.lost + r.duplicated + r.outOfOrder + r.stale + r.unacked + r.errors
      progress(`warm-up ${target} ${shape} ${format}: ${fmt(r.deliveredPerSec, 0)} deliveries/s (not measured)${bad ? `  !! lost ${r.lost} dup ${r.duplicated} ooo ${r.outOfOrder} stale ${r.stale} unacked ${r.unacked} errors ${r.errors}` : ''}`)
      if (target === 'switchboard') warmUpAnomalies += r.lost + r.duplicated + r.outOfOrder + r.stale
    }
}
/** Switchboard's lost, duplicated, reordered and replayed messages in the warm-up: they count too. */
let warmUpAnomalies = 0

async function runScenarios(): Promise<ScenarioResult[]> {
  if (!scenarios.length) return []
  const sb = await startSwitchboard({}, switchboardDir)
  const relay = await startRelay()
  progress(`started switchboard${switchboardDir ? ` from ${switchboardDir}` : ''} (pid ${sb.pid}) and baseline relay (pid ${relay.pid})`)
  const before = beforeDir ? await startSwitchboard(beforeEnv, beforeDir, 'before') : undefined
  if (before) progress(`started the 'before' build from ${beforeDir} (pid ${before.pid})${option('before-env') ? ` with ${option('before-env')}` : ''}`)
  const servers: Record<TargetKind, ServerProcess> = { switchboard: sb, baseline: relay, before: before! }
  const targetsInRun: TargetKind[] = before ? ['switchboard', 'baseline', 'before'] : ['switchboard', 'baseline']
  const results: ScenarioResult[] = []
  try {
    const pops = await populations(sb, before)
    await warmUp(servers, targetsInRun, pops)
    const totalRounds = scenarios.length * profile.rounds * targetsInRun.length
    let done = 0
    for (const sc of scenarios) {
      const shape = SHAPES[sc.shape]
      let rate: number | undefined
      if (sc.rateOf) {
        const bases = results.filter((r) => sc.rateOf!.scenarios.includes(r.id))
        if (!bases.length) {
          progress(`skip ${sc.id}: needs one of ${sc.rateOf.scenarios.join(', ')} in the same run`)
          done += profile.rounds * targetsInRun.length
          continue
        }
        const perMessage = sc.shape === 'pairs' ? 1 : shape.users - 1
        const max = Math.min(...bases.map((b) => b.baseline.deliveredPerSec))
        rate = Math.round((max * sc.rateOf.fraction) / perMessage)
      }
      const spec: LoadSpec = { format: sc.format, mode: sc.mode, window: shape.window, rate, warmupSeconds: profile.warmup, seconds: profile.seconds }
      const rounds: Record<TargetKind, RoundResult[]> = { switchboard: [], baseline: [], before: [] }
      // A B, then B A: drift over the run falls on both.
      for (let i = 0; i < profile.rounds; i++) {
        const order: TargetKind[] = i % 2 === 0 ? targetsInRun : [...targetsInRun].reverse()
        for (const target of order) {
          const r = await runRound(servers[target], target, pops[target][sc.shape], spec)
          rounds[target].push(r)
          done++
          const bad = r.lost + r.duplicated + r.outOfOrder + r.stale + r.unacked + r.errors
          progress(
            `[${done}/${totalRounds}] ${sc.id} ${target.padEnd(11)} ${fmt(r.deliveredPerSec, 0).padStart(8)} deliveries/s  ` +
              `${fmt(r.serverCpuUsPerDelivery, 2).padStart(6)} µs CPU/delivery  ${fmt(r.serverPageFaultsPerKDelivery, 1).padStart(5)} faults/1k  p99 ${fmt(ms(r.latency, 99), 2)} ms` +
              (bad ? `  !! lost ${r.lost} dup ${r.duplicated} ooo ${r.outOfOrder} stale ${r.stale} unacked ${r.unacked} errors ${r.errors} ${JSON.stringify(r.errorCodes)}` : ''),
          )
        }
      }
      const a = aggregate('switchboard', rounds.switchboard)
      const b = aggregate('baseline', rounds.baseline)
      results.push({
        id: sc.id,
        title: sc.title,
        describe: shape.describe + (sc.mode === 'closed' ? `, ${shape.window} in flight per sender` : `, ${rate} msgs/s offered`),
        format: sc.format,
        mode: sc.mode,
        offeredMsgsPerSec: rate,
        switchboard: a,
        baseline: b,
        ratio: {
          deliveredPerSec: a.deliveredPerSec / b.deliveredPerSec,
          serverCpuUsPerDelivery: a.serverCpuUsPerDelivery / b.serverCpuUsPerDelivery,
          p99: a.latencyMs.p99 / b.latencyMs.p99,
        },
        ...(before ? (() => {
          const c = aggregate('before', rounds.before)
          return { before: c, beforeRatio: { deliveredPerSec: c.deliveredPerSec / b.deliveredPerSec, serverCpuUsPerDelivery: c.serverCpuUsPerDelivery / b.serverCpuUsPerDelivery, p99: c.latencyMs.p99 / b.latencyMs.p99 } }
        })() : {}),
      })
    }
  } finally {
    await sb.stop()
    await relay.stop()
    await before?.stop()
  }
  return results
}

// ---------------------------------------------------------------------------------------------
// Idle connections

interface IdleResult {
  connections: number
  switchboard: { rssBeforeMB: number; rssAfterMB: number; bytesPerConnection: number }
  baseline: { rssBeforeMB: number; rssAfterMB: number; bytesPerConnection: number }
  ratio: number
}

async function idleCost(n: number): Promise<IdleResult> {
  const measure = async (target: TargetKind) => {
    const server = target === 'switchboard' ? await startSwitchboard({}, switchboardDir) : await startRelay()
    try {
      const ids = target === 'switchboard' ? await createUsers(server, n, 64) : Array.from({ length: n }, (_, i) => 300_000 + i)
      if (target === 'switchboard') progress(`idle: created ${n} users`)
      // Warm both servers up with a few connections first, so the figure is per connection, not start-up.
      await closeAll(await openMany(server, target, ids.slice(0, 200).map((userId) => ({ userId, groups: [] })), 'json'))
      await Bun.sleep(1000)
      const before = server.rssBytes()
      const conns = await openMany(server, target, ids.map((userId) => ({ userId, groups: [] })), 'json', 200, (k) =>
        progress(`idle: ${target} ${k}/${n} connections open`),
      )
      // RSS right after 10,000 upgrades still holds their garbage until the collector runs (a 2 s
      // wait showed 6.0 KiB per connection, 15 s 2.9 for the same build): wait for it.
      await Bun.sleep(Number(process.env.BENCH_IDLE_SETTLE_MS ?? 15_000))
      const after = server.rssBytes()
      await closeAll(conns)
      return { rssBeforeMB: before / 2 ** 20, rssAfterMB: after / 2 ** 20, bytesPerConnection: (after - before) / n }
    } finally {
      await server.stop()
    }
  }
  const switchboard = await measure('switchboard')
  const baseline = await measure('baseline')
  progress(`idle: switchboard ${fmt(switchboard.bytesPerConnection / 1024, 1)} KiB/conn, baseline ${fmt(baseline.bytesPerConnection / 1024, 1)} KiB/conn`)
  return { connections: n, switchboard, baseline, ratio: switchboard.bytesPerConnection / baseline.bytesPerConnection }
}

// ---------------------------------------------------------------------------------------------
// REST

async function restBench(): Promise<RestResult[]> {
  const sb = await startSwitchboard({}, switchboardDir)
  const bare = await startHttpBaseline()
  const results: RestResult[] = []
  try {
    const [alice, bob] = await createUsers(sb, 2)
    // A large conversation to page through: stored over the REST send path itself, in parallel.
    const rows = profile.historyRows
    let next = 0
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < rows) {
          next++
          const res = await fetch(`${sb.httpUrl}/messages`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ sender_id: next % 2 ? alice : bob, recipient_id: next % 2 ? bob : alice, message: `history message ${next}` }),
          })
          if (res.status !== 201) throw new Error(`seeding history: ${res.status} ${await res.text()}`)
        }
      }),
    )
    progress(`rest: stored a conversation of ${rows} messages`)
    const middle = Math.floor(rows / 2)
    const post = { method: 'POST' as const, body: { sender_id: alice, recipient_id: bob, message: 'hello over REST' }, seconds: profile.restSeconds }
    const get = { method: 'GET' as const, seconds: profile.restSeconds }
    const history = `/messages?user_id=${alice}&other_user_id=${bob}&limit=50&before=${middle}`
    for (const [server, route, opts] of [
      [sb, '/messages', post],
      [bare, '/messages', post],
      [bare, `/messages?before=${middle}`, get],
      [sb, history, get],
    ] as const) {
      const r = await autocannon(server, route, opts)
      results.push(r)
      progress(`rest: ${r.target.padEnd(11)} ${r.route.padEnd(14)} ${fmt(r.requestsPerSec, 0).padStart(7)} req/s  p99 ${r.latencyMs.p99} ms  ${fmt(r.serverCpuUsPerRequest, 1)} µs CPU/req${r.non2xx ? `  !! non-2xx ${r.non2xx}` : ''}`)
    }
  } finally {
    await sb.stop()
    await bare.stop()
  }
  return results
}

// ---------------------------------------------------------------------------------------------
// Report

function fmt(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : String(n)
}

function machine() {
  const info = cpus()
  return {
    nproc: info.length,
    cpuModel: info[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    bunVersion: Bun.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    shared: 'This machine is shared with other sessions running tests; only same-run ratios are meaningful.',
  }
}

interface Target {
  name: string
  value: number
  limit: string
  met: boolean
}

function targets(ws: ScenarioResult[], idle: IdleResult | null): Target[] {
  const t: Target[] = []
  const by = (id: string) => ws.find((r) => r.id === id)
  for (const id of ['pairs-json-closed', 'pairs-msgpack-closed']) {
    const r = by(id)
    if (!r) continue
    t.push({ name: `${id}: delivered/s ÷ baseline`, value: r.ratio.deliveredPerSec, limit: '≥ 0.75', met: r.ratio.deliveredPerSec >= 0.75 })
    t.push({ name: `${id}: server CPU/msg ÷ baseline`, value: r.ratio.serverCpuUsPerDelivery, limit: '≤ 1.6', met: r.ratio.serverCpuUsPerDelivery <= 1.6 })
    t.push({ name: `${id}: messages never confirmed`, value: r.switchboard.unacked, limit: '= 0', met: r.switchboard.unacked === 0 })
  }
  for (const id of ['group100-json-closed', 'group100-msgpack-closed', 'group1000-json-closed', 'group1000-msgpack-closed']) {
    const r = by(id)
    if (r) t.push({ name: `${id}: deliveries/s ÷ baseline`, value: r.ratio.deliveredPerSec, limit: '≥ 0.8', met: r.ratio.deliveredPerSec >= 0.8 })
  }
  for (const r of ws.filter((x) => x.mode === 'open'))
    t.push({ name: `${r.id}: p99 ÷ baseline p99`, value: r.ratio.p99, limit: '≤ 2', met: r.ratio.p99 <= 2 })
  // Compared at the same offered rate (open loop): CPU per message depends on the rate, since
  // more messages per read and per write at a higher rate cost less each.
  for (const shape of ['pairs', 'group100']) {
    const j = by(`${shape}-json-open`)
    const m = by(`${shape}-msgpack-open`)
    if (j && m) {
      const v = m.switchboard.serverCpuUsPerDelivery / j.switchboard.serverCpuUsPerDelivery
      t.push({ name: `${shape} open-loop, same rate: Switchboard CPU/msg MessagePack ÷ JSON`, value: v, limit: '≤ 1.0', met: v <= 1.0 })
    }
  }
  if (idle) t.push({ name: `idle memory per connection ÷ baseline (${idle.connections} conns)`, value: idle.ratio, limit: '≤ 2', met: idle.ratio <= 2 })
  const anomalies = ws.reduce((n, r) => n + r.switchboard.lost + r.switchboard.duplicated + r.switchboard.outOfOrder + r.switchboard.stale, warmUpAnomalies)
  if (ws.length) t.push({ name: 'lost + duplicated + reordered + replayed (Switchboard, all runs)', value: anomalies, limit: '= 0', met: anomalies === 0 })
  return t
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)))
  const line = (r: string[]) => `| ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join(' | ')} |`
  return [line(rows[0]), `|${widths.map((w, c) => (c === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|')}|`, ...rows.slice(1).map(line)].join('\n')
}

function render(ws: ScenarioResult[], idle: IdleResult | null, rest: RestResult[], tgts: Target[]): string {
  const out: string[] = []
  if (ws.length) {
    const rows = [['scenario', 'server', 'deliveries/s', '× base', 'CPU µs/deliv', '× base', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'RSS MB', 'lost/dup/ooo', 'client µs/deliv']]
    for (const r of ws) {
      for (const a of [r.switchboard, r.baseline, ...(r.before ? [r.before] : [])]) {
        const isSb = a.target === 'switchboard'
        const ratio = a.target === 'switchboard' ? r.ratio : a.target === 'before' ? r.beforeRatio : undefined
        rows.push([
          isSb ? r.title : '',
          a.target,
          fmt(a.deliveredPerSec, 0),
          ratio ? fmt(ratio.deliveredPerSec, 2) : '',
          fmt(a.serverCpuUsPerDelivery, 2),
          ratio ? fmt(ratio.serverCpuUsPerDelivery, 2) : '',
          fmt(a.latencyMs.p50, 2),
          fmt(a.latencyMs.p99, 2),
          fmt(a.latencyMs.p999, 2),
          fmt(a.latencyMs.max, 1),
          fmt(a.serverRssMB, 0),
          `${a.lost}/${a.duplicated}/${a.outOfOrder}`,
          fmt(a.clientCpuUsPerDelivery, 2),
        ])
      }
    }
    out.push(table(rows))
    const acks = ws.filter((r) => r.switchboard.ackLatencyMs && r.id.startsWith('pairs'))
    if (acks.length)
      out.push('', 'Switchboard confirmation (message_sent, after commit) latency: ' + acks.map((r) => `${r.id} p50 ${fmt(r.switchboard.ackLatencyMs!.p50, 2)} / p99 ${fmt(r.switchboard.ackLatencyMs!.p99, 2)} ms`).join('; '))
  }
  if (idle) {
    out.push('')
    out.push(table([
      ['idle connections', 'RSS before MB', `RSS at ${idle.connections} MB`, 'KiB per connection', '× base'],
      ['switchboard', fmt(idle.switchboard.rssBeforeMB, 0), fmt(idle.switchboard.rssAfterMB, 0), fmt(idle.switchboard.bytesPerConnection / 1024, 1), fmt(idle.ratio, 2)],
      ['baseline', fmt(idle.baseline.rssBeforeMB, 0), fmt(idle.baseline.rssAfterMB, 0), fmt(idle.baseline.bytesPerConnection / 1024, 1), ''],
    ]))
  }
  if (rest.length) {
    out.push('')
    out.push(table([['REST (autocannon)', 'route', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'CPU µs/req', 'non-2xx'],
      ...rest.map((r) => [r.target, r.route, fmt(r.requestsPerSec, 0), String(r.latencyMs.p50), String(r.latencyMs.p99), String(r.latencyMs.max), fmt(r.serverCpuUsPerRequest, 1), String(r.non2xx + r.errors)])]))
  }
  if (tgts.length) {
    out.push('')
    out.push(table([['target', 'value', 'limit', 'met'], ...tgts.map((t) => [t.name, fmt(t.value, 2), t.limit, t.met ? 'yes' : 'NO'])]))
  }
  return out.join('\n')
}

// ---------------------------------------------------------------------------------------------

const command = `bun bench/run.ts ${argv.join(' ')}`.trim()
const info = machine()
progress(`${quick ? 'quick' : 'full'} run on ${info.nproc} × ${info.cpuModel}, Bun ${info.bunVersion}, load average ${info.loadAverageAtStart.join(' ')} (shared machine)`)
const ws = await runScenarios()
const idle = doIdle ? await idleCost(profile.idleConnections) : null
const rest = doRest ? await restBench() : []
const tgts = targets(ws, idle)
const header = `${command} — ${new Date().toISOString()} — ${info.nproc} × ${info.cpuModel}, ${info.memoryGiB} GiB, Bun ${info.bunVersion}, load average at start ${info.loadAverageAtStart.join(' ')}, at end ${loadavg().map((x) => x.toFixed(2)).join(' ')} (shared machine: other sessions ran tests meanwhile; compare only within this run)\n\n`
const text = header + render(ws, idle, rest, tgts)
console.log(text)

const loadAverageAtEnd = loadavg().map((x) => Math.round(x * 100) / 100)
progress(`load average at the end: ${loadAverageAtEnd.join(' ')} (on ${info.nproc} cores; above that, other work shared the CPUs)`)
const result = { command, profile: quick ? 'quick' : 'full', date: new Date().toISOString(), durationSeconds: Math.round((performance.now() - started) / 1000), machine: { ...info, loadAverageAtEnd }, scenarios: ws, idle, rest, targets: tgts, table: text }
const dir = join(import.meta.dir, 'results')
mkdirSync(dir, { recursive: true })
const file = join(dir, `${result.date.replace(/[:.]/g, '-')}-${result.profile}.json`)
writeFileSync(file, JSON.stringify(result, null, 2))
if (flag('reference')) writeFileSync(join(dir, 'reference.json'), JSON.stringify(result, null, 2))
progress(`wrote ${file}${flag('reference') ? ' and bench/results/reference.json' : ''}`)
