/**
 * The lookahead planner: Algorithm 1's goal (lower the cost by moving VMs)
 * with the search it lacks. It searches over placements (a VM may change its
 * mind during the search), then `sequenceMoves` turns the placement it found
 * into migrations that run one by one, each VM once, never overfilling a host.
 *
 * 1. Greedy by gain: every movable VM is priced against every DC at once
 *    (O(DCs) per target from its per-DC traffic sums), the best move in the
 *    whole cluster goes first, and only the moved VM's neighbours are
 *    re-priced. Each move lands on a concrete host with room.
 * 2. Ejection chains: when the best target DC is full (what stops Algorithm
 *    1 most often), a VM on a host there is moved out first, to wherever it
 *    costs least, if the two moves together lower the cost.
 * 3. Refinement passes (Fiduccia-Mattheyses style): keep taking the best move
 *    even when it raises the cost, each VM at most once, then keep only the
 *    best prefix. This walks a tightly-talking group across one VM at a
 *    time, which no single improving move can do.
 * 4. Whole groups: applications found from the traffic (lib/communities.ts)
 *    are moved to another DC, or exchanged with a group there, as one step;
 *    this chooses which DC each application lives in, together.
 * 5. Small instances: annealed placements (anneal.ts, group-assign.ts)
 *    carried out one move at a time, against steps 1-4's; the lower
 *    executable plan wins.
 * 6. Larger instances without a budget (400-50,000 VMs): whole
 *    applications assigned to DCs jointly (group-assign.ts), refined VM by
 *    VM (descend.ts), carried out and repaired, against steps 1-4's. Where
 *    DCs are full the greedy stops; this trades applications between them
 *    (10k VMs: 0.017 -> 0.0004 of the start cost).
 * 7. Under a move budget (every agent's plan) the budget is a limit, not a
 *    switch: the plan of steps 1-5 without limits, put in an order safe to
 *    stop anywhere (anytime.ts) and cut to the round's limits
 *    (budget-cut.ts). Under a round's budget that share is the plan
 *    whenever it gains enough (TOWARD_MIN_SHARE; where no round of that
 *    size can, move-bound.ts, the unlimited plan is not searched); else,
 *    and under larger budgets, it runs against steps 1-4 within the limits
 *    and a plain greedy, and the lower cost after the round wins. Every
 *    step ends at most the start.
 * 8. Under a round's budget on small instances, with the planner's
 *    `rolloutRounds`: the candidates of step 7 each played forward round
 *    after round, and the one whose rounds end lowest taken (rollout.ts).
 *    In the agents' loop, also a search over rounds as paths
 *    (round-beam.ts): its first round is taken where the path it found
 *    ends lower than every candidate's rounds.
 *
 * Limits hold throughout: pinned VMs stay, a VM moves at most once per plan,
 * moves per plan and per host are capped, every move (or chain, or kept
 * prefix) must gain more than `minGain` per move, and each move is feasible
 * in the order listed, so executing the plan in order never overfills a host.
 *
 * This file carries searches out and picks the plan; steps 1-3 are in
 * lookahead-search.ts, step 4 in lookahead-groups.ts, and the placement
 * they share with its limit bookkeeping in lookahead-state.ts.
 */
import { CostModel, evaluate } from '../cost.ts'
import { compile, type Instance } from '../instance.ts'
import type { Plan, Snapshot, StopReason } from '../model.ts'
import { Placement } from '../placement.ts'
import { type PlannerConfig, DEFAULT_MAX_MOVES, DEFAULT_MAX_MOVES_PER_HOST, DEFAULT_MIN_GAIN } from './config.ts'
import { ILS_WORK, LookaheadSearch } from './lookahead-search.ts'
import { carry, replay } from './carry.ts'
import { type AnnealEffort, FULL_EFFORT, ROUND_EFFORT, planAnnealed } from './annealed.ts'
import { polishReachable } from './polish.ts'
import { anytimeOrder, anytimeSteps, type StepLimits } from './anytime.ts'
import { cutToLimits } from './budget-cut.ts'
import { assignGroups } from './group-assign.ts'
import { descend, settleHome } from './descend.ts'
import { keepHome } from './homeward.ts'
import { relabelTowardHome } from './relabel.ts'
import { packOntoHosts } from './pack.ts'
import { communities, groupMembers, superGroups } from '../communities.ts'
import { planBestFirst } from './best-first.ts'
import { ROLLOUT_MAX_VMS, chooseByRollout, withShorterRounds } from './rollout.ts'
import { promisedRound } from './round-beam.ts'
import { mostGainOfMoves } from './move-bound.ts'

