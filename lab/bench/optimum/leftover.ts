/**
 * What is still on the table where a planner stopped: the best feasible
 * single move (and whether its VM had already moved in the plan, which the
 * lookahead's move-once rule forbids), and the best exchange of two VMs on
 * hosts in different DCs that fits after the exchange but not as two single
 * moves in either order (a swap the planners cannot express).
 */
import { type CostModel, evaluate } from '../../../lib/cost.ts'
import type { Plan } from '../../../lib/model.ts'
import { Placement } from '../../../lib/placement.ts'

export interface Leftover {
  /** Cost drop of the best feasible single move (0 if none). */
  single: number
  /** That VM had already moved in the plan. */
  singleMoved: boolean
  /** Cost drop of the best pair exchange (0 if none). */
  swap: number
}

export function leftover (model: CostModel, hostOf: Int32Array, plan: Plan): Leftover {
  const inst = model.instance
  const p = new Placement(model, hostOf)
  const moved = new Set(plan.moves.map(m => m.vm))
  let single = 0; let singleMoved = false
  for (let v = 0; v < inst.nVm; v++) {
    if (inst.vmPinned[v] === 1) continue
    for (let d = 0; d < inst.nDc; d++) {
      const gain = -p.delta(v, d)
      if (gain > single && p.roomIn(v, d) >= 0) { single = gain; singleMoved = moved.has(inst.vmIds[v]!) }
    }
  }
  const base = p.cost
  const h = Int32Array.from(hostOf)
  const room = (host: number, out: number, inn: number): boolean =>
    p.memUsed[host]! - inst.vmMemory[out]! + inst.vmMemory[inn]! <= inst.hostMemory[host]! &&
    p.cpuUsed[host]! - inst.vmVcpus[out]! + inst.vmVcpus[inn]! <= inst.hostVcpus[host]!
  let swap = 0
  for (let u = 0; u < inst.nVm; u++) {
    for (let w = u + 1; w < inst.nVm; w++) {
      const a = h[u]!; const b = h[w]!
      if (inst.vmPinned[u] === 1 || inst.vmPinned[w] === 1 || inst.hostDc[a] === inst.hostDc[b]) continue
      if (!room(a, u, w) || !room(b, w, u) || p.fits(u, b) || p.fits(w, a)) continue
      h[u] = b; h[w] = a
      swap = Math.max(swap, base - evaluate(model, h).total)
      h[u] = a; h[w] = b
    }
  }
  return { single, singleMoved, swap }
}
