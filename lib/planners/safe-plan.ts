/**
 * One round's plan under the operator's controls: hold back what is on the
 * move or cooling down, evacuate drained hosts first (an evacuation runs
 * whatever it costs), else run the chosen planner within the budget and
 * keep its plan only if it improves enough. Deterministic, like every
 * planner: the same inputs give the same plan on any agent.
 */
import { compile } from '../instance.ts'
import type { Plan, Snapshot } from '../model.ts'
import type { PlannerConfig } from './config.ts'
import { planEvacuation } from './evacuate.ts'
import type { PlannerFn } from './index.ts'
import { holdBack, improvesEnough, type MigrationLimits, type OnTheMove, standStill, trimToBudget } from './limits.ts'

export interface SafePlanInput {
  planner: PlannerFn
  config: PlannerConfig
  limits: MigrationLimits
  onTheMove: readonly OnTheMove[]
  cooling: Iterable<string>
}

export type Verdict = 'run' | 'evacuate' | 'in-flight-limit' | 'below-min-improvement' | 'nothing-to-do'

export interface SafePlan {
  plan: Plan
  /** What the controls decided, for the round's log line. */
  verdict: Verdict
}

export function planSafely (snapshot: Snapshot, input: SafePlanInput): SafePlan {
  const held = holdBack(snapshot, input.onTheMove, input.cooling, input.limits)
  const inst = compile(held.snapshot)
  const config: PlannerConfig = { ...input.config, maxMoves: Math.min(input.config.maxMoves ?? Infinity, held.budget) }
  const evacuation = planEvacuation(inst, config)
  if (evacuation !== undefined) return { plan: trimToBudget(inst, evacuation, held.hostBudget, config), verdict: 'evacuate' }
  const plan = trimToBudget(inst, input.planner(inst, config), held.hostBudget, config)
  if (plan.moves.length === 0) return { plan, verdict: held.budget === 0 ? 'in-flight-limit' : 'nothing-to-do' }
  if (!improvesEnough(plan, input.limits.minImprovement)) return { plan: standStill(plan), verdict: 'below-min-improvement' }
  return { plan, verdict: 'run' }
}