export const LOOKAHEAD_PLANNER = 'lookahead'
/** Searches per plan: each holds in place the VMs the last one could not move one at a time. */
export const SEQUENCE_ATTEMPTS = 3
/** Larger instances search once (then repair): a search there is seconds, and few moves drop. */
export const SEQUENCE_ATTEMPTS_MAX_VMS = 20_000
/** Annealing (annealed.ts) runs on instances up to this many VMs, without move limits. */
export const ANNEAL_MAX_VMS = 400
/** Above annealing's sizes, applications are placed jointly (group-assign.ts) on instances up to this many VMs... */
export const GROUPED_MAX_VMS = 50_000
/** ...in this many steps of its search. */
export const GROUPED_STEPS = 200_000
export const GROUPED_SEED = 0x9e0
/**
 * The two-level assignment starts from this many seeds (GROUPED_SEED + i)
 * while their VMs together stay within GROUPED_STARTS_VMS (10k VMs: 4,
 * 50k: 1), and the lowest wins, as partitioners try several initial
 * partitions: on thesis traffic at 10k VMs / 16 DCs one start ended at
 * 1.03-1.12x METIS + local search depending on the seed alone.
 */
export const GROUPED_STARTS = 4
export const GROUPED_STARTS_VMS = 40_000
/** ...then this many passes of its descent over whole applications. */
export const GROUPED_REFINE_PASSES = 20
/** The lowest assignment then takes this many passes of moves that cost nothing but keep VMs in their DC. */
export const GROUPED_HOMEWARD_PASSES = 10
/** Groups of applications are formed up to this share of the smallest DC's memory. */
export const SUPER_GROUP_SHARE = 0.25
/** The end state is polished (polish.ts) on instances up to this many VMs... */
export const POLISH_MAX_VMS = 60
/** ...with at most this many order searches, of this much work each. */
export const POLISH_CHECKS = 150
export const POLISH_SEARCH_WORK = 50_000

/**
 * Under a budget of B moves, the unlimited plan is put in order only up to
 * its first ORDER_PER_BUDGET x B + ORDER_SLACK moves: the cut takes B of
 * them and skips those that no longer fit; the rest is planned again next
 * round anyway.
 */
export const ORDER_PER_BUDGET = 8
export const ORDER_SLACK = 64
/**
 * Budgets up to this many moves are a round's (agents carry out 5 by
 * default): the search behind them anneals lightly (annealed.ts,
 * ROUND_EFFORT). Larger budgets search fully, so a budget that never binds
 * plans as well as none (test/lib/anytime.test.ts).
 */
export const ROUND_BUDGET = 16

/**
 * Under a round's budget, the round takes its share of the unlimited plan
 * (the steps heading for that plan's placement) whenever that lowers the
 * cost by at least this fraction of the start, even if spending the budget
 * greedily would end the round lower: choosing the lowest cost after each
 * round is a greedy over rounds, which settles applications in DCs that no
 * later round of 5 moves can trade back (bench:optimum with the agents'
 * limits: 2.39x the optimum that way, 1.42x heading for the unlimited
 * plan). Below it the lowest cost wins: a round gaining less than the
 * agents' minimum improvement (1%, limits.ts) would be held back, round
 * after round, while a greedy one gains enough.
 */
export const TOWARD_MIN_SHARE = 0.01
/**
 * Rounds played forward (rollout.ts) search with a tenth of the
 * perturbation work: on bench:optimum's 30 instances the agents ended at
 * the same geomean (1.340 times the optimum, against 1.339 with the full
 * work) in less time. Their annealing stays: without it the estimate
 * misled (1.446, above the 1.424 of no rollouts at all).
 */
export const ROLLOUT_ILS_WORK = ILS_WORK / 10

const EPS = 1e-12

