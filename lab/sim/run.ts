/**
 * The logic of `heliotrope lab sim`: N real agents on a scenario world, in
 * this process or spread over child processes (`processes`), R rounds
 * watched from the outside, one progress line per round and a summary.
 * Sized for hundreds of agents on two cores: the
 * connection monitor is off (its pings queue behind CPU-bound work and cut
 * healthy links), agents start in batches behind a few seeds, and all of
 * them read one in-memory copy of the world.
 */
import type { Agent } from '../../agent/agent.ts'
import type { Dissemination } from '../../agent/config.ts'
import { planDeadlineMs, roundAt, roundStartMs, type RoundTiming } from '../../lib/rounds.ts'
import type { ScenarioKind } from '../../lib/scenario.ts'
import { startCluster, type SimCluster, type SimTransport } from './cluster.ts'
import { ClusterObserver } from './observe.ts'
import { startObservedProcessCluster } from './process-cluster.ts'
import { ResourceMeter, type ResourceUse } from './resources.ts'
import { worldFromScenario } from './scenario-world.ts'
import { fixed, mean, percentile, seconds } from './stats.ts'
import { definedOnly } from '../../lib/defined.ts'

export const DEFAULT_SIM_ROUNDS = 5
export const DEFAULT_VMS_PER_AGENT = 4
/**
 * The default round period grows with the square of the cluster: every agent
 * receives every agent's messages each round, each several times over the
 * gossip mesh, and verifies every copy's signature (gossipsub checks
 * signatures before it drops duplicates), all on this process's one thread.
 * Measured: 32 agents at 10 s used 86% of a core and took 5 s to spread a
 * plan; 16 agents at 10 s, 41% and 0.7 s.
 */
export const DEFAULT_PERIOD_MS_PER_AGENT_SQUARED = 10
export const MIN_DEFAULT_PERIOD_MS = 5_000
export const DEFAULT_SIM_TRANSPORT: SimTransport = 'memory'
/** Agents started at once after the seeds. */
export const DEFAULT_START_BATCH = 10
export const DEFAULT_SEEDS = 4
export const DEFAULT_READY_TIMEOUT_MS = 180_000
const POLL_MS = 100
/** While waiting for every agent to see every other, say how far it got this often. */
const READY_REPORT_MS = 30_000

export function defaultPeriodMs (agents: number): number {
  return Math.max(MIN_DEFAULT_PERIOD_MS, Math.round(agents * agents * DEFAULT_PERIOD_MS_PER_AGENT_SQUARED / 1000) * 1000)
}

export interface SimRunOptions {
  agents: number
  rounds?: number
  periodMs?: number
  vms?: number
  transport?: SimTransport
  dcs?: number
  seed?: number
  kind?: ScenarioKind
  planner?: Record<string, unknown>
  batchSize?: number
  seeds?: number
  /** Spread the agents over this many child processes (TCP only); default 0: all in this process. */
  processes?: number
  /** How the agents' messages travel (config `dissemination`); default flood. */
  dissemination?: Dissemination
  /** Members per DC that serve the DHT (config `dhtServersPerDc`); default every agent. */
  dhtServersPerDc?: number
  readyTimeoutMs?: number
  /** Stops waiting (once the agents are up) and returns the rounds told so far. */
  signal?: AbortSignal
  /** Gets the result before the agents are stopped (stopping hundreds of busy agents can take a minute). */
  onResult?: (result: SimRunResult) => void
  /** Where progress lines go; default stdout. */
  out?: (line: string) => void
}

export interface RoundSummary {
  round: number
  planner?: string
  rank?: number
  costBefore?: number
  costAfter?: number
  moves?: number
  acceptedBy: number
  /** Every agent accepted the same planner's same moves. */
  agreed: boolean
  /** Round start to the plan accepted by the last agent; undefined unless all accepted. */
  roundMs?: number
  /** Round start to the accepted planner sending its plan (planning ends there; spreading it follows). */
  planSentMs?: number
  msgsOutPerAgent: number
  msgsInPerAgent: number
  /** Messages dropped by all agents during the round, by reason. */
  drops: Record<string, number>
  /** Agents that accepted no plan this round, by their DC (where a partial round lost its hosts). */
  missingByDc?: Record<string, number>
}

