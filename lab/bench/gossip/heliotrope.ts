/**
 * heliotrope's side of bench:gossip: N real agents in this process over TCP
 * on [::1], R rounds, watched through Agent.observe(). Run as its own
 * process per size (see gossip.ts), so CPU and memory are the agents' alone;
 * inside a network namespace of our own the loopback counter gives the bytes.
 *
 *   node --import tsx lab/bench/gossip/heliotrope.ts N PERIOD_MS ROUNDS RESULT.json bytes|nobytes READY_TIMEOUT_MS
 */
import { writeFile } from 'node:fs/promises'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import type { Agent } from '../../../agent/agent.ts'
import { roundAt, roundStartMs } from '../../../lib/rounds.ts'
import { startCluster, type SimCluster } from '../../sim/cluster.ts'
import { ClusterObserver } from '../../sim/observe.ts'
import { ResourceMeter } from '../../sim/resources.ts'
import { worldFromScenario } from '../../sim/scenario-world.ts'
import { ownLoTxBytes } from './netns.ts'

const VMS_PER_AGENT = 4
/**
 * Algorithm 1 plans in milliseconds; the default lookahead planner takes
 * about a second, during which every agent in this process stalls, which
 * is not what gossip between hosts with their own CPUs looks like.
 */
const BENCH_PLANNER = { name: 'thesis' }
const START_BATCH = 8
const SEEDS = 2
const POLL_MS = 100
const LAG_RESOLUTION_MS = 10
/** After the last measured round, how long stragglers may still arrive, as a share of the period. */
const TAIL_SHARE = 0.9

export interface HeliotropeResult {
  agents: number
  periodMs: number
  rounds: number
  startMs: number
  /** Until every agent saw every member live; undefined when that did not happen in time. */
  readyMs?: number
  /** Per digest of the measured rounds: sender's publish to the last other agent's arrival (ms). */
  latencies: number[]
  /** Digests that did not reach every other agent. */
  incomplete: number
  /** Per measured round every agent accepted: round start to the last acceptance (ms). */
  planMs: number[]
  /** Rounds in which not every agent accepted a plan. */
  planMissing: number
  bytesPerAgentPerRound?: number
  /** Gossip payload (encoded envelopes) each agent published per round. */
  payloadBytesPerAgentPerRound: number
  cpuMsPerAgentPerRound: number
  rssBytesPerAgent: number
  /** Event-loop delay over the measured rounds, p99 (ms): how long the agents' shared thread kept work waiting. */
  loopLagP99Ms: number
}

export async function measureHeliotrope (n: number, periodMs: number, rounds: number, countBytes: boolean, readyTimeoutMs: number): Promise<HeliotropeResult> {
  const meter = new ResourceMeter()
  const t0 = Date.now()
  let cluster: SimCluster | undefined
  let observer: ClusterObserver | undefined
  try {
    cluster = await startCluster({
      ...worldFromScenario({ agents: n, vms: n * VMS_PER_AGENT }),
      cluster: 'bench',
      transport: 'tcp',
      roundPeriodMs: periodMs,
      planner: BENCH_PLANNER,
      connectionMonitor: false,
      sharedWorld: true,
      seeds: SEEDS,
      batchSize: START_BATCH
    })
    const startMs = Date.now() - t0
    const agents = [...cluster.agents.values()]
    const timing = agents[0]!.timing
    observer = new ClusterObserver(timing)
    observer.watch(agents)
    // An overloaded cluster may never get there; measure anyway and say so.
    const ready = await until(() => allLive(agents), readyTimeoutMs, 'every agent to see every member live').then(() => true, () => false)
    const readyMs = ready ? Date.now() - t0 : undefined

    const first = roundAt(Date.now(), timing) + 1
    const last = first + rounds - 1
    await until(() => Date.now() >= roundStartMs(first, timing), 2 * periodMs, 'the first round')
    const tx0 = countBytes ? ownLoTxBytes() : 0
    const cpu0 = meter.read().cpuMs
    const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS })
    lag.enable()
    await until(() => Date.now() >= roundStartMs(last + 1, timing), (rounds + 1) * periodMs, 'the last round')
    const tx1 = countBytes ? ownLoTxBytes() : 0
    const use = meter.read()
    lag.disable()
    await until(() => Date.now() >= roundStartMs(last + 1, timing) + TAIL_SHARE * periodMs, 2 * periodMs, 'stragglers')

    const { latencies, incomplete } = observer.dissemination(first, last)
    const planMs: number[] = []
    let payload = 0
    for (let r = first; r <= last; r++) {
      const t = observer.tally(r)
      payload += t.publishedBytes
      if (t.accepted.size >= n) planMs.push(Math.max(...t.accepted.values()) - roundStartMs(r, timing))
    }
    return {
      agents: n,
      periodMs,
      rounds,
      startMs,
      ...(readyMs !== undefined ? { readyMs } : {}),
      latencies,
      incomplete,
      planMs,
      planMissing: rounds - planMs.length,
      ...(countBytes ? { bytesPerAgentPerRound: (tx1 - tx0) / n / rounds } : {}),
      payloadBytesPerAgentPerRound: payload / n / rounds,
      cpuMsPerAgentPerRound: (use.cpuMs - cpu0) / n / rounds,
      rssBytesPerAgent: use.peakRssBytes / n,
      loopLagP99Ms: lag.percentile(99) / 1e6
    }
  } finally {
    observer?.close()
    await cluster?.close()
    meter.stop()
  }
}

function allLive (agents: Agent[]): boolean {
  const now = Date.now()
  return agents.every(a => a.view.live(now).length === agents.length)
}

async function until (check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, POLL_MS))
  }
}

// As a child process of gossip.ts: measure, write the result, exit.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [n, period, rounds, out, bytes, ready] = process.argv.slice(2)
  const result = await measureHeliotrope(Number(n), Number(period), Number(rounds), bytes === 'bytes', Number(ready))
  await writeFile(out!, JSON.stringify(result))
  // The result is written: nothing a stopped node may leave pending should hold the process.
  process.exit(0)
}