export function planLookahead (input: Snapshot | Instance, config: PlannerConfig = {}): Plan {
  const inst = 'vmIds' in input ? input : compile(input)
  const model = new CostModel(inst, config)
  const maxMoves = config.maxMoves ?? DEFAULT_MAX_MOVES
  if (maxMoves === Infinity) return search(inst, model, config)
  // No move allowed (an agent whose migrations fill the in-flight limit): no search.
  if (maxMoves <= 0) return stay(model)
  const rollouts = config.rolloutRounds ?? 0
  if (rollouts <= 0 || maxMoves > ROUND_BUDGET || inst.nVm > ROLLOUT_MAX_VMS) return planBudgeted(inst, model, config, maxMoves, false)[0]!
  // A round on a small instance: each candidate played forward round after
  // round, and the one whose rounds end lowest taken (rollout.ts).
  // Also the round heading for what a full-effort search finds: a round's
  // light search can miss a placement the full one reaches (thesis seed 16,
  // clustered seed 5: the agents' loop 1.71x and 1.46x the optimum without it).
  const own = planBudgeted(inst, model, config, maxMoves, true)
  const far = towardUnlimited(inst, model, config, roundLimits(config, maxMoves), FULL_EFFORT, ILS_WORK)
  const candidates = withShorterRounds(far === undefined ? own : [...own, far])
  return chooseByRollout(inst, config, rollouts, candidates, next => planBudgeted(next, new CostModel(next, config), config, maxMoves, false, ROUND_EFFORT, ROLLOUT_ILS_WORK)[0]!, config.loop, promisedRound(inst, model, config, maxMoves, LOOKAHEAD_PLANNER))
}

/**
 * Under a budget (an agent's round): the same search without the limits,
 * its steps cut to the round (budget-cut.ts), so each round heads for the
 * placement the unlimited plan reaches: under a round's budget that is
 * the plan while it gains enough (TOWARD_MIN_SHARE). Else against it, a
 * search that spends the budget greedily, and a plain best-move-first
 * greedy (best-first.ts); the lowest cost after the round wins.
 * Annealed lightly under a round's budget (ROUND_EFFORT): its limits,
 * not the search, bound what a round carries out.
 * Without the grouped placement: on 1k-10k VMs it changed no round's
 * moves at budgets of 5, 100 and 1,000 (its plan's first steps are the
 * greedy's) and tripled the round's time.
 * Without the unlimited search when no round of this size can gain
 * TOWARD_MIN_SHARE (move-bound.ts; at 100k VMs, planner.md step 9).
 *
 * The chosen plan comes first; with `all`, the other candidates follow
 * (for chooseByRollout), else they are not computed once the choice is made.
 */
function planBudgeted (inst: Instance, model: CostModel, config: PlannerConfig, maxMoves: number, all: boolean, effort: AnnealEffort = maxMoves <= ROUND_BUDGET ? ROUND_EFFORT : FULL_EFFORT, ilsWork = ILS_WORK): Plan[] {
  const limits = roundLimits(config, maxMoves)
  // A round that cannot gain TOWARD_MIN_SHARE however it is planned never heads for the unlimited plan: that search is skipped.
  const hopeless = !all && maxMoves <= ROUND_BUDGET && mostGainOfMoves(model, inst.vmHost, maxMoves) < TOWARD_MIN_SHARE * evaluate(model, inst.vmHost).total
  const toward = hopeless ? undefined : towardUnlimited(inst, model, config, limits, effort, ilsWork)
  // A round heads for the unlimited plan's placement while that gains enough (TOWARD_MIN_SHARE).
  const heads = maxMoves <= ROUND_BUDGET && toward !== undefined && toward.initialCost - toward.finalCost >= TOWARD_MIN_SHARE * toward.initialCost && toward.moves.length > 0
  if (heads && !all) return [toward]
  const greedy = anytimeOrder(model, search(inst, model, config), limits)
  const plain = planBestFirst(model, config, LOOKAHEAD_PLANNER)
  // The lowest after the round; ties keep the earlier candidate.
  let best = toward ?? greedy
  if (!heads) for (const c of [greedy, plain]) if (c.finalCost < best.finalCost - EPS) best = c
  return [best, ...[toward, greedy, plain].filter((c): c is Plan => c !== undefined && c !== best)]
}

function roundLimits (config: PlannerConfig, maxMoves: number): StepLimits {
  return { maxMoves, maxPerHost: config.maxMovesPerHost ?? DEFAULT_MAX_MOVES_PER_HOST }
}

/** The unlimited plan (searched with `effort`), and the round's share of it: its steps heading for its placement, cut to `limits` (budget-cut.ts); undefined if it cannot be put in steps. */
function towardUnlimited (inst: Instance, model: CostModel, config: PlannerConfig, limits: StepLimits, effort: AnnealEffort, ilsWork: number): Plan | undefined {
  const full = search(inst, model, { ...config, maxMoves: Infinity, maxMovesPerHost: Infinity }, false, effort, ilsWork)
  const steps = anytimeSteps(model, full, ORDER_PER_BUDGET * limits.maxMoves + ORDER_SLACK, limits).steps
  return steps === undefined ? undefined : cutToLimits(model, steps, config, LOOKAHEAD_PLANNER, full.stopped)
}