export interface SimRunResult {
  agents: number
  /** Agents that were up when the run ended (fewer than `agents` when stopped while starting). */
  up: number
  vms: number
  transport: SimTransport
  /** Child processes the agents ran in; 0: this one. */
  processes: number
  periodMs: number
  /** First agent starting to the last one up. */
  startMs: number
  /** First agent starting to every agent seeing every member live; undefined on timeout. */
  readyMs?: number
  rounds: RoundSummary[]
  use: ResourceUse
}

/** The running agents, wherever they run: what a run reads from them. */
interface SimAgents {
  /** Child processes the agents run in; 0: this one. */
  processes: number
  timing: RoundTiming
  observer: ClusterObserver
  /** How many agents see every member live. */
  seeingAll (): Promise<number>
  summarize (round: number, startMs: number): RoundSummary
  /** CPU and memory of every process the agents run in, this one included. */
  use (): Promise<ResourceUse>
  close (): Promise<void>
}

export async function runSim (opts: SimRunOptions): Promise<SimRunResult> {
  const out = opts.out ?? ((line: string) => { process.stdout.write(line + '\n') })
  const n = opts.agents
  const rounds = opts.rounds ?? DEFAULT_SIM_ROUNDS
  const periodMs = opts.periodMs ?? defaultPeriodMs(n)
  const vms = opts.vms ?? n * DEFAULT_VMS_PER_AGENT
  const processes = opts.processes ?? 0
  // The in-memory transport connects agents of one process only.
  const transport = processes > 0 ? 'tcp' : opts.transport ?? DEFAULT_SIM_TRANSPORT
  const world = worldFromScenario({ agents: n, vms, ...definedOnly({ dcs: opts.dcs, seed: opts.seed, kind: opts.kind }) })
  const meter = new ResourceMeter()
  const t0 = Date.now()
  const told = (r: SimRunResult): SimRunResult => { opts.onResult?.(r); return r }
  const step = Math.max(1, Math.round(n / 10))
  out(`starting ${n} agents (${transport}, ${vms} VMs, ${world.topology.dcs.length} DCs, round ${periodMs} ms${processes > 0 ? `, ${Math.min(processes, n)} processes` : ''})`)
  const spec = {
    ...world,
    cluster: 'sim',
    transport,
    roundPeriodMs: periodMs,
    ...definedOnly({ planner: opts.planner }),
    connectionMonitor: false,
    seeds: opts.seeds ?? DEFAULT_SEEDS,
    batchSize: opts.batchSize ?? DEFAULT_START_BATCH,
    ...definedOnly({ signal: opts.signal, dissemination: opts.dissemination, dhtServersPerDc: opts.dhtServersPerDc })
  }
  let sim: SimAgents | undefined
  let up = 0
  const onStarted = (started: number, total: number): void => {
    up = started
    if (started % step === 0 || started === total) out(`  ${started}/${total} agents up after ${seconds(Date.now() - t0, 1)} s, RSS ${(process.memoryUsage.rss() / 2 ** 30).toFixed(2)} GiB${processes > 0 ? ' (this process)' : ''}`)
  }
  try {
    try {
      sim = processes > 0
        ? await inProcesses(spec, n, processes, meter, onStarted)
        : await inThisProcess(spec, n, meter, onStarted)
    } catch (err) {
      if (opts.signal?.aborted !== true) throw err
      out(`stopped while starting, with ${up}/${n} agents up`)
      return told({ agents: n, up, vms, transport, processes, periodMs, startMs: Date.now() - t0, rounds: [], use: meter.read() })
    }
    const startMs = Date.now() - t0
    const { timing, observer } = sim

    const readyTimeoutMs = opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS
    // Tiered: only aggregators hold the whole view; one of them seeing every member is the cluster formed.
    const needed = opts.dissemination === 'tiered' ? 1 : n
    const readyMs = await waitReady(sim, n, needed, readyTimeoutMs, out, opts.signal) ? Date.now() - t0 : undefined
    out(readyMs !== undefined ? `ready: ${needed === n ? 'every agent sees' : 'an aggregator sees'} ${n} live members after ${seconds(readyMs, 1)} s` : `not ready after ${seconds(readyTimeoutMs, 0)} s: going on anyway`)

    const first = roundAt(Date.now(), timing) + 1
    const summaries: RoundSummary[] = []
    // A function, not a property read: the compiler would narrow the property across the awaits.
    const stopped = (): boolean => opts.signal?.aborted === true
    for (let r = first; r < first + rounds && !stopped(); r++) {
      // A round is told once it is over and its plan is in everywhere, or can no longer come.
      for (;;) {
        const now = Date.now()
        const all = observer.tally(r).accepted.size >= n
        if (stopped() || (now >= roundStartMs(r + 1, timing) && (all || now >= planDeadlineMs(r + 1, 0, timing)))) break
        await sleep(POLL_MS)
      }
      if (stopped()) { out(`stopped during round ${r}`); break }
      const s = sim.summarize(r, roundStartMs(r, timing))
      summaries.push(s)
      out(progressLine(s, n))
    }
    return told({ agents: n, up: n, vms, transport, periodMs, startMs, ...definedOnly({ readyMs }), processes: sim.processes, rounds: summaries, use: await sim.use() })
  } finally {
    await sim?.close()
    meter.stop()
  }
}

