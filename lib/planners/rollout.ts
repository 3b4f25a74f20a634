/**
 * A round chosen by where it leads. Agents carry out a few moves a round and
 * plan again; every round must lower the cost, so the rounds stop at the
 * first placement where no batch of a round's size gains (a local optimum of
 * "5 moves, 2 per host"). Which of those the agents end in is decided by the
 * early rounds: taking the round that gains most now, or even the share of
 * the unlimited plan, can lead into a placement that no later round leaves.
 *
 * So each candidate for this round is played forward: after it, the round
 * planner itself plans again and again from where the last round left
 * things, as the agents would, until a round moves nothing (or the
 * planner's `rolloutRounds`; agent/config.ts sets it), and the candidate
 * whose rounds end lowest is this round's plan. Ties keep the earlier
 * candidate, so the round planner's own choice (the first) stands unless
 * another one ends lower; so the rounds end at most where they would
 * without. Deterministic like every planner: the same snapshot gives the
 * same plan on any agent.
 *
 * With the agents' `loop` the rounds are played as the agents run them
 * (cooldown, minimum improvement), and with VMs cooling now, waiting for
 * them is a candidate: on bench:optimum's 30 instances the agents' whole
 * loop ended at 1.219 times the optimum (geometric mean) instead of 1.425
 * with rounds played as if every VM could move at once again, at 1.163
 * with shorter rounds as candidates too (withShorterRounds), at 1.128
 * with a full-effort search's round as one more (lookahead.ts), and at
 * 1.101 with the first round of a path a search over rounds found
 * (round-beam.ts, `promised`); a round's plan takes seconds instead of
 * tenths (docs/planner.md).
 */
import { CostModel, evaluate, type CostOptions } from '../cost.ts'
import { compile, type Instance } from '../instance.ts'
import type { Plan } from '../model.ts'
import type { RoundLoop } from './config.ts'
import { stepEnds } from './anytime.ts'
import { improvesEnough } from './limits.ts'

/** Rounds are played forward on instances up to this many VMs: each candidate costs up to `rolloutRounds` plans. */
export const ROLLOUT_MAX_VMS = 40

/**
 * Forward plans one round's choice may make: once this many are made, the
 * candidates not yet played forward are left out (the earlier ones, the
 * round planner's own choice first, always are). A forward plan on 36-40
 * VMs takes about 0.1 s here; with shorter rounds as candidates the
 * slowest round of bench:optimum's agents' loop had made 201 of them
 * (22 s on a busy machine; a 30 s round gives rank 0 3 s, lib/rounds.ts).
 * With this bound every instance there ended as without it.
 */
export const MAX_FORWARD_PLANS = 120

/** The placement after `plan`'s moves, as a new instance (the next round's snapshot). */
export function afterPlan (inst: Instance, plan: Plan): Instance {
  if (plan.moves.length === 0) return inst
  const to = new Map(plan.moves.map(m => [m.vm, m.to]))
  const snap = inst.snapshot
  return compile({ ...snap, vms: snap.vms.map(vm => { const host = to.get(vm.id); return host === undefined ? vm : { ...vm, host } }) })
}

/**
 * Of `candidates` for this round on `inst` (the round planner's own choice
 * first), the one whose rounds, planned by `next` until one moves nothing,
 * end lowest (after at most `rounds` of them that move): priced in
 * `options`' cost from this round's placement, so the migrations on the way
 * count where the cost counts them. With the agents' `loop`, the rounds are
 * played as the agents run them: a VM that moved is held for the cooldown,
 * a round below the minimum improvement stands still (and so does a
 * candidate: it is not taken), and the rounds end when one stands still
 * with nothing cooling. A `promised` round (the first of a path of valid
 * rounds a search over rounds found, round-beam.ts) is taken instead where
 * that path ends lower than every candidate's rounds.
 */
export function chooseByRollout (inst: Instance, options: CostOptions, rounds: number, candidates: readonly Plan[], planNext: (inst: Instance) => Plan, loop?: RoundLoop, promised?: Promised): Plan {
  const runs = (p: Plan): boolean => loop === undefined || p.moves.length === 0 || improvesEnough(p, loop.minImprovement)
  // With VMs cooling, waiting for them is a candidate too (last: it wins only when strictly lower).
  const waits = loop?.cooling !== undefined && loop.cooling.size > 0
  const all = waits ? [...candidates, { ...candidates[0]!, moves: [], finalCost: candidates[0]!.initialCost, steps: undefined }] : candidates
  // The first is played forward even when it moves nothing: standing still is a choice too.
  const distinct = all.filter((c, i) => (i === 0 || c.moves.length > 0 || (waits && i === all.length - 1)) && runs(c) && all.findIndex(d => sameMoves(c, d)) === i)
  const first = distinct[0] ?? candidates[0]!
  if (distinct.length < 2 && promised === undefined) return first
  const model = new CostModel(inst, options)
  const tol = 1e-9 * Math.max(1, Math.abs(first.initialCost))
  let plans = 0
  const next = remembered(i => { plans++; return planNext(i) })
  let best = first
  let lowest = Infinity
  for (const c of distinct) {
    // A bound on the round's work, counted (not timed) so every agent chooses alike: later candidates are not played.
    if (plans >= MAX_FORWARD_PLANS) break
    const at = loop === undefined ? playForward(inst, c, rounds, next) : playLoop(inst, c, rounds, next, loop)
    // Hosts and VMs keep their order through afterPlan, so indices carry over.
    const end = evaluate(model, at.vmHost).total
    if (end < lowest - tol) { best = c; lowest = end }
  }
  return promised !== undefined && promised.end < lowest - tol ? promised.plan : best
}