/** The plan that moves nothing. */
function stay (model: CostModel): Plan {
  const cost = evaluate(model, model.instance.vmHost).total
  return { planner: LOOKAHEAD_PLANNER, initialCost: cost, finalCost: cost, moves: [], stopped: 'move-limit' }
}

/** Steps 1-5 (and 6 if `grouped`): the best executable plan the searches find within `config`'s limits. */
function search (inst: Instance, model: CostModel, config: PlannerConfig, grouped = true, effort: AnnealEffort = FULL_EFFORT, ilsWork = ILS_WORK): Plan {
  const searches = inst.nVm <= SEQUENCE_ATTEMPTS_MAX_VMS ? SEQUENCE_ATTEMPTS : 1
  let best = carry(model, config, LOOKAHEAD_PLANNER, searches, held => {
    const search = new LookaheadSearch(inst, model, config, inst.vmHost, false, held)
    search.ilsWork = ilsWork
    const stopped = search.run()
    return { hostOf: search.state.hostOf, priority: search.firstMoved(), stopped }
  })
  // Small instances without move limits: annealing over placements, which
  // crosses the ridges that stop the greedy search (see annealed.ts).
  if (annealable(inst, config)) {
    const annealed = planAnnealed(model, {
      repair: start => {
        const repair = new LookaheadSearch(inst, model, config, start, true, new Uint8Array(inst.nVm))
        const stopped = repair.run()
        return { steps: repair.trailSteps(), stopped }
      },
      replay: (steps, stopped) => replay(model, steps, stopped, LOOKAHEAD_PLANNER)
    }, effort)
    if (annealed.finalCost < best.finalCost - EPS && acceptable(annealed, config)) best = annealed
    if (inst.nVm <= POLISH_MAX_VMS) {
      const polished = polish(inst, model, best)
      if (polished !== undefined && polished.finalCost < best.finalCost - EPS && acceptable(polished, config)) best = polished
    }
  } else if (grouped && groupable(inst, config)) {
    // Larger instances: whole applications assigned to DCs jointly, then
    // carried out. The greedy search moves one VM (or one group) at a time
    // and stops where DCs are full; this trades applications between them.
    const grouped = planGrouped(inst, model, config, best.stopped)
    if (grouped !== undefined && grouped.finalCost < best.finalCost - EPS && acceptable(grouped, config)) best = grouped
  }
  return best
}

/** Whole applications placed jointly (group-assign.ts) and carried out (then repaired); undefined if that gains nothing. */
function planGrouped (inst: Instance, model: CostModel, config: PlannerConfig, stopped: StopReason): Plan | undefined {
  const movable = new Uint8Array(inst.nVm).fill(1)
  const label = communities(inst)
  const groups = groupMembers(label)
  const assign = (from: Int32Array, units: number[][], steps: number, seed = GROUPED_SEED): Int32Array | undefined =>
    assignGroups(model, from, { movable, groups: units, steps, seed, refinePasses: GROUPED_REFINE_PASSES })
  // Two levels, as multilevel partitioners do: applications that talk to
  // each other placed together first, then each application on its own
  // (10k VMs, thesis traffic: 4.1e-4 of the start in one level, 5.2e-5 in two).
  const smallestDc = Math.min(...inst.dcMemory)
  const supers = groupMembers(superGroups(inst, label, smallestDc * SUPER_GROUP_SHARE))
  const candidates = [assign(inst.vmHost, groups, GROUPED_STEPS)]
  const starts = Math.max(1, Math.min(GROUPED_STARTS, Math.floor(GROUPED_STARTS_VMS / inst.nVm)))
  for (let i = 0; i < starts; i++) {
    const coarse = assign(inst.vmHost, supers, GROUPED_STEPS, GROUPED_SEED + i)
    candidates.push(coarse === undefined ? undefined : assign(coarse, groups, 0) ?? coarse)
  }
  let target: Int32Array | undefined
  let lowest = Infinity
  for (const c of candidates) {
    if (c === undefined) continue
    const cost = evaluate(model, c).total
    if (cost < lowest) { target = c; lowest = cost }
  }
  if (target === undefined) return undefined
  // Where applications cost alike in several DCs, the one most of them live
  // in (homeward.ts). Both are carried out, as what is carried out may end
  // apart (clustered 1k VMs / 16 DCs: the one kept home ended at 6.5e-5 of
  // the start, the other at 0): the lower wins, the fewer moves on a tie.
  const home = keepHome(model, target, { movable, groups, passes: GROUPED_HOMEWARD_PASSES })
  const plain = carryGrouped(inst, model, config, movable, Int32Array.from(target), stopped)
  if (home === target) return plain
  const kept = carryGrouped(inst, model, config, movable, home, stopped)
  const tie = EPS * Math.max(1e-300, plain.finalCost)
  return kept.finalCost < plain.finalCost - tie || (kept.finalCost <= plain.finalCost + tie && kept.moves.length < plain.moves.length) ? kept : plain
}

