/**
 * One round of a plan made without limits. The planner searches the whole
 * way to its best placement (lookahead.ts); a round carries out only a few
 * moves, so the plan's steps (anytime.ts: single moves, and groups that
 * only gain whole) are taken in order while they fit the round:
 *
 * - a step is taken whole or not at all, within the move budget and the
 *   per-host limit (a step that does not fit is skipped; a smaller one
 *   later may);
 * - it must still run where the steps taken so far left things (its VMs
 *   where it found them, room at its targets) and still gain more than
 *   `minGain` per move; otherwise it is skipped too.
 *
 * Every step taken lowers the cost, so every prefix costs at most the start.
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
  const tol = 1e-9 * Math.max(1, Math.abs(state.cost))
  const touches = new Int32Array(model.instance.nHost)
  let skipped = false
  for (const step of steps) {
    if (rec.count >= maxMoves) { skipped = true; break }
    if (rec.count + step.length > maxMoves || !withinHostLimit(touches, step, maxPerHost)) { skipped = true; continue }
    const before = state.cost
    let applied = 0
    for (const m of step) {
      if (state.hostOf[m.vm] !== m.from || !state.fits(m.vm, m.to)) break
      rec.apply(m.vm, m.to)
      applied++
    }
    if (applied < step.length || before - state.cost <= minGain * step.length + tol) {
      rec.rollback(applied)
      skipped = true
      continue
    }
    for (const m of step) { touches[m.from]!++; touches[m.to]!++ }
  }
  return rec.exactPlan(planner, skipped ? 'move-limit' : stopped)
}

function withinHostLimit (touches: Int32Array, step: readonly IndexedMove[], maxPerHost: number): boolean {
  if (maxPerHost === Infinity) return true
  const extra = new Map<number, number>()
  for (const m of step) for (const h of [m.from, m.to]) extra.set(h, (extra.get(h) ?? 0) + 1)
  for (const [h, n] of extra) if (touches[h]! + n > maxPerHost) return false
  return true
}
