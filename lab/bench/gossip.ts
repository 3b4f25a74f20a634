/**
 * `npm run bench:gossip`: how fast heliotrope's gossip carries a traffic
 * digest to every agent, what it costs, and the same dissemination with
 * HashiCorp Serf as the reference.
 *
 * For 8, 16, 32 and 64 agents on this machine:
 *  - heliotrope: real agents over TCP on [::1], each in a process of its
 *    own as on real hosts, at most MAX_AGENT_PROCESSES processes (several agents per
 *    process above that), or all in one with --layout one-process; at least
 *    MEASURE_MS of rounds: digest publish -> last agent's arrival (p50/p99),
 *    loopback bytes, CPU and RSS per agent, and round start -> plan accepted
 *    by every agent;
 *  - Serf: N agents on 127.0.0.1, SERF_EVENTS user events sent through agent
 *    0's RPC; an event handler on every agent stamps arrivals.
 *
 * As root, everything runs in a network namespace of its own (htgossip-*),
 * so the loopback byte counters count our agents alone; the namespace, and
 * any process left in it, is removed at the end, also on Ctrl-C. Without
 * root it runs on the shared loopback and reports no bytes. Serf is
 * installed with apt-get when missing (as root). About 10-15 minutes; sizes
 * are skipped once BUDGET_MS has passed.
 *
 *   npm run bench:gossip [-- --sizes 8,16] [--layout processes|one-process] [--dissemination flood|tiered] [--dht-servers-per-dc K] [--no-write]
 */
import { spawn, spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { defaultPeriodMs } from '../sim/run.ts'
import { DISSEMINATIONS, type Dissemination } from '../../agent/config.ts'
import { MAX_AGENT_PROCESSES, type HeliotropeResult, type Layout } from './gossip/heliotrope.ts'
import { canUseNetns, createNetns, deleteNetns, inNetns } from './gossip/netns.ts'
import { failures, heliotropeTable, serfTable, type SizeResult } from './gossip/report.ts'
import { killSerfs, runSerf, serfAvailable } from './gossip/serf.ts'
import { percentile } from '../sim/stats.ts'
import { NO_WRITE_FLAG, startBenchReport } from './report.ts'

/** Writes the measuring process's output into docs/benchmarks.md at the end (--no-write: not). */
const report = startBenchReport('gossip', { internalArgs: ['--inside-netns'] })

const SIZES = [8, 16, 32, 64]
/** Rounds per size: enough to cover MEASURE_MS, at least MIN_ROUNDS (the period grows with the size). */
const MEASURE_MS = 30_000
const MIN_ROUNDS = 3
const SERF_EVENTS = 30
const SERF_EVENT_GAP_MS = 300
const SERF_SETTLE_MS = 10_000
/** Whole-bench budget: sizes not started by then are skipped. */
const BUDGET_MS = 20 * 60_000
/** Starting a heliotrope child's agents may take this much, plus so much per agent. */
const CHILD_BASE_TIMEOUT_MS = 90_000
const CHILD_PER_AGENT_TIMEOUT_MS = 4_000
/** Every agent sees every other after one round at most (state is republished each round); plus slack. */
const READY_SLACK_MS = 30_000
const SERF_JOIN_TIMEOUT_MS = 60_000
const APT_TIMEOUT_MS = 300_000
const HELIOTROPE_CHILD = fileURLToPath(new URL('./gossip/heliotrope.ts', import.meta.url))
const SELF = fileURLToPath(import.meta.url)
const INSIDE_FLAG = '--inside-netns'

const { values } = parseArgs({ options: { sizes: { type: 'string' }, layout: { type: 'string', default: 'processes' }, dissemination: { type: 'string', default: 'flood' }, 'dht-servers-per-dc': { type: 'string' }, 'agents-per-process': { type: 'string' }, 'inside-netns': { type: 'boolean' } }, strict: true })
const dissemination = values.dissemination as Dissemination
const dhtServersPerDc = values['dht-servers-per-dc']
if (dhtServersPerDc !== undefined && !(Number.isInteger(Number(dhtServersPerDc)) && Number(dhtServersPerDc) >= 1)) throw new Error(`--dht-servers-per-dc: an integer >= 1; got ${dhtServersPerDc}`)
const agentsPerProcess = values['agents-per-process']
if (agentsPerProcess !== undefined && !(Number.isInteger(Number(agentsPerProcess)) && Number(agentsPerProcess) >= 1)) throw new Error(`--agents-per-process: an integer >= 1; got ${agentsPerProcess}`)
if (!DISSEMINATIONS.includes(dissemination)) throw new Error(`--dissemination: one of ${DISSEMINATIONS.join(', ')}; got ${values.dissemination}`)
const LAYOUTS: readonly Layout[] = ['processes', 'one-process']
const layout = values.layout as Layout
if (!LAYOUTS.includes(layout)) throw new Error(`--layout: one of ${LAYOUTS.join(', ')}; got ${values.layout}`)
const sizes = values.sizes === undefined ? SIZES : values.sizes.split(',').map(Number)
if (sizes.some(n => !Number.isInteger(n) || n < 2)) throw new Error(`--sizes: integers >= 2, comma-separated; got ${values.sizes}`)

if (values['inside-netns'] === true) {
  process.exitCode = await measureAll(true)
} else {
  installSerf()
  if (canUseNetns()) {
    process.exitCode = await inOwnNetns()
  } else {
    process.stdout.write('not root or no `ip netns`: running on the shared loopback, without byte counts\n')
    process.exitCode = await measureAll(false)
  }
}

/** Re-runs this script inside a fresh namespace and removes the namespace (and anything left in it) afterwards. */
async function inOwnNetns (): Promise<number> {
  const ns = `htgossip-${process.pid.toString(36)}`
  const cleanup = (): void => {
    // Everything in the namespace is ours: it was made for this run.
    const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', timeout: 10_000 }).stdout ?? ''
    for (const pid of pids.split('\n').map(Number).filter(p => p > 0)) { try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ } }
    deleteNetns(ns)
  }
  createNetns(ns)
  const [cmd, ...args] = inNetns(ns, [process.execPath, ...process.execArgv, SELF, INSIDE_FLAG, '--sizes', sizes.join(','), '--layout', layout, '--dissemination', dissemination, ...(dhtServersPerDc === undefined ? [] : ['--dht-servers-per-dc', dhtServersPerDc]), ...(report.writes ? [] : [NO_WRITE_FLAG])])
  const child = spawn(cmd!, args, { stdio: 'inherit' })
  const onSignal = (): void => { child.kill('SIGTERM') }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    return await new Promise<number>(resolve => child.once('exit', (code, signal) => resolve(code ?? (signal !== null ? 1 : 0))))
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    cleanup()
  }
}

