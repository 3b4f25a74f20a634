/**
 * A search's target placement made a plan an agent can carry out: moved one
 * VM at a time in an order that always has room (sequence.ts), what cannot
 * be ordered searched again or repaired, and the plan's costs those of
 * replaying its moves in order.
 */
import type { CostModel } from '../cost.ts'
import type { Plan, StopReason } from '../model.ts'
import { Placement } from '../placement.ts'
import type { PlannerConfig } from './config.ts'
import { LookaheadSearch } from './lookahead-search.ts'
import { MoveRecorder } from './recorder.ts'
import { carryOut, carryOutToDcs, type Sequenced, type Step } from './sequence.ts'

const EPS = 1e-12

export interface Target {
  hostOf: Int32Array
  priority: number[]
  stopped: StopReason
  /**
   * Only the target's DCs matter, not its hosts: where moves host by host
   * are dropped, carrying it out DC by DC (carryOutToDcs) may drop fewer
   * (10k VMs / 4 DCs, thesis traffic: 6 dropped against none).
   */
  dcsOnly?: boolean
}

/**
 * A search's placement carried out one move at a time. Moves that cannot
 * run that way (swaps between full hosts) are dropped; the search runs
 * again with those VMs held in place (up to `searches` times), so it can
 * find an equally good placement that can be carried out. What is still
 * dropped is repaired: from the placement carried out, only VMs that have
 * not moved move, one at a time. The best executable plan wins.
 */
export function carry (model: CostModel, config: PlannerConfig, planner: string, searches: number, search: (held: Uint8Array) => Target): Plan {
  const inst = model.instance
  let held = new Uint8Array(inst.nVm)
  let best: Plan | undefined
  for (let attempt = 0; attempt < searches; attempt++) {
    const target = search(held)
    const { carried, steps, dropped } = carryTarget(model, target)
    let plan: Plan
    if (dropped.length === 0) {
      plan = replay(model, steps, target.stopped, planner)
    } else {
      const repair = new LookaheadSearch(inst, model, config, carried.hostOf, true, new Uint8Array(inst.nVm))
      const repaired = repair.run()
      plan = replay(model, [...steps, ...repair.trailSteps()], repaired, planner)
    }
    if (best === undefined || plan.finalCost < best.finalCost - EPS) best = plan
    if (dropped.length === 0) break
    held = Uint8Array.from(held)
    for (const v of dropped) held[v] = 1
  }
  return best!
}

/** The target carried out from the snapshot host by host, or DC by DC where that drops fewer moves and only DCs matter. */
function carryTarget (model: CostModel, target: Target): Sequenced & { carried: Placement } {
  const carried = new Placement(model)
  const byHost = carryOut(carried, target.hostOf, target.priority)
  if (byHost.dropped.length === 0 || target.dcsOnly !== true) return { ...byHost, carried }
  const byDcState = new Placement(model)
  const byDc = carryOutToDcs(byDcState, target.hostOf, target.priority)
  return byDc.dropped.length < byHost.dropped.length ? { ...byDc, carried: byDcState } : { ...byHost, carried }
}

/** Replays steps on a fresh placement: the plan's costs are those of carrying it out in order. */
export function replay (model: CostModel, steps: Step[], stopped: StopReason, planner: string): Plan {
  const state = new Placement(model)
  const rec = new MoveRecorder(state)
  for (const step of steps) rec.apply(step.vm, step.host)
  return rec.exactPlan(planner, stopped)
}
