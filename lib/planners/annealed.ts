/**
 * Plans from annealed placements, for small instances (lookahead.ts step
 * 5): candidate placements (anneal.ts, and whole groups by group-assign.ts)
 * are carried out one move at a time (sequence.ts), the rest annealed again
 * from where that left off, then the lookahead's greedy repair finishes.
 */
import { communities, groupMembers } from '../communities.ts'
import type { CostModel } from '../cost.ts'
import type { Plan, StopReason } from '../model.ts'
import { Placement } from '../placement.ts'
import { anneal, type AnnealResult } from './anneal.ts'
import { assignGroups } from './group-assign.ts'
import { carryOut, carryOutBySearch, carryOutToDcs, type Sequenced, type Step } from './sequence.ts'

export const ANNEAL_STEPS_PER_VM = 10_000
export const ANNEAL_MAX_STEPS = 400_000
export const ANNEAL_RUNS = 2
/** Runs on instances up to ANNEAL_HOLD_MAX_VMS: more candidates, more chances that one can be carried out. */
export const ANNEAL_RUNS_SMALL = 5
export const ANNEAL_SEED = 0xa11ea1
/** Steps of the whole-group search (group-assign.ts) per annealing target. */
export const GROUP_STEPS = 20_000
/** Its result is annealed from this share of the usual start temperature. */
export const GROUP_HEAT = 0.05
/** Work (VMs examined) of the depth-first search for an order that carries out a whole annealed placement. */
export const SEQUENCE_SEARCH_WORK = 400_000
/** Annealing starts again this many times at most, holding back VMs whose moves could not run... */
export const ANNEAL_HOLD_ATTEMPTS = 3
/** ...on instances up to this many VMs. */
export const ANNEAL_HOLD_MAX_VMS = 60
/** Anneal-then-carry-out rounds at most (each anneals the VMs not moved yet). */
export const ANNEAL_ROUNDS = 4

/**
 * How hard planAnnealed searches. An unlimited plan (the CLI, the benches)
 * searches fully; an agent's round plans under a takeover slot (a tenth of
 * the round) and carries out a few moves of the result, so it searches
 * lighter (see ROUND_EFFORT).
 */
export interface AnnealEffort {
  /** Annealing runs per candidate set, on instances up to ANNEAL_HOLD_MAX_VMS (larger: ANNEAL_RUNS). */
  runs: number
  /** Searches again holding back VMs that could not move, on instances up to ANNEAL_HOLD_MAX_VMS. */
  attempts: number
  /** Anneal-then-carry-out rounds at most. */
  rounds: number
  /** Annealing steps per VM (capped by ANNEAL_MAX_STEPS). */
  stepsPerVm: number
  /** Steps of the whole-group search. */
  groupSteps: number
}

export const FULL_EFFORT: AnnealEffort = { runs: ANNEAL_RUNS_SMALL, attempts: ANNEAL_HOLD_ATTEMPTS, rounds: ANNEAL_ROUNDS, stepsPerVm: ANNEAL_STEPS_PER_VM, groupSteps: GROUP_STEPS }
/**
 * Under a move budget (an agent's round): one annealing run of a quarter of
 * the steps, and a twentieth of the group search's. On bench:optimum's 30
 * instances played round after round with the agents' limits, the final
 * costs' geomean stayed within 0.2% (2.981 -> 2.980 of the unlimited
 * plan's) while planning took 6x less time (99 -> 16 s over all rounds);
 * bench:rounds (200 VMs x 4 DCs, 2 seeds, 20 rounds) reached the same
 * costs at 15 of 16 checkpoints (the 16th: 0.1832 -> 0.1847 of the start)
 * in about half the time a round (455-793 -> 261-468 ms). What a round carries out is bounded by its limits, not by the search.
 */
export const ROUND_EFFORT: AnnealEffort = { runs: 1, attempts: 1, rounds: 1, stepsPerVm: ANNEAL_STEPS_PER_VM / 4, groupSteps: GROUP_STEPS / 20 }

const EPS = 1e-12

/** What the lookahead planner lends: its greedy repair (moving only VMs not moved yet) and its plan recorder. */
export interface Finish {
  repair: (start: Int32Array) => { steps: Step[], stopped: StopReason }
  replay: (steps: Step[], stopped: StopReason) => Plan
}

/**
 * Anneal, carry out what can run one move at a time, and anneal again from
 * there with only the VMs that have not moved (a VM moves once per plan),
 * until all of a placement runs or nothing more does; then the greedy
 * repair. Each round's placement is carried out by host and by DC only
 * (carryOut, carryOutToDcs), whichever ends lower.
 */
