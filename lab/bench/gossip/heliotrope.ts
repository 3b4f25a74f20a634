/**
 * heliotrope's side of bench:gossip: N real agents in this process over TCP
 * on [::1], R rounds, watched through Agent.observe(). Run as its own
 * process per size (see gossip.ts), so CPU and memory are the agents' alone;
 * inside a network namespace of our own the loopback counter gives the bytes.
 *
 *   node lab/bench/gossip/heliotrope.ts N PERIOD_MS ROUNDS RESULT.json bytes|nobytes READY_TIMEOUT_MS LAYOUT flood|tiered [DHT_SERVERS_PER_DC|-] [AGENTS_PER_PROCESS] [WARMUP_MS]
 */
import { writeFile } from 'node:fs/promises'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import type { Agent } from '../../../agent/agent.ts'
import type { Dissemination } from '../../../agent/config.ts'
import { roundAt, roundStartMs, type RoundTiming } from '../../../lib/rounds.ts'
import { startObservedProcessCluster } from '../../sim/process-cluster.ts'
import { startCluster, type SimCluster } from '../../sim/cluster.ts'
import { ClusterObserver, type SlowDigest } from '../../sim/observe.ts'
import { ResourceMeter } from '../../sim/resources.ts'
import { worldFromScenario } from '../../sim/scenario-world.ts'
import { ownLoTxBytes } from './netns.ts'
import { definedOnly } from '../../../lib/defined.ts'
import { ROUNDS_PER_EPOCH } from '../../../lib/roles.ts'
import { RELAY_KINDS } from '../../../lib/wire/relay.ts'
import { TOPICS } from '../../../lib/wire/messages.ts'
import { framesIn, noRelay, relayOf, relaySince, type RelayTotals } from '../../sim/relay-totals.ts'

const VMS_PER_AGENT = 4
/**
 * Algorithm 1 plans in milliseconds; the default lookahead planner takes
 * about a second, during which every agent in this process stalls, which
 * is not what gossip between hosts with their own CPUs looks like.
 */
const BENCH_PLANNER = { name: 'thesis' }
const START_BATCH = 8
/** After every agent sees every other, this long before the measured rounds start. */
const WARMUP_MS = 30_000
const SEEDS = 2
const POLL_MS = 100
const LAG_RESOLUTION_MS = 10
/** Where a round's quiet tail starts, as a share of the period: votes and moves are done by then (planning at 40%, the next rank's slot at 50%). */
const QUIET_FROM_SHARE = 0.7
/** After the last measured round, how long stragglers may still arrive, as a share of the period. */
const TAIL_SHARE = 0.9

export interface HeliotropeResult {
  agents: number
  dissemination: Dissemination
  layout: Layout
  periodMs: number
  rounds: number
  startMs: number
  /** Until every agent saw every member live; undefined when that did not happen in time. */
  readyMs?: number
  /** Per digest of the measured rounds: sender's publish to the last other agent's arrival (ms). */
  latencies: number[]
  /** Digests that did not reach every other agent. */
  incomplete: number
  /** The slowest digests: when they went out in their round, when half and all the agents had them. */
  slowest: SlowDigest[]
  /** Per measured round every agent accepted: round start to the last acceptance (ms). */
  planMs: number[]
  /** Rounds in which not every agent accepted a plan. */
  planMissing: number
  /** Per measured round every agent accepted: the plan's publication at its planner to the last acceptance (ms). */
  planToAllMs: number[]
  /** Per measured round: the moves of its plan (the largest, if more than one planner sent one). */
  planMoves: number[]
  bytesPerAgentPerRound?: number
  /** Gossip payload (encoded envelopes) each agent published per round. */
  payloadBytesPerAgentPerRound: number
  /** Per measured round with one planner: how the plan spread (for finding where its tail comes from). */
  planSpread: PlanSpread[]
  cpuMsPerAgentPerRound: number
  /** Each measured round's CPU and relay frames per agent (an epoch's first round moves every aggregator: it costs more). */
  perRound: RoundUse[]
  /** CPU per agent per second in the rounds' quiet tails (QUIET_FROM_SHARE to the round's end): upkeep, not the round's work. */
  quietCpuMsPerAgentPerS: number
  /** Relay frames (tiered) each agent received per round: requests served and answers to its own. */
  relayFramesInPerAgentPerRound: number
  /** Relay requests per agent per round, by kind, sent and served. */
  relayPerAgentPerRound: RelayTotals
  /** How many agents shared a process (each agent's share of its process's own upkeep). */
  agentsPerProcess: number
  rssBytesPerAgent: number
  /** Event-loop delay over the measured rounds, p99 (ms): how long the agents' shared thread kept work waiting. */
  loopLagP99Ms: number
}

/** One measured round: from the previous round's end (or the measurement's start) to its own. */
export interface RoundUse { round: number, epochStart: boolean, cpuMsPerAgent: number, relayFramesInPerAgent: number }

/** A round's plan from its publication: when half and when all agents had accepted it (ms), and the last few to accept it. */
export interface PlanSpread { round: number, planner: string, medianMs: number, lastMs: number, last: Array<{ host: string, ms: number }> }
/** How many of a round's last acceptances PlanSpread names. */
const LAST_KEPT = 6

