/**
 * One round of a plan made without limits. The planner searches the whole
 * way to its best placement (lookahead.ts); a round carries out only a few
 * moves, so the plan's steps (anytime.ts: single moves, and groups that
 * only gain whole and fit a round) are taken in order while they fit the
 * round:
 *
 * - a step is taken whole or not at all: every move must still run where
 *   the steps taken so far left things (the VM where the step found it,
 *   room at the target), within the move budget and the per-host limit;
 * - after it the cost is at most the start, and it must gain more than
 *   `minGain` per move; otherwise it is skipped (a smaller step later may
 *   still fit). Keeping the gaining part of a group that the budget cuts
 *   was tried, and gained nothing on bench:rounds.
 *
 * Within a step the cost may pass above the start (an exchange through
 * full hosts: a VM leaves first for one to come in); after every step it
 * is at most the start, and every step lowers it. The plan lists its steps
 * (Plan.steps).
 */
import type { CostModel } from '../cost.ts'
import type { Plan, StopReason } from '../model.ts'
import { Placement } from '../placement.ts'
import type { IndexedMove } from './anytime.ts'
import { type PlannerConfig, DEFAULT_MAX_MOVES, DEFAULT_MAX_MOVES_PER_HOST, DEFAULT_MIN_GAIN } from './config.ts'
import { MoveRecorder } from './recorder.ts'

/** `steps` of a plan made with `model` (from the instance's placement) that stopped for `stopped`: the round's share of it. */
export function cutToLimits (model: CostModel, steps: readonly IndexedMove[][], config: PlannerConfig, planner: string, stopped: StopReason): Plan {
  const maxMoves = config.maxMoves ?? DEFAULT_MAX_MOVES
  const maxPerHost = config.maxMovesPerHost ?? DEFAULT_MAX_MOVES_PER_HOST
  const minGain = config.minGain ?? DEFAULT_MIN_GAIN
  const state = new Placement(model)
  const rec = new MoveRecorder(state)
  const start = state.cost
  const tol = 1e-9 * Math.max(1, Math.abs(start))
  const touches = new Int32Array(model.instance.nHost)
  const kept: number[] = []
  let skipped = false
  for (const step of steps) {
    if (rec.count >= maxMoves) { skipped = true; break }
    const before = state.cost
    let applied = 0
    for (const m of step) {
      if (rec.count >= maxMoves || state.hostOf[m.vm] !== m.from || !state.fits(m.vm, m.to) || touches[m.from]! >= maxPerHost || touches[m.to]! >= maxPerHost) break
      rec.apply(m.vm, m.to)
      touches[m.from]!++; touches[m.to]!++
      applied++
    }
    const whole = applied === step.length && state.cost <= start + tol
    if (whole && before - state.cost > minGain * step.length + tol) { kept.push(applied); continue }
    for (let i = applied - 1; i >= 0; i--) { touches[step[i]!.from]!--; touches[step[i]!.to]!-- }
    rec.rollback(applied)
    skipped = true
  }
  const plan = rec.exactPlan(planner, skipped ? 'move-limit' : stopped)
  return kept.some(n => n > 1) ? { ...plan, steps: kept } : plan
}

