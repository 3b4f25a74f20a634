/**
 * Placement rules first (docs/planner.md, "Placement rules"): where the
 * snapshot breaks a rule, moves that mend it come before any move for cost,
 * whatever they cost, within the plan's move limits; the planner then plans
 * the rest of the budget from the mended placement, with the mended VMs held
 * (a VM moves once per plan). The whole plan is then played once more
 * against the rules, and cut before the first step that would make one
 * worse: every planner checks rules where it checks room (Placement.fits),
 * and this is the guard that a stage which does not can never break one.
 */
import { CostModel } from '../cost.ts'
import { compile, type Instance } from '../instance.ts'
import type { Plan, Snapshot } from '../model.ts'
import { Placement } from '../placement.ts'
import { type PlannerConfig, DEFAULT_MAX_MOVES, DEFAULT_MAX_MOVES_PER_HOST } from './config.ts'
import type { PlannerFn } from './index.ts'
import { MoveRecorder } from './recorder.ts'
import type { Step } from './sequence.ts'

/** `planner` with rules mended first and checked after; the planner itself when the instance has no rules. */
export function rulesFirst (planner: PlannerFn): PlannerFn {
  return (input: Snapshot | Instance, config: PlannerConfig = {}): Plan => {
    const inst = 'vmIds' in input ? input : compile(input)
    if (inst.rules === undefined) return planner(inst, config)
    const model = new CostModel(inst, config)
    const mending = mend(new Placement(model), config)
    const budget = (config.maxMoves ?? DEFAULT_MAX_MOVES) - mending.length
    const rest = mending.length === 0
      ? planner(inst, config)
      // With no budget left the planner only names itself (a budget of 0 plans nothing).
      : planner(budget > 0 ? compile(held(inst, mending)) : inst, { ...config, maxMoves: Math.max(0, budget) })
    const vmIndex = new Map(inst.vmIds.map((id, i) => [id, i]))
    const hostIndex = new Map(inst.hostIds.map((id, i) => [id, i]))
    const steps: number[] = [...mending.map(() => 1), ...(rest.steps ?? rest.moves.map(() => 1))]
    const moves: Step[] = [...mending, ...rest.moves.map(m => ({ vm: vmIndex.get(m.vm)!, host: hostIndex.get(m.to)! }))]
    const plan = playWithin(model, moves, steps, rest)
    const mends = Math.min(mending.length, plan.moves.length)
    return mends > 0 ? { ...plan, mends } : plan
  }
}

/**
 * Moves that lower the rules' total violation without making any rule
 * worse, the one mending most first (ties: the cheapest, then the lower
 * VM and DC), until every rule holds or none helps; within the move limits.
 */
export function mend (state: Placement, config: PlannerConfig): Step[] {
  const rules = state.rules
  if (rules === undefined) return []
  const inst = state.inst
  const maxMoves = config.maxMoves ?? DEFAULT_MAX_MOVES
  const maxPerHost = config.maxMovesPerHost ?? DEFAULT_MAX_MOVES_PER_HOST
  const touches = new Int32Array(inst.nHost)
  const moved = new Uint8Array(inst.nVm)
  const ruled = ruledVms(inst)
  const out: Step[] = []
  while (rules.violation > 0 && out.length < maxMoves) {
    let best: { vm: number, host: number, fixed: number, delta: number } | undefined
    for (const v of ruled) {
      const from = state.dcOf(v)
      if (moved[v] === 1 || inst.vmPinned[v] === 1 || touches[state.hostOf[v]!]! >= maxPerHost) continue
      for (let d = 0; d < inst.nDc; d++) {
        const fixed = d === from ? 0 : rules.fixes(v, from, d)
        if (fixed <= 0 || (best !== undefined && fixed < best.fixed)) continue
        const delta = state.delta(v, d)
        if (best !== undefined && fixed === best.fixed && delta >= best.delta) continue
        const host = roomiest(state, v, d, touches, maxPerHost)
        if (host >= 0) best = { vm: v, host, fixed, delta }
      }
    }
    if (best === undefined) break
    touches[state.hostOf[best.vm]!]!++; touches[best.host]!++
    moved[best.vm] = 1
    state.apply(best.vm, best.host)
    out.push({ vm: best.vm, host: best.host })
  }
  return out
}

/** VMs some rule names (the only ones a mending move can help). */
function ruledVms (inst: Instance): number[] {
  const r = inst.rules!
  const out: number[] = []
  for (let v = 0; v < inst.nVm; v++) if (r.vmStart[v + 1]! > r.vmStart[v]!) out.push(v)
  return out
}

/** The host of `dc` that takes `vm` (room, rules, per-host limit) with most memory left; -1 if none. */
function roomiest (state: Placement, vm: number, dc: number, touches: Int32Array, maxPerHost: number): number {
  let best = -1; let bestFree = -Infinity
  for (const h of state.inst.dcHosts[dc]!) {
    if (touches[h]! >= maxPerHost || !state.fits(vm, h)) continue
    const free = state.inst.hostMemory[h]! - state.memUsed[h]!
    if (free > bestFree) { best = h; bestFree = free }
  }
  return best
}

/** The instance's snapshot with `moves` made and those VMs pinned. */
function held (inst: Instance, moves: Step[]): Snapshot {
  const to = new Map(moves.map(m => [m.vm, m.host]))
  const s = inst.snapshot
  return { ...s, vms: s.vms.map((v, i) => to.has(i) ? { ...v, host: inst.hostIds[to.get(i)!]!, pinned: true } : v) }
}

/**
 * Plays `moves` step by step from the snapshot and keeps the steps that run
 * whole: the VM where the move says, room on the target, no rule worse. Cut
 * at the first step that does not. The per-host limit is the planners' own
 * (Algorithm 1 has none; an agent's round trims to its hosts' in-flight
 * limits after, limits.ts): the mending moves and the planner's each keep
 * it, together they may pass it.
 */
function playWithin (model: CostModel, moves: Step[], steps: number[], from: Pick<Plan, 'planner' | 'stopped'>): Plan {
  const state = new Placement(model)
  const rec = new MoveRecorder(state)
  const kept: number[] = []
  let i = 0
  for (const size of steps) {
    let ok = true
    for (let k = 0; k < size && ok; k++) {
      const { vm, host } = moves[i + k]!
      ok = host !== state.hostOf[vm] && state.fits(vm, host)
      if (ok) rec.apply(vm, host)
    }
    if (!ok) break
    kept.push(size)
    i += size
  }
  // Undo a step cut short (the moves it made before the one that failed).
  rec.rollback(rec.count - i)
  const plan = rec.exactPlan(from.planner, i < moves.length ? 'move-limit' : from.stopped)
  return kept.some(s => s > 1) ? { ...plan, steps: kept } : plan
}
