/** Options every planner takes. Defaults are named so they can be quoted. */
import type { CostOptions } from '../cost.ts'

export interface PlannerConfig extends CostOptions {
  /** Most migrations in one plan (one round). */
  maxMoves?: number
  /** Most migrations touching one host (in or out) in one plan. */
  maxMovesPerHost?: number
  /** A move (or the average move of a chain) must lower the cost by more than this. */
  minGain?: number
}

export const DEFAULT_MAX_MOVES = Infinity
export const DEFAULT_MAX_MOVES_PER_HOST = Infinity
export const DEFAULT_MIN_GAIN = 0
