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
  /**
   * The loop the agents run rounds in, as rollouts play it forward: unset,
   * every round runs and a VM may move again at once.
   */
  loop?: RoundLoop
}

/** The agents' loop around each round's plan (limits.ts, agent/policy/cooldown.ts). */
export interface RoundLoop {
  /** A VM that moved stays put for this many rounds after. */
  cooldownRounds: number
  /** A round that cuts the cost by less than this fraction of it stands still. */
  minImprovement: number
  /**
   * VMs cooling now (pinned in this round's snapshot for it) and the rounds
   * each still stays put after this one: forward rounds free them then, and
   * standing still this round becomes a candidate (waiting may pay).
   */
  cooling?: ReadonlyMap<string, number>
}

export const DEFAULT_MAX_MOVES = Infinity
export const DEFAULT_MAX_MOVES_PER_HOST = Infinity
export const DEFAULT_MIN_GAIN = 0
