/**
 * Rounds searched as a path. The agents' rounds must each lower the cost
 * (by the loop's minimum improvement) within a round's limits, and a VM
 * that moved is held for the cooldown; so the agents can settle where no
 * single round gains although a few rounds, each gaining, lead much lower.
 * The rollout (rollout.ts) finds such paths only where one of its
 * candidates, followed by the round planner's own choices, walks them. On
 * bench:optimum's clustered seed 17 (18 VMs) none did: the agents ended at
 * 2.08 times the optimum, while a randomized search over rounds found a
 * path of 10 rounds, each valid for the agents, to the optimum.
 *
 * This is that search: a beam over rounds. From each placement kept, the
 * rounds tried are the sequences of up to `maxMoves` single moves (at each
 * point the `branch` best by gain, whether they gain or not), each
 * move fitting where the moves before it left things, each host touched at
 * most `maxPerHost` times; a round is kept if it lowers the cost by the
 * loop's minimum improvement (and by more than minGain per move). Of the
 * placements the rounds reach, the lowest half of `width` goes on, and the
 * rest of `width` spread evenly over the others (a beam of only the lowest
 * settles in one basin). The result is the first round of the path that
 * ends lowest, and where it ends. Deterministic: no randomness, and the
 * work is counted (moves priced), not timed.
 */
import type { CostModel } from '../cost.ts'
import type { Instance } from '../instance.ts'
import type { Plan } from '../model.ts'
import { Placement } from '../placement.ts'
import { type PlannerConfig, type RoundLoop, DEFAULT_MAX_MOVES_PER_HOST, DEFAULT_MIN_GAIN } from './config.ts'
import { MoveRecorder } from './recorder.ts'
import type { Promised } from './rollout.ts'

/**
 * The agents' search (promisedRound adds the round's limits): on clustered
 * seed 17 it reaches the optimum from the start in 6 rounds with 2.6M
 * moves priced (about 2 s here); the work bound keeps a round on 40 VMs,
 * where the same width would price 30M, to the same time.
 */
export const ROUND_BEAM = { width: 100, branch: 6, depth: 12, work: 3_000_000 }
/**
 * Above this many VMs the search is not run: there the work bound stops it
 * 2-3 rounds deep, and on all 16 of bench:optimum's instances of 27-40 VMs
 * the agents' loop ended at the same cost, rounds and moves without it,
 * each round 2-4.5 s sooner.
 */
export const ROUND_BEAM_MAX_VMS = 24

export interface BeamSettings {
  /** Moves per round, and touches (in or out) per host per round. */
  maxMoves: number
  maxPerHost: number
  minGain: number
  /** Placements kept per round. */
  width: number
  /** Best moves (by gain at that point) tried at each move of a round. */
  branch: number
  /** Rounds searched ahead. */
  depth: number
  /** Moves priced in all: the search stops there (the path found so far stands). */
  work: number
}

export interface BeamResult {
  /** The first round of the lowest path, as a plan (one step); undefined if no round gains enough. */
  round: Plan | undefined
  /** The cost the lowest path ends at. */
  end: number
  /** Rounds in that path. */
  rounds: number
  /** Moves priced. */
  work: number
}

/** The first round of the lowest path the search finds under `config`'s round limits, for chooseByRollout; in the agents' loop only, on at most ROUND_BEAM_MAX_VMS VMs. */
export function promisedRound (inst: Instance, model: CostModel, config: PlannerConfig, maxMoves: number, planner: string): Promised | undefined {
  if (config.loop === undefined || inst.nVm > ROUND_BEAM_MAX_VMS) return undefined
  const limits = { maxMoves, maxPerHost: config.maxMovesPerHost ?? DEFAULT_MAX_MOVES_PER_HOST, minGain: config.minGain ?? DEFAULT_MIN_GAIN }
  const found = searchRounds(inst, model, config.loop, { ...ROUND_BEAM, ...limits }, planner)
  return found.round === undefined ? undefined : { plan: found.round, end: found.end }
}

interface Node {
  hostOf: Int32Array
  /** Round each VM last moved in (this round is 0; held while round - movedAt <= cooldown). */
  movedAt: Int32Array
  cost: number
  /** The path's first round: [vm, host] pairs. */
  first: Array<[number, number]> | undefined
  rounds: number
}

/**
 * The beam from `inst`'s placement, priced with `model`, rounds played as
 * `loop` runs them: a VM pinned in `inst` stays, unless it is cooling
 * (`loop.cooling`), and then only for its rounds left.
 */