export function planAnnealed (model: CostModel, finish: Finish, effort: AnnealEffort = FULL_EFFORT): Plan {
  const inst = model.instance
  // VMs whose moves could not run are held where they are and the whole
  // search starts again: the best placement that can run may leave them be.
  let held = new Uint8Array(inst.nVm)
  let best: Plan | undefined
  const attempts = inst.nVm <= ANNEAL_HOLD_MAX_VMS ? effort.attempts : 1
  for (let attempt = 0; attempt < attempts; attempt++) {
    const { plan, dropped } = annealRounds(model, finish, held, effort)
    if (best === undefined || plan.finalCost < best.finalCost - EPS * Math.max(1e-300, best.finalCost)) best = plan
    if (dropped.length === 0) break
    held = Uint8Array.from(held)
    for (const v of dropped) held[v] = 1
  }
  return best!
}

/** One planAnnealed attempt; `dropped`: the VMs whose moves the first round could not carry out. */
function annealRounds (model: CostModel, finish: Finish, held: Uint8Array, effort: AnnealEffort): { plan: Plan, dropped: number[] } {
  const inst = model.instance
  let state = new Placement(model)
  const steps: Step[] = []
  let firstDropped: number[] | undefined
  for (let round = 0; round < effort.rounds; round++) {
    const movable = new Uint8Array(inst.nVm)
    for (let v = 0; v < inst.nVm; v++) movable[v] = state.hostOf[v] === inst.vmHost[v] && held[v] === 0 ? 1 : 0
    // Each candidate placement is carried out three ways; the lowest cost carried out wins
    // (the placement that anneals lowest is not always the one that can run).
    let chosen: { state: Placement, seq: Sequenced } | undefined
    for (const target of annealTargets(model, state, movable, effort)) {
      const sequencers = [
        (s: Placement) => carryOutBySearch(s, target.hostOf, target.priority, SEQUENCE_SEARCH_WORK),
        (s: Placement) => carryOut(s, target.hostOf, target.priority),
        (s: Placement) => carryOutToDcs(s, target.hostOf, target.priority)
      ]
      for (const sequence of sequencers) {
        const s = new Placement(model, state.hostOf)
        const seq = sequence(s)
        if (seq === undefined) continue
        if (chosen === undefined || s.cost < chosen.state.cost - EPS * Math.max(1e-300, chosen.state.cost)) chosen = { state: s, seq }
        if (seq.dropped.length === 0) break
      }
    }
    if (chosen === undefined) break
    firstDropped ??= chosen.seq.dropped
    state = chosen.state
    steps.push(...chosen.seq.steps)
    if (chosen.seq.dropped.length === 0 || chosen.seq.steps.length === 0) break
  }
  const repair = finish.repair(state.hostOf)
  return { plan: finish.replay([...steps, ...repair.steps], repair.stopped), dropped: firstDropped ?? [] }
}

/**
 * Candidate placements from `from`: a few annealing runs, and whole
 * applications placed jointly then annealed cool (so they stay whole unless
 * splitting pays). Moves are ordered by their gain alone.
 */
function annealTargets (model: CostModel, from: Placement, movable: Uint8Array, effort: AnnealEffort): Array<{ hostOf: Int32Array, priority: number[] }> {
  const inst = model.instance
  const steps = Math.min(ANNEAL_MAX_STEPS, effort.stepsPerVm * inst.nVm)
  const found: AnnealResult[] = []
  const runs = inst.nVm <= ANNEAL_HOLD_MAX_VMS ? effort.runs : Math.min(effort.runs, ANNEAL_RUNS)
  for (let run = 0; run < runs; run++) found.push(anneal(model, from.hostOf, { movable, steps, seed: ANNEAL_SEED + run }))
  const grouped = assignGroups(model, from.hostOf, { movable, groups: groupMembers(communities(inst)), steps: effort.groupSteps, seed: ANNEAL_SEED })
  if (grouped !== undefined) found.push(anneal(model, grouped, { movable, steps, seed: ANNEAL_SEED, heat: GROUP_HEAT }))
  found.sort((a, b) => a.cost - b.cost)
  return found.map(r => {
    const moved: number[] = []
    const gain = new Float64Array(inst.nVm)
    r.hostOf.forEach((h, v) => {
      if (h === from.hostOf[v]) return
      moved.push(v)
      gain[v] = -from.delta(v, inst.hostDc[h]!)
    })
    moved.sort((a, b) => gain[b]! - gain[a]! || a - b)
    return { hostOf: r.hostOf, priority: moved }
  })
}
