/**
 * The plan an agent makes for a round: its configured planner under its
 * safety limits (lib/planners/safe-plan.ts). The daemon (controls.ts) and
 * `heliotrope plan --config` both plan through here, so the CLI given an
 * agent's config and snapshot plans exactly what that agent would.
 */
import type { OnTheMove } from '../../lib/planners/limits.ts'
import { PLANNERS, type PlannerConfig } from '../../lib/planners/index.ts'
import type { RoundLoop } from '../../lib/planners/config.ts'
import { planSafely, type SafePlan } from '../../lib/planners/safe-plan.ts'
import type { Snapshot } from '../../lib/model.ts'
import { withRules } from '../../lib/rules.ts'
import { type AgentConfig, rolloutRoundsOf } from '../config.ts'
import type { SafetyConfig } from './config.ts'

export interface HeldThisRound {
  /** Migrations planned and not finished. */
  onTheMove: readonly OnTheMove[]
  /** VMs in their cooldown. */
  cooling: Iterable<string>
  /** The same VMs with the rounds each still stays put after this one (Cooldown.left); rollouts weigh waiting for them. */
  coolingLeft?: ReadonlyMap<string, number>
}

export const NOTHING_HELD: HeldThisRound = { onTheMove: [], cooling: [] }

/** The planner section as the planners and the cost function take it. */
export function plannerConfig (planner: AgentConfig['planner']): PlannerConfig {
  return { maxMoves: planner.maxMoves, maxMovesPerHost: planner.maxMovesPerHost, minGain: planner.minGain, weights: planner.weights, amortizeSeconds: planner.paybackSeconds }
}

/** The round's plan, and the configured rules this round's snapshot could not apply (naming a VM, group or DC it lacks). */
export type RoundPlan = SafePlan & { ignoredRules: string[] }

/** The snapshot with the config's placement rules added (those that name what it holds). */
export function ruledSnapshot (snapshot: Snapshot, planner: AgentConfig['planner']): { snapshot: Snapshot, ignored: string[] } {
  return withRules(snapshot, planner.rules)
}

/** `roundPeriodMs`: the round the agent runs, which sets whether rounds are played forward unless the planner section says (rolloutRoundsOf). */
export function roundPlan (snapshot: Snapshot, planner: AgentConfig['planner'], safety: SafetyConfig, held: HeldThisRound, roundPeriodMs: number): RoundPlan {
  const ruled = ruledSnapshot(snapshot, planner)
  const plan = planSafely(ruled.snapshot, {
    planner: PLANNERS[planner.name]!,
    // Rounds played forward as this loop runs them: the cooldown and the minimum improvement (rollout.ts).
    config: { ...plannerConfig(planner), rolloutRounds: rolloutRoundsOf(planner, roundPeriodMs), loop: roundLoop(ruled.snapshot, safety, held) },
    limits: { maxInFlight: safety.maxInFlight, maxInFlightPerHost: safety.maxInFlightPerHost, minImprovement: safety.minImprovement },
    onTheMove: held.onTheMove,
    cooling: held.cooling
  })
  return { ...plan, ignoredRules: ruled.ignored }
}

/** The loop rollouts play: the safety section's cooldown and minimum improvement, and the VMs cooling now that no operator pinned (those stay put anyway). */
function roundLoop (snapshot: Snapshot, safety: SafetyConfig, held: HeldThisRound): RoundLoop {
  const loop: RoundLoop = { cooldownRounds: safety.cooldownRounds, minImprovement: safety.minImprovement }
  if (held.coolingLeft === undefined || held.coolingLeft.size === 0) return loop
  const pinned = new Set(snapshot.vms.filter(v => v.pinned === true).map(v => v.id))
  return { ...loop, cooling: new Map([...held.coolingLeft].filter(([vm]) => !pinned.has(vm))) }
}