/** One process for all agents, or one process per agent (as on real hosts). */
export type Layout = 'one-process' | 'processes'

/**
 * Agents spread over at most this many processes. One process per agent is
 * what real hosts look like, but each costs about 0.6 s of CPU and 140 MiB
 * just to load the code: 64 of them took minutes to start on two cores.
 */
export const MAX_AGENT_PROCESSES = 16

/** What the measurement needs from a running cluster, whatever its layout. */
interface Running {
  timing: RoundTiming
  observer: ClusterObserver
  allLive (): Promise<boolean>
  someSeesAll (): Promise<boolean>
  agentsPerProcess: number
  /** CPU ms of all agents so far, peak RSS per agent, relay requests of all agents so far. */
  usage (): Promise<{ cpuMs: number, rssBytesPerAgent: number, relay: RelayTotals }>
  /** Stops the agents; afterwards the observer holds every event. */
  stop (): Promise<void>
  close (): Promise<void>
}

export async function measureHeliotrope (n: number, periodMs: number, rounds: number, countBytes: boolean, readyTimeoutMs: number, layout: Layout = 'processes', dissemination: Dissemination = 'flood', dhtServersPerDc?: number, agentsPerProcess = Math.ceil(n / MAX_AGENT_PROCESSES), warmupMs = WARMUP_MS): Promise<HeliotropeResult> {
  const t0 = Date.now()
  let running: Running | undefined
  try {
    const spec = {
      ...worldFromScenario({ agents: n, vms: n * VMS_PER_AGENT }),
      cluster: 'bench',
      transport: 'tcp' as const,
      roundPeriodMs: periodMs,
      planner: BENCH_PLANNER,
      connectionMonitor: false,
      seeds: SEEDS,
      batchSize: START_BATCH,
      dissemination,
      ...definedOnly({ dhtServersPerDc })
    }
    running = layout === 'one-process' ? await inProcess(spec, n) : await inProcesses(spec, n, agentsPerProcess)
    const startMs = Date.now() - t0
    const { timing, observer } = running
    // An overloaded cluster may never get there; measure anyway and say so.
    // Tiered: only aggregators hold the whole view; one seeing every member live is the cluster formed.
    const formed = dissemination === 'tiered' ? running.someSeesAll : running.allLive
    const ready = await until(formed, readyTimeoutMs, dissemination === 'tiered' ? 'an aggregator to see every member live' : 'every agent to see every member live').then(() => true, () => false)
    const readyMs = ready ? Date.now() - t0 : undefined
    // A fresh agent process spends its first half-minute compiling hot code
    // (27 ms of CPU per second idle, 5 ms once warm): measure after that.
    await new Promise(resolve => setTimeout(resolve, warmupMs))

    const first = roundAt(Date.now(), timing) + 1
    const last = first + rounds - 1
    await until(async () => Date.now() >= roundStartMs(first, timing), 2 * periodMs, 'the first round')
    const tx0 = countBytes ? ownLoTxBytes() : 0
    const use0 = await running.usage()
    const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS })
    lag.enable()
    // Each round's quiet tail (after the plan's votes, before the next
    // round's reports) gives the agents' upkeep alone: what the model's idle
    // constant is checked against.
    let quietCpuMs = 0; let quietMs = 0
    const perRound: RoundUse[] = []
    let before = use0
    for (let r = first; r <= last; r++) {
      const from = roundStartMs(r, timing) + QUIET_FROM_SHARE * periodMs
      const to = roundStartMs(r + 1, timing)
      await until(async () => Date.now() >= from, 2 * periodMs, 'a round\'s quiet tail')
      const a = await running.usage(); const aAt = Date.now()
      await until(async () => Date.now() >= to, 2 * periodMs, 'the next round')
      const b = await running.usage()
      quietCpuMs += b.cpuMs - a.cpuMs; quietMs += Date.now() - aAt
      perRound.push({ round: r, epochStart: r % ROUNDS_PER_EPOCH === 0, cpuMsPerAgent: (b.cpuMs - before.cpuMs) / n, relayFramesInPerAgent: framesIn(relaySince(b.relay, before.relay)) / n })
      before = b
    }
    const tx1 = countBytes ? ownLoTxBytes() : 0
    const use1 = await running.usage()
    lag.disable()
    await until(async () => Date.now() >= roundStartMs(last + 1, timing) + TAIL_SHARE * periodMs, 2 * periodMs, 'stragglers')
    await running.stop()
    const relay = relaySince(use1.relay, use0.relay)

    const { latencies, incomplete, slowest } = observer.dissemination(first, last)
    const planMs: number[] = []
    const planToAllMs: number[] = []
    const planSpread: PlanSpread[] = []
    const planMoves: number[] = []
    let payload = 0
    for (let r = first; r <= last; r++) {
      const t = observer.tally(r)
      payload += t.publishedBytes
      planMoves.push(Math.max(0, ...[...t.plans.values()].map(p => p.moves)))
      if (t.accepted.size < n) continue
      const lastAt = Math.max(...t.accepted.values())
      planMs.push(lastAt - roundStartMs(r, timing))
      const planners = new Set([...t.acceptedFrom.values()].map(a => a.planner))
      const sent = planners.size === 1 ? t.planSentMs.get([...planners][0]!) : undefined
      if (sent === undefined) continue
      planToAllMs.push(lastAt - sent)
      const after = [...t.accepted].map(([host, at]) => ({ host, ms: at - sent })).sort((a, b) => a.ms - b.ms)
      planSpread.push({ round: r, planner: [...planners][0]!, medianMs: after[after.length >> 1]!.ms, lastMs: lastAt - sent, last: after.slice(-LAST_KEPT) })
    }
    return {
      agents: n,
      dissemination,
      layout,
      periodMs,
      rounds,
      startMs,
      ...definedOnly({ readyMs }),
      latencies,
      incomplete,
      slowest,
      planMs,
      planMissing: rounds - planMs.length,
      planToAllMs,
      planMoves,
      ...(countBytes ? { bytesPerAgentPerRound: (tx1 - tx0) / n / rounds } : {}),
      payloadBytesPerAgentPerRound: payload / n / rounds,
      planSpread,
      cpuMsPerAgentPerRound: (use1.cpuMs - use0.cpuMs) / n / rounds,
      quietCpuMsPerAgentPerS: quietCpuMs / n / (quietMs / 1000),
      perRound,
      relayFramesInPerAgentPerRound: framesIn(relay) / n / rounds,
      relayPerAgentPerRound: perAgentRound(relay, n * rounds),
      agentsPerProcess: running.agentsPerProcess,
      rssBytesPerAgent: use1.rssBytesPerAgent,
      loopLagP99Ms: lag.percentile(99) / 1e6
    }
  } finally {
    await running?.close()
  }
}