type SimSpec = Parameters<typeof startCluster>[0]

/** Every agent in this process: agreement is read from the agents' own round records. */
async function inThisProcess (spec: SimSpec, n: number, meter: ResourceMeter, onStarted: (started: number, total: number) => void): Promise<SimAgents> {
  const cluster: SimCluster = await startCluster({ ...spec, sharedWorld: true, onStarted: (_agent, started, total) => { onStarted(started, total) } })
  const agents = [...cluster.agents.values()]
  const timing = agents[0]!.timing
  const observer = new ClusterObserver(timing)
  observer.watch(agents)
  return {
    processes: 0,
    timing,
    observer,
    seeingAll: async () => {
      const now = Date.now()
      return agents.filter(a => a.view.live(now).length === n).length
    },
    summarize: (round, startMs) => summarize(round, agents, observer, startMs, spec.hosts),
    use: async () => meter.read(),
    close: async () => { observer.close(); await cluster.close() }
  }
}

/** Agents in child processes: agreement is read from the planner each one accepted, as its events tell. */
async function inProcesses (spec: SimSpec, n: number, processes: number, meter: ResourceMeter, onStarted: (started: number, total: number) => void): Promise<SimAgents> {
  const { cluster, observer } = await startObservedProcessCluster({
    ...spec,
    agentsPerProcess: Math.ceil(n / processes),
    onStartedRemote: (_host, started, total) => { onStarted(started, total) }
  })
  return {
    processes: cluster.processes,
    timing: observer.timing,
    observer,
    // The agent that sees the fewest tells: all or none (enough for "ready").
    seeingAll: async () => await cluster.minLive() >= n ? n : await cluster.maxLive() >= n ? 1 : 0,
    summarize: (round, startMs) => summarizeFromEvents(round, n, observer, startMs, spec.hosts),
    use: async () => {
      const own = meter.read()
      const groups = await cluster.usage()
      return { ...own, cpuMs: own.cpuMs + groups.cpuMs, peakRssBytes: own.peakRssBytes + groups.peakRssBytes }
    },
    close: async () => { await cluster.close() }
  }
}

async function waitReady (sim: SimAgents, n: number, needed: number, timeoutMs: number, out: (line: string) => void, signal: AbortSignal | undefined): Promise<boolean> {
  const start = Date.now()
  let reported = start
  while (Date.now() < start + timeoutMs && signal?.aborted !== true) {
    const now = Date.now()
    const seeAll = await sim.seeingAll()
    if (seeAll >= needed) return true
    if (now - reported >= READY_REPORT_MS) {
      reported = now
      out(`  ${seeAll}/${n} agents see every member live after ${seconds(now - start, 0)} s more`)
    }
    await sleep(POLL_MS * 5)
  }
  return false
}

