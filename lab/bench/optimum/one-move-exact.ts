/**
 * The best cost a plan of heliotrope's kind can reach (each VM moves at most
 * once, one at a time, every host within capacity at every step), exactly,
 * on instances small enough to enumerate every DC assignment (DCs^VMs).
 * The cost depends on DCs only: every assignment cheaper than `below` whose
 * DCs' pooled memory takes it is listed, cheapest first, and each is proven
 * unreachable (reach.ts pooled, or one-move-proof.ts on real hosts) until one
 * is not. If none is, no such plan ends below `below`.
 */
import { CostModel } from '../../../lib/cost.ts'
import type { Instance } from '../../../lib/instance.ts'
import { Placement } from '../../../lib/placement.ts'
import { provenUnreachable } from './one-move-proof.ts'
import { pooledBlocked } from './reach.ts'

export interface OneMoveExact {
  /** 'none-below': no one-move plan ends below `below`; 'found': `cost` is the best one; 'unknown': a proof ran out of budget at `cost`. */
  status: 'none-below' | 'found' | 'unknown'
  /** The one-move optimum ('found'), or the lower bound reached ('unknown'). */
  cost: number
  /** Assignments cheaper than `below` (pooled memory fitting), all checked when 'none-below'. */
  cheaper: number
}

export function oneMoveExact (inst: Instance, below: number, nodes: number): OneMoveExact {
  const { nVm, nDc, nHost, hostDc, hostMemory, vmMemory, vmPinned, vmHost, dcHosts } = inst
  const p = new Placement(new CostModel(inst))
  const cap = new Float64Array(nDc); const use = new Float64Array(nDc)
  for (let h = 0; h < nHost; h++) cap[hostDc[h]!]! += hostMemory[h]!
  const found: Array<[number, Int32Array]> = []
  const dcOf = new Int32Array(nVm)
  const limit = below * (1 - 1e-9)
  const walk = (v: number): void => {
    if (v === nVm) { if (p.cost < limit) found.push([p.cost, Int32Array.from(dcOf)]); return }
    for (let d = 0; d < nDc; d++) {
      if (use[d]! + vmMemory[v]! > cap[d]! || (vmPinned[v] === 1 && d !== hostDc[vmHost[v]!])) continue
      p.apply(v, dcHosts[d]![0]!); dcOf[v] = d; use[d]! += vmMemory[v]!
      walk(v + 1)
      use[d]! -= vmMemory[v]!
    }
    p.apply(v, vmHost[v]!)
  }
  walk(0)
  found.sort((a, b) => a[0] - b[0])
  for (const [cost, dcs] of found) {
    if (pooledBlocked(inst, vmHost, dcs)) continue
    const r = provenUnreachable(inst, dcs, nodes)
    if (r === 'reachable') return { status: 'found', cost, cheaper: found.length }
    if (r === 'unknown') return { status: 'unknown', cost, cheaper: found.length }
  }
  return { status: 'none-below', cost: below, cheaper: found.length }
}