function installSerf (): void {
  if (serfAvailable()) return
  if (process.getuid?.() !== 0) { process.stdout.write('serf is not installed (apt-get install serf as root): the Serf columns will be empty\n'); return }
  process.stdout.write('installing serf with apt-get\n')
  const r = spawnSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq serf'], { stdio: 'inherit', timeout: APT_TIMEOUT_MS })
  if (r.status !== 0) process.stdout.write('apt-get install serf failed: the Serf columns will be empty\n')
}

async function measureAll (countBytes: boolean): Promise<number> {
  const started = Date.now()
  const dir = await mkdtemp(join(tmpdir(), 'htgossip-'))
  let child: ReturnType<typeof spawn> | undefined
  const onSignal = (): void => { killSerfs(); child?.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }); process.exit(130) }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const rows: SizeResult[] = []
  const haveSerf = serfAvailable()
  try {
    process.stdout.write(`bench:gossip: sizes ${sizes.join(', ')}; load average ${loadavg().map(x => x.toFixed(1)).join(' ')}\n`)
    for (const n of sizes) {
      if (Date.now() - started > BUDGET_MS) { process.stdout.write(`${n} agents: skipped, past the ${BUDGET_MS / 60_000} minute budget\n`); continue }
      const row: SizeResult = { agents: n, load: [loadavg()[0]!, 0] }
      const periodMs = defaultPeriodMs(n)
      const rounds = Math.max(MIN_ROUNDS, Math.ceil(MEASURE_MS / periodMs))
      const out = join(dir, `heliotrope-${n}.json`)
      const readyTimeoutMs = periodMs + READY_SLACK_MS
      const timeoutMs = CHILD_BASE_TIMEOUT_MS + n * CHILD_PER_AGENT_TIMEOUT_MS + readyTimeoutMs + (rounds + 3) * periodMs
      try {
        child = spawn(process.execPath, [...process.execArgv, HELIOTROPE_CHILD, String(n), String(periodMs), String(rounds), out, countBytes ? 'bytes' : 'nobytes', String(readyTimeoutMs), layout, dissemination, dhtServersPerDc ?? '-', ...(agentsPerProcess === undefined ? [] : [agentsPerProcess])], { stdio: ['ignore', 'inherit', 'inherit'] })
        const proc = child
        const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs)
        const code = await new Promise<number | null>(resolve => proc.once('exit', c => resolve(c)))
        clearTimeout(timer)
        if (code !== 0) throw new Error(`exit ${code ?? 'by signal (timeout?)'}`)
        row.heliotrope = JSON.parse(await readFile(out, 'utf8')) as HeliotropeResult
        const h = row.heliotrope
        process.stdout.write(`${n} agents, heliotrope: digest p50 ${percentile(h.latencies, 50)} ms, p99 ${percentile(h.latencies, 99)} ms (${h.latencies.length} digests, ${h.incomplete} short${h.readyMs === undefined ? '; never saw every member live' : ''})\n`)
        // Where the tail comes from: a straggler agent (median low, last high) or everyone late.
        for (const d of h.slowest.slice(0, 3)) process.stdout.write(`  slow: ${d.host}'s digest of round ${d.round}, out ${(d.sentInRoundMs / 1000).toFixed(1)} s into it: half the agents had it after ${d.medianMs} ms, all after ${d.lastMs} ms (last: ${d.lastHost})\n`)
      } catch (err) {
        row.heliotropeError = (err as Error).message
        process.stdout.write(`${n} agents, heliotrope failed: ${row.heliotropeError}\n`)
      }
      if (haveSerf) {
        try {
          row.serf = await runSerf({ agents: n, events: SERF_EVENTS, gapMs: SERF_EVENT_GAP_MS, dir: join(dir, `serf-${n}`), joinTimeoutMs: SERF_JOIN_TIMEOUT_MS, settleMs: SERF_SETTLE_MS, countBytes })
          process.stdout.write(`${n} agents, serf: p50 ${percentile(row.serf.latencies, 50).toFixed(0)} ms, p99 ${percentile(row.serf.latencies, 99).toFixed(0)} ms (${row.serf.latencies.length} events, ${row.serf.missing} short)\n`)
        } catch (err) {
          row.serfError = (err as Error).message
          process.stdout.write(`${n} agents, serf failed: ${row.serfError}\n`)
        }
      } else {
        row.serfError = 'serf not installed'
      }
      row.load[1] = loadavg()[0]!
      rows.push(row)
    }
  } finally {
    killSerfs()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await rm(dir, { recursive: true, force: true })
  }
  process.stdout.write(`\nheliotrope: N agents, ${dissemination}${dhtServersPerDc === undefined ? '' : `, ${dhtServersPerDc} DHT servers per DC`}, ${layout === 'one-process' ? 'all in one process' : agentsPerProcess === undefined ? `spread over ${MAX_AGENT_PROCESSES} processes at most` : `${agentsPerProcess} per process`}, TCP on [::1], the lab sim's round period for the size, ${MEASURE_MS / 1000} s of rounds or ${MIN_ROUNDS} (digest: publish at the sender -> arrival at the last agent; plan-all: round start -> plan accepted by every agent; wire: loopback bytes incl. TCP/IP headers)\n`)
  process.stdout.write(heliotropeTable(rows))
  process.stdout.write(`\nSerf ${SERF_EVENTS} user events per size, ${SERF_EVENT_GAP_MS} ms apart, sent with \`serf event\` to agent 0 (p50/p99: CLI start -> last handler stamp; from origin: agent 0's own handler stamp -> last)\n`)
  process.stdout.write(serfTable(rows))
  process.stdout.write(failures(rows))
  process.stdout.write(`\nload average at the end: ${loadavg().map(x => x.toFixed(1)).join(' ')} (${Math.round((Date.now() - started) / 1000)} s in all)\n`)
  await report.done()
  return rows.every(r => r.heliotrope !== undefined) ? 0 : 1
}