function summarize (round: number, agents: Agent[], observer: ClusterObserver, startMs: number, hosts: readonly SimHost[]): RoundSummary {
  const tally = observer.tally(round)
  const records = agents.map(a => a.rounds.get(round))
  const first = records.find(r => r?.planner !== undefined)
  const key = (r: typeof first): string => JSON.stringify([r?.planner, r?.plan?.moves])
  const agreed = first !== undefined && records.every(r => key(r) === key(first))
  return {
    round,
    ...definedOnly({ planner: first?.planner, rank: first?.rank }),
    ...(first?.plan !== undefined ? { costBefore: first.plan.initialCost, costAfter: first.plan.finalCost, moves: first.plan.moves.length } : {}),
    ...counts(tally, agents.length, startMs, hosts),
    agreed
  }
}

/** The same summary from events alone: every agent accepted a plan, all from the same planner (which sends one plan per round). */
function summarizeFromEvents (round: number, n: number, observer: ClusterObserver, startMs: number, hosts: readonly SimHost[]): RoundSummary {
  const tally = observer.tally(round)
  const from = [...tally.acceptedFrom.values()]
  const first = from[0]
  const plan = first === undefined ? undefined : tally.plans.get(first.planner)
  return {
    round,
    ...(first !== undefined ? { planner: first.planner, rank: first.rank } : {}),
    ...(plan !== undefined ? { costBefore: plan.initialCost, costAfter: plan.finalCost, moves: plan.moves } : {}),
    ...counts(tally, n, startMs, hosts),
    agreed: first !== undefined && from.length === n && from.every(f => f.planner === first.planner)
  }
}

type SimHost = SimSpec['hosts'][number]

function counts (tally: ReturnType<ClusterObserver['tally']>, n: number, startMs: number, hosts: readonly SimHost[]): Omit<RoundSummary, 'round' | 'agreed'> {
  const all = tally.accepted.size >= n
  const missingByDc: Record<string, number> = {}
  for (const h of hosts) if (!tally.accepted.has(h.host)) missingByDc[h.dc] = (missingByDc[h.dc] ?? 0) + 1
  const planner = [...tally.acceptedFrom.values()][0]?.planner
  const sent = planner === undefined ? undefined : tally.planSentMs.get(planner)
  return {
    ...(sent !== undefined ? { planSentMs: sent - startMs } : {}),
    acceptedBy: tally.accepted.size,
    ...(all ? { roundMs: Math.max(...tally.accepted.values()) - startMs } : {}),
    msgsOutPerAgent: tally.published / n,
    msgsInPerAgent: tally.received / n,
    drops: Object.fromEntries(tally.drops),
    ...(all ? {} : { missingByDc })
  }
}

export function progressLine (s: RoundSummary, n: number): string {
  const plan = s.planner === undefined
    ? 'no plan'
    : `planner ${s.planner} (rank ${s.rank ?? '?'})  cost ${fixed(s.costBefore ?? NaN, 4)} -> ${fixed(s.costAfter ?? NaN, 4)}  moves ${s.moves ?? 0}`
  const drops = Object.entries(s.drops).map(([reason, count]) => `${reason} ${count}`).join(', ')
  const missing = Object.entries(s.missingByDc ?? {}).map(([dc, count]) => `${dc} ${count}`).join(', ')
  return `round ${s.round}  ${plan}  ${s.planSentMs !== undefined ? `sent +${seconds(s.planSentMs)} s  ` : ''}accepted ${s.acceptedBy}/${n}${s.roundMs !== undefined ? ` at +${seconds(s.roundMs)} s` : ''}${missing === '' ? '' : ` (none in ${missing})`}${s.agreed ? '' : '  DISAGREE'}  msgs/agent out ${fixed(s.msgsOutPerAgent)} in ${fixed(s.msgsInPerAgent)}${drops === '' ? '' : `  dropped: ${drops}`}`
}

/** Round time percentiles over the rounds every agent accepted. */
export function roundTimes (r: SimRunResult): { p50: number, p99: number, complete: number } {
  const times = r.rounds.flatMap(s => s.roundMs !== undefined ? [s.roundMs] : [])
  return { p50: percentile(times, 50), p99: percentile(times, 99), complete: times.length }
}

export function messagesPerAgentRound (r: SimRunResult): { out: number, in: number } {
  return { out: mean(r.rounds.map(s => s.msgsOutPerAgent)), in: mean(r.rounds.map(s => s.msgsInPerAgent)) }
}

function sleep (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}
