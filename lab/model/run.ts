/**
 * `lab model`'s driver: builds the world once per size, runs R rounds of a
 * protocol over it with crashes and kills, and gathers per-role figures.
 */
import { defaultTiming, roundStartMs, type RoundTiming } from '../../lib/rounds.ts'
import { Random } from '../../lib/random.ts'
import type { Attack } from './audit.ts'
import { Ledger } from './ledger.ts'
import { Network } from './network.ts'
import { PlanningRole } from './planning.ts'
import { ROLE_NAMES, type RoundInput, type RoundOutcome } from './round.ts'
import { SEAL_AT, runTieredRound } from './tiered.ts'
import { runRelayRound } from './relay.ts'
import { runTodayRound } from './today.ts'
import { buildWorld, type World } from './world.ts'

export const PROTOCOLS = ['today', 'tiered', 'relay'] as const
export type Protocol = typeof PROTOCOLS[number]
/** A silent member leaves today's view after this many rounds (docs/design.md §3.5, downAfterRounds). */
export const DOWN_AFTER_ROUNDS = 3
/** The first simulated round: not an epoch's first, so steady-state rounds come first. */
export const FIRST_ROUND = 1001

export interface ModelOptions {
  hosts: number
  dcs: number
  vmsPerHost: number
  rounds: number
  seed: number
  protocol: Protocol
  periodMs: number
  crashRate: number
  loss: number
  changeRate: number
  killAggregator: boolean
  killPlanner: boolean
  attack?: Attack
  /** Rounds run before the measured ones (moves land, the planner's cooling fills), as bench:gossip warms its agents up. */
  warmupRounds?: number
  /** Reuse a world built for another protocol at the same size (it is copied, not shared). */
  world?: World
}

export interface RoleSample { msgsIn: number, msgsOut: number, framesIn: number, bytesIn: number, bytesOut: number, cpuMs: number }

export interface ModelResult {
  options: Omit<ModelOptions, 'world'>
  timing: RoundTiming
  rounds: RoundOutcome[]
  /** Per role, one sample per (live host, round). */
  samples: Record<typeof ROLE_NAMES[number], RoleSample[]>
  /** Per round: from the round's start to the plan accepted by the last host that accepted it. */
  planReachMs: number[]
}

export function runModel (opts: ModelOptions): ModelResult {
  const world = copyWorld(opts.world ?? buildWorld({ hosts: opts.hosts, dcs: opts.dcs, vmsPerHost: opts.vmsPerHost, seed: opts.seed }))
  const timing = defaultTiming(opts.periodMs)
  const rng = new Random(opts.seed * 7919 + 17)
  const ledger = new Ledger(world.hostIds.length)
  const net = new Network(world, ledger, rng, opts.loss)
  const planning = new PlanningRole(world)
  const { world: _w, ...options } = opts
  const result: ModelResult = { options, timing, rounds: [], samples: { host: [], aggregator: [], planner: [] }, planReachMs: [] }
  const n = world.hostIds.length
  const warmup = opts.warmupRounds ?? 0
  for (let j = 0; j < warmup + opts.rounds; j++) {
    const i = j - warmup
    const round = FIRST_ROUND + i
    const t0 = roundStartMs(round, timing)
    for (let h = 0; h < n; h++) if (opts.crashRate > 0 && net.up(h, t0) && rng.next() < opts.crashRate) net.crashedAt[h] = t0 + rng.next() * timing.periodMs
    // Today's view keeps a silent member DOWN_AFTER_ROUNDS; the tiered roster holds who reported last round.
    const heardSince = opts.protocol === 'today' ? t0 - DOWN_AFTER_ROUNDS * timing.periodMs : t0 - timing.periodMs + SEAL_AT[0] * timing.periodMs
    const members = [...Array(n).keys()].filter(h => net.crashedAt[h]! > heardSince)
    ledger.resetCounts()
    const input: RoundInput = { world, net, ledger, timing, round, planning, members, killAggregator: opts.killAggregator && i === 1, killPlanner: opts.killPlanner && i === 1, ...(opts.attack !== undefined && i === 1 ? { attack: opts.attack } : {}) }
    const outcome = opts.protocol === 'today' ? runTodayRound(input) : opts.protocol === 'relay' ? runRelayRound(input) : runTieredRound(input, { changeRate: opts.changeRate })
    if (i < 0) continue
    result.rounds.push(outcome)
    let reach = NaN
    for (let h = 0; h < n; h++) {
      if (!net.up(h, t0 + timing.periodMs)) continue
      result.samples[ROLE_NAMES[outcome.roles[h]!]!].push({ msgsIn: ledger.msgsIn[h]!, msgsOut: ledger.msgsOut[h]!, framesIn: ledger.framesIn[h]!, bytesIn: ledger.bytesIn[h]!, bytesOut: ledger.bytesOut[h]!, cpuMs: ledger.cpuMs[h]! })
      const a = outcome.acceptedAt[h]!
      if (!Number.isNaN(a) && !(a - t0 <= reach)) reach = a - t0
    }
    result.planReachMs.push(reach)
  }
  return result
}

/** A world the run may move VMs in without touching the caller's. */
function copyWorld (w: World): World {
  return { ...w, snapshot: { ...w.snapshot, vms: [...w.snapshot.vms] }, vmsOf: w.vmsOf.map(v => [...v]) }
}
