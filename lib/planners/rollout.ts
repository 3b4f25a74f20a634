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
 * On bench:optimum's 30 instances with the agents' limits the rounds ended
 * at 1.340 times the optimum (geometric mean) instead of 1.424, none
 * higher; a round's plan takes seconds instead of tenths (docs/planner.md).
 */
import { CostModel, evaluate, type CostOptions } from '../cost.ts'
import { compile, type Instance } from '../instance.ts'
import type { Plan } from '../model.ts'

/** Rounds are played forward on instances up to this many VMs: each candidate costs up to `rolloutRounds` plans. */
export const ROLLOUT_MAX_VMS = 40

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
 * end lowest (after at most `rounds` of them): priced in `options`' cost from this round's placement, so
 * the migrations on the way count where the cost counts them.
 */
export function chooseByRollout (inst: Instance, options: CostOptions, rounds: number, candidates: readonly Plan[], next: (inst: Instance) => Plan): Plan {
  const first = candidates[0]!
  // The first is played forward even when it moves nothing: standing still is a choice too.
  const distinct = candidates.filter((c, i) => (i === 0 || c.moves.length > 0) && candidates.findIndex(d => sameMoves(c, d)) === i)
  if (distinct.length < 2) return first
  const model = new CostModel(inst, options)
  const tol = 1e-9 * Math.max(1, Math.abs(first.initialCost))
  let best = first
  let lowest = Infinity
  for (const c of distinct) {
    let at = afterPlan(inst, c)
    for (let r = 0; r < rounds; r++) {
      const plan = next(at)
      if (plan.moves.length === 0) break
      at = afterPlan(at, plan)
    }
    // Hosts and VMs keep their order through afterPlan, so indices carry over.
    const end = evaluate(model, at.vmHost).total
    if (end < lowest - tol) { best = c; lowest = end }
  }
  return best
}

function sameMoves (a: Plan, b: Plan): boolean {
  return a.moves.length === b.moves.length && a.moves.every((m, i) => m.vm === b.moves[i]!.vm && m.to === b.moves[i]!.to)
}
