/** The planners by name: what the CLI, the agent and the benches choose from. */
import type { Instance } from '../instance.ts'
import type { Plan, Snapshot } from '../model.ts'
import type { PlannerConfig } from './config.ts'
import { LOOKAHEAD_PLANNER, planLookahead } from './lookahead.ts'
import { THESIS_PLANNER, planThesis } from './thesis.ts'
import { rulesFirst } from './rules-first.ts'

export type PlannerFn = (input: Snapshot | Instance, config?: PlannerConfig) => Plan

export const PLANNERS: Readonly<Record<string, PlannerFn>> = {
  // Rules are mended first and checked after, whichever planner runs (rules-first.ts).
  [THESIS_PLANNER]: rulesFirst(planThesis),
  [LOOKAHEAD_PLANNER]: rulesFirst(planLookahead)
}

export const PLANNER_NAMES = Object.keys(PLANNERS)
export const DEFAULT_PLANNER = LOOKAHEAD_PLANNER

export type { PlannerConfig } from './config.ts'
