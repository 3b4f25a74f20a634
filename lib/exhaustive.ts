/**
 * The exact optimum by exhaustive search, for tiny instances only (it visits
 * every feasible host assignment: hosts^VMs). Tests use it as ground truth
 * for the heuristics; nothing in production calls it.
 */
import { CostModel, type CostOptions, evaluate } from './cost.ts'
import type { Instance } from './instance.ts'
import { Placement } from './placement.ts'
import { sequenceMoves } from './planners/sequence.ts'

export const EXHAUSTIVE_LIMIT = 5e6

export interface Optimum {
  cost: number
  hostOf: Int32Array
}

/**
 * With `oneMovePerVm`, only placements that can be reached by moving each VM
 * at most once, one at a time, never overfilling a host, count: the optimum
 * a plan that keeps heliotrope's invariants can reach.
 */
export function exhaustiveOptimum (inst: Instance, opts: CostOptions & { oneMovePerVm?: boolean } = {}): Optimum {
  const movable = [...inst.vmIds.keys()].filter(v => inst.vmPinned[v] === 0)
  if (inst.nHost ** movable.length > EXHAUSTIVE_LIMIT) throw new Error(`exhaustive search too large: ${inst.nHost}^${movable.length}`)
  const state = new Placement(new CostModel(inst, opts))
  // Capacity is booked here, not in `state` (which only prices placements):
  // pinned VMs stay on their hosts' books, movable ones are placed by the search.
  const mem = new Float64Array(inst.nHost)
  const cpu = new Float64Array(inst.nHost)
  inst.vmPinned.forEach((pinned, v) => {
    if (pinned === 1) { mem[inst.vmHost[v]!]! += inst.vmMemory[v]!; cpu[inst.vmHost[v]!]! += inst.vmVcpus[v]! }
  })
  let best: Optimum = { cost: Infinity, hostOf: Int32Array.from(state.hostOf) }
  const visit = (i: number): void => {
    if (i === movable.length) {
      if (state.cost < best.cost - 1e-12 && (opts.oneMovePerVm !== true || reachable(inst, state.hostOf))) {
        best = { cost: state.cost, hostOf: Int32Array.from(state.hostOf) }
      }
      return
    }
    const v = movable[i]!
    const m = inst.vmMemory[v]!; const c = inst.vmVcpus[v]!
    for (let h = 0; h < inst.nHost; h++) {
      if (mem[h]! + m > inst.hostMemory[h]! || cpu[h]! + c > inst.hostVcpus[h]!) continue
      state.apply(v, h)
      mem[h]! += m; cpu[h]! += c
      visit(i + 1)
      mem[h]! -= m; cpu[h]! -= c
    }
  }
  visit(0)
  // The running cost drifts by rounding over millions of moves: report the exact one.
  return { cost: evaluate(state.model, best.hostOf).total, hostOf: best.hostOf }
}

function reachable (inst: Instance, target: Int32Array): boolean {
  const order = [...inst.vmIds.keys()]
  return sequenceMoves(inst, inst.vmHost, target, order).dropped.length === 0
}