/** A round that a search over rounds (round-beam.ts) found a path of valid rounds from, and where that path ends. */
export interface Promised {
  plan: Plan
  end: number
}

/** Rounds after `first`, each planned by `next`, until one moves nothing or `rounds` have. */
function playForward (inst: Instance, first: Plan, rounds: number, next: (inst: Instance) => Plan): Instance {
  let at = afterPlan(inst, first)
  for (let r = 0; r < rounds; r++) {
    const plan = next(at)
    if (plan.moves.length === 0) break
    at = afterPlan(at, plan)
  }
  return at
}

/**
 * The same in the agents' loop: VMs moved within the last `cooldownRounds`
 * rounds pinned for the round; a round below `minImprovement` stands still,
 * and the rounds end when one stands still with nothing cooling (the next
 * would plan the same). At most `rounds` rounds that move.
 */
function playLoop (inst: Instance, first: Plan, rounds: number, next: (inst: Instance) => Plan, loop: RoundLoop): Instance {
  // The VMs cooling now are pinned in `inst` for this round only: free them, and pin them by their cooldown below.
  const cooling = loop.cooling ?? new Map<string, number>()
  let at = afterPlan(cooling.size === 0 ? inst : withPinned(inst, new Set(), cooling), first)
  const movedAt = new Map([...[...cooling].map(([vm, left]): [string, number] => [vm, left - loop.cooldownRounds]), ...first.moves.map((m): [string, number] => [m.vm, 0])])
  for (let round = 1, moving = 0; moving < rounds; round++) {
    const cooling = new Set<string>()
    for (const [vm, r] of movedAt) if (round - r <= loop.cooldownRounds) cooling.add(vm)
    const plan = next(cooling.size === 0 ? at : withPinned(at, cooling))
    if (plan.moves.length === 0 || !improvesEnough(plan, loop.minImprovement)) {
      if (cooling.size === 0) break
      // The same snapshot plans the same until a cooldown ends: on to that round.
      let free = Infinity
      for (const vm of cooling) free = Math.min(free, movedAt.get(vm)! + loop.cooldownRounds + 1)
      round = free - 1
      continue
    }
    at = afterPlan(at, plan)
    for (const m of plan.moves) movedAt.set(m.vm, round)
    moving++
  }
  return at
}

/** `inst` with `vms` pinned for a round (their cooldown), and `free` unpinned. */
function withPinned (inst: Instance, vms: ReadonlySet<string>, free: ReadonlyMap<string, number> = new Map()): Instance {
  const snap = inst.snapshot
  return compile({
    ...snap,
    vms: snap.vms.map(vm => {
      if (vms.has(vm.id)) return vm.pinned === true ? vm : { ...vm, pinned: true }
      return free.has(vm.id) && vm.pinned === true ? { ...vm, pinned: false } : vm
    })
  })
}

function sameMoves (a: Plan, b: Plan): boolean {
  return a.moves.length === b.moves.length && a.moves.every((m, i) => m.vm === b.moves[i]!.vm && m.to === b.moves[i]!.to)
}

/**
 * `candidates`, then each one's shorter rounds: every proper prefix of its
 * steps (a step is kept whole, so each prefix is a round an agent may
 * carry out). A shorter round leaves the rest free for a later round that
 * sees the new placement, and the VMs it did not move are not held by the
 * cooldown: on bench:optimum's 30 instances the agents' loop ended at the
 * optimum on clustered seeds 2, 14 and 20 and thesis seed 1 (1.23-1.55x
 * before; docs/planner.md). The full rounds come first, so a tie keeps them.
 */
export function withShorterRounds (candidates: readonly Plan[]): Plan[] {
  return [...candidates, ...candidates.flatMap(prefixesOf)]
}

/** Every proper prefix of `plan`'s steps (each move a step when it has none), shortest first. */
function prefixesOf (plan: Plan): Plan[] {
  return stepEnds(plan).slice(0, -1).map((end, i) => {
    const moves = plan.moves.slice(0, end + 1)
    const prefix: Plan = { ...plan, moves, finalCost: moves[end]!.cost }
    if (plan.steps !== undefined) prefix.steps = plan.steps.slice(0, i + 1)
    if (plan.mends !== undefined) prefix.mends = Math.min(plan.mends, moves.length)
    return prefix
  })
}

/**
 * `next` answering from memory for a placement and pins it planned
 * already: candidates' rounds meet in the same placement at times (two
 * batches in either order; 8% of the plans on bench:optimum's slowest
 * instances), and the planner is deterministic.
 */
function remembered (next: (inst: Instance) => Plan): (inst: Instance) => Plan {
  const seen = new Map<string, Plan>()
  return inst => {
    const key = `${inst.vmHost.join(',')}|${inst.vmPinned.join('')}`
    const known = seen.get(key)
    if (known !== undefined) return known
    const plan = next(inst)
    seen.set(key, plan)
    return plan
  }
}