type BenchSpec = Parameters<typeof startCluster>[0]

/** Every agent in this process: the observer watches them live. */
async function inProcess (spec: BenchSpec, n: number): Promise<Running> {
  const meter = new ResourceMeter()
  const cluster: SimCluster = await startCluster({ ...spec, sharedWorld: true })
  const agents = [...cluster.agents.values()]
  const timing = agents[0]!.timing
  const observer = new ClusterObserver(timing)
  observer.watch(agents)
  return {
    timing,
    observer,
    agentsPerProcess: n,
    allLive: async () => allLive(agents),
    someSeesAll: async () => agents.some(a => a.view.live(Date.now()).length === agents.length),
    usage: async () => {
      const u = meter.read()
      return { cpuMs: u.cpuMs, rssBytesPerAgent: u.peakRssBytes / n, relay: relayOf(agents) }
    },
    stop: async () => { observer.close(); await cluster.stopAll() },
    close: async () => { observer.close(); await cluster.close(); meter.stop() }
  }
}

/** Agents in child processes, agentsPerProcess each: CPU and RSS are summed over them; events arrive in batches. */
async function inProcesses (spec: BenchSpec, n: number, agentsPerProcess: number): Promise<Running> {
  const { cluster, observer } = await startObservedProcessCluster({ ...spec, agentsPerProcess })
  return {
    timing: observer.timing,
    observer,
    agentsPerProcess,
    allLive: async () => await cluster.minLive() >= n,
    someSeesAll: async () => await cluster.maxLive() >= n,
    usage: async () => {
      const u = await cluster.usage()
      return { cpuMs: u.cpuMs, rssBytesPerAgent: u.peakRssBytes / n, relay: u.relay }
    },
    stop: async () => { await cluster.stop() },
    close: async () => { await cluster.close() }
  }
}

function perAgentRound (t: RelayTotals, agentRounds: number): RelayTotals {
  const out = noRelay()
  for (const k of RELAY_KINDS) { out.sent[k] = t.sent[k] / agentRounds; out.served[k] = t.served[k] / agentRounds; out.items[k] = t.items[k] / agentRounds }
  for (const k of TOPICS) out.applied[k] = t.applied[k] / agentRounds
  out.batchesBy = t.batchesBy
  return out
}

function allLive (agents: Agent[]): boolean {
  const now = Date.now()
  return agents.every(a => a.view.live(now).length === agents.length)
}

async function until (check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!await check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, POLL_MS))
  }
}

// As a child process of gossip.ts: measure, write the result, exit.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [n, period, rounds, out, bytes, ready, layout, dissemination, dhtServers, perProcess, warmup] = process.argv.slice(2)
  const result = await measureHeliotrope(Number(n), Number(period), Number(rounds), bytes === 'bytes', Number(ready), layout === 'one-process' ? 'one-process' : 'processes', dissemination === 'tiered' ? 'tiered' : 'flood', dhtServers === undefined || dhtServers === '-' ? undefined : Number(dhtServers), perProcess === undefined ? undefined : Number(perProcess), warmup === undefined ? undefined : Number(warmup))
  await writeFile(out!, JSON.stringify(result))
  // The result is written: nothing a stopped node may leave pending should hold the process.
  process.exit(0)
}