export function searchRounds (inst: Instance, model: CostModel, loop: RoundLoop, s: BeamSettings, planner: string): BeamResult {
  const cooling = loop.cooling ?? new Map<string, number>()
  const fixed = new Uint8Array(inst.nVm)
  const movedAt = new Int32Array(inst.nVm).fill(-1 - loop.cooldownRounds)
  inst.vmIds.forEach((id, v) => {
    const left = cooling.get(id)
    if (left !== undefined) movedAt[v] = left - loop.cooldownRounds
    else if (inst.vmPinned[v] === 1) fixed[v] = 1
  })
  const start: Node = { hostOf: Int32Array.from(inst.vmHost), movedAt, cost: new Placement(model).cost, first: undefined, rounds: 0 }
  let best = start
  let beam = [start]
  let work = 0
  for (let round = 0; round < s.depth && work < s.work; round++) {
    const next = new Map<string, Node>()
    for (const node of beam) {
      if (work >= s.work) break
      work += expand(inst, model, loop, s, node, round, fixed, next, s.work - work)
    }
    if (next.size === 0) break
    beam = keep([...next.values()].sort((a, b) => a.cost - b.cost), s.width)
    if (beam[0]!.cost < best.cost) best = beam[0]!
  }
  return { round: best.first === undefined ? undefined : asPlan(model, best.first, planner), end: best.cost, rounds: best.rounds, work }
}

/** The lowest half of `width`, and the rest spread evenly over the others. */
function keep (sorted: Node[], width: number): Node[] {
  if (sorted.length <= width) return sorted
  const low = width >> 1
  const stride = (sorted.length - low) / (width - low)
  const spread: Node[] = []
  for (let i = 0; i < width - low; i++) spread.push(sorted[low + Math.floor(i * stride)]!)
  return [...sorted.slice(0, low), ...spread]
}

/** Every round tried from `node` (depth-first over the best moves), the placements reached into `next`; the moves priced. */
function expand (inst: Instance, model: CostModel, loop: RoundLoop, s: BeamSettings, node: Node, round: number, fixed: Uint8Array, next: Map<string, Node>, budget: number): number {
  const p = new Placement(model, node.hostOf)
  const touches = new Int32Array(inst.nHost)
  const used: number[] = []
  const to: number[] = []
  const enough = Math.max(loop.minImprovement * node.cost, 0)
  let work = 0
  const moves: Array<[number, number, number]> = []
  const dfs = (): void => {
    const from = moves.length
    for (let v = 0; v < inst.nVm; v++) {
      if (fixed[v] === 1 || round - node.movedAt[v]! <= loop.cooldownRounds || used.includes(v)) continue
      const h0 = p.hostOf[v]!
      if (touches[h0]! >= s.maxPerHost) continue
      for (let h = 0; h < inst.nHost; h++) {
        if (inst.hostDc[h] === inst.hostDc[h0] || touches[h]! >= s.maxPerHost || !p.fits(v, h) || !p.allowed(v, inst.hostDc[h]!)) continue
        moves.push([p.delta(v, inst.hostDc[h]!), v, h])
        work++
      }
    }
    const tried = moves.splice(from).sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]).slice(0, s.branch)
    for (const [, v, h] of tried) {
      const h0 = p.hostOf[v]!
      touches[h0]!++; touches[h]!++; used.push(v); to.push(h); p.apply(v, h)
      const gain = node.cost - p.cost
      if (gain > 0 && gain >= enough && gain > s.minGain * used.length) record(p, node, used, to, round, next)
      if (used.length < s.maxMoves && work < budget) dfs()
      p.apply(v, h0); used.pop(); to.pop(); touches[h0]!--; touches[h]!--
    }
  }
  dfs()
  return work
}

function record (p: Placement, node: Node, used: number[], to: number[], round: number, next: Map<string, Node>): void {
  const key = p.hostOf.join(',')
  const old = next.get(key)
  if (old !== undefined && old.cost <= p.cost) return
  const movedAt = Int32Array.from(node.movedAt)
  for (const v of used) movedAt[v] = round
  next.set(key, { hostOf: Int32Array.from(p.hostOf), movedAt, cost: p.cost, first: node.first ?? used.map((v, i) => [v, to[i]!]), rounds: node.rounds + 1 })
}

/** The round as a plan of one step (its middle may cost more than the start; its end does not). */
function asPlan (model: CostModel, round: Array<[number, number]>, planner: string): Plan {
  const rec = new MoveRecorder(new Placement(model))
  for (const [v, h] of round) rec.apply(v, h)
  const plan = rec.exactPlan(planner, 'move-limit')
  return round.length > 1 ? { ...plan, steps: [round.length] } : plan
}
