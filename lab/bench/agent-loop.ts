/**
 * The agents' loop as the benches play it (bench:rounds, bench:optimum):
 * each round planned through `planSafely` (the in-flight limits and the
 * minimum improvement, as agent/policy/controls.ts calls it), the VMs that
 * moved held for the cooldown, and the rollouts told how long each cooling
 * VM still stays put (as round-plan.ts tells them). Assumed: every move of
 * a round lands within it and the traffic does not change.
 */
import { Cooldown } from '../../agent/policy/cooldown.ts'
import type { Plan, Snapshot } from '../../lib/model.ts'
import type { PlannerConfig, PlannerFn } from '../../lib/planners/index.ts'
import type { MigrationLimits } from '../../lib/planners/limits.ts'
import { planSafely } from '../../lib/planners/safe-plan.ts'

export interface LoopSettings {
  planner: PlannerFn
  config: PlannerConfig
  limits: MigrationLimits
  cooldownRounds: number
}

export interface RoundDone {
  round: number
  plan: Plan
  /** Time the round's plan took. */
  ms: number
}

/**
 * Rounds 1 to `max` from `start`, each passed to `each` once carried out;
 * with `untilStill`, the loop ends at a round that stands still with
 * nothing cooling (every later round would plan the same). The placement
 * the rounds end in.
 */
export function runAgentLoop (start: Snapshot, s: LoopSettings, max: number, each: (r: RoundDone) => void, untilStill = false): Snapshot {
  let snap = start
  const cooldown = new Cooldown(s.cooldownRounds)
  for (let round = 1; round <= max; round++) {
    const cooling = cooldown.cooling(round)
    const config = s.config.loop === undefined ? s.config : { ...s.config, loop: { ...s.config.loop, cooling: cooldown.left(round) } }
    const t0 = performance.now()
    const { plan } = planSafely(snap, { planner: s.planner, config, limits: s.limits, onTheMove: [], cooling })
    const ms = performance.now() - t0
    const to = new Map(plan.moves.map(m => [m.vm, m.to]))
    for (const m of plan.moves) cooldown.moved(m.vm, round)
    if (to.size > 0) snap = { ...snap, vms: snap.vms.map(v => { const host = to.get(v.id); return host === undefined ? v : { ...v, host } }) }
    each({ round, plan, ms })
    if (untilStill && plan.moves.length === 0 && cooling.length === 0) break
  }
  return snap
}
