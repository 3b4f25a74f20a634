/**
 * A lower bound on the cost any plan of k moves can reach: a move can at
 * best remove every cost its VM's own traffic causes, so k moves remove at
 * most the k largest per-VM costs. Loose, but enough to show when a target
 * ("close most of the gap in k moves") is out of reach for any planner.
 */
import { CostModel } from '../../lib/cost.ts'
import type { Instance } from '../../lib/instance.ts'
import { Placement } from '../../lib/placement.ts'

export function bestCostAfterMoves (inst: Instance, k: number): number {
  const st = new Placement(new CostModel(inst))
  const { nDc, nVm } = inst
  const perVm: number[] = []
  for (let u = 0; u < nVm; u++) {
    const a = st.dcOf(u)
    let c = 0
    for (let b = 0; b < nDc; b++) c += st.out[u * nDc + b]! * st.model.pair[a * nDc + b]! + st.in[u * nDc + b]! * st.model.pair[b * nDc + a]!
    perVm.push(c)
  }
  perVm.sort((x, y) => y - x)
  return Math.max(0, st.cost - perVm.slice(0, k).reduce((s, x) => s + x, 0))
}