/** A placement of whole applications finished VM by VM and carried out (planGrouped); `target` is changed. */
function carryGrouped (inst: Instance, model: CostModel, config: PlannerConfig, movable: Uint8Array, target: Int32Array, stopped: StopReason): Plan {
  target.set(relabelTowardHome(model, target))
  // Then VM by VM: a group's members that belong elsewhere (a front end near its clients) go there.
  const refined = new Placement(model, target)
  descend(refined, movable)
  settleHome(refined)
  target.set(refined.hostOf)
  // Hosts again with VMs that stay in their DC on their own host first:
  // the searches above pick hosts by room, which moves such VMs within their DC.
  const packed = packOntoHosts(inst, Int32Array.from(target, h => inst.hostDc[h]!))
  if (packed !== undefined && evaluate(model, packed).total <= refined.cost + EPS * Math.max(1e-300, refined.cost)) target.set(packed)
  // Moves with the most gain first: carried out in that order, the first ones find room.
  const start = new Placement(model)
  const gain = new Float64Array(inst.nVm)
  const moved: number[] = []
  target.forEach((h, v) => { if (h !== inst.vmHost[v]) { moved.push(v); gain[v] = -start.delta(v, inst.hostDc[h]!) } })
  moved.sort((a, b) => gain[b]! - gain[a]! || a - b)
  return carry(model, config, LOOKAHEAD_PLANNER, 1, () => ({ hostOf: target, priority: moved, stopped, dcsOnly: true }))
}

/** The plan's end state improved by changes that still leave an order that runs (polish.ts); undefined if none. */
function polish (inst: Instance, model: CostModel, plan: Plan): Plan | undefined {
  const hostIndex = new Map(inst.hostIds.map((id, i) => [id, i]))
  const vmIndex = new Map(inst.vmIds.map((id, i) => [id, i]))
  const end = Int32Array.from(inst.vmHost)
  for (const m of plan.moves) end[vmIndex.get(m.vm)!] = hostIndex.get(m.to)!
  const steps = polishReachable(model, end, { movable: new Uint8Array(inst.nVm).fill(1), checks: POLISH_CHECKS, budget: POLISH_SEARCH_WORK })
  return steps === undefined ? undefined : replay(model, steps, plan.stopped, LOOKAHEAD_PLANNER)
}

/** The grouped placement runs above the annealing's sizes, without move limits, where there is traffic to place. */
function groupable (inst: Instance, config: PlannerConfig): boolean {
  return inst.nVm > ANNEAL_MAX_VMS && inst.nVm <= GROUPED_MAX_VMS && inst.nDc >= 2 && inst.totalBps > 0 &&
    (config.maxMoves ?? DEFAULT_MAX_MOVES) === Infinity && (config.maxMovesPerHost ?? DEFAULT_MAX_MOVES_PER_HOST) === Infinity
}

/** Annealing only runs where it is cheap and no limit shapes the plan (under a budget, the search without limits anneals). */
function annealable (inst: Instance, config: PlannerConfig): boolean {
  return inst.nVm <= ANNEAL_MAX_VMS && inst.nDc >= 2 && inst.totalBps > 0 &&
    (config.maxMoves ?? DEFAULT_MAX_MOVES) === Infinity && (config.maxMovesPerHost ?? DEFAULT_MAX_MOVES_PER_HOST) === Infinity
}

/** minGain still holds on average per move. */
function acceptable (plan: Plan, config: PlannerConfig): boolean {
  const minGain = config.minGain ?? DEFAULT_MIN_GAIN
  return plan.moves.length === 0 || plan.initialCost - plan.finalCost > minGain * plan.moves.length
}
