/** Options every planner takes. Defaults are named so they can be quoted. */
import type { CostOptions } from '../cost.ts'

export interface PlannerConfig extends CostOptions {
  /** Most migrations in one plan (one round). */
  maxMoves?: number
  /** Most migrations touching one host (in or out) in one plan. */
  maxMovesPerHost?: number
  /** A move (or the average move of a chain) must lower the cost by more than this. */
  minGain?: number
  /**
   * Under a round's budget on a small instance, rounds played forward after
   * each candidate round to choose between them (rollout.ts); it must reach
   * where the rounds settle, or the choice favours early gains. Unset or 0:
   * none (a plan then takes a fraction of the time; the agent's config sets
   * it where its rounds leave the time).
   */
  rolloutRounds?: number
}

export const DEFAULT_MAX_MOVES = Infinity
export const DEFAULT_MAX_MOVES_PER_HOST = Infinity
export const DEFAULT_MIN_GAIN = 0
