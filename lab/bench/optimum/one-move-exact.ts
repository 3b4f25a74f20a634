/**
 * The best cost a plan of heliotrope's kind can reach (each VM moves at most
 * once, one at a time, every host within capacity at every step), exactly,
 * by enumerating DC assignments (branch and bound; undefined when it needs
 * more than `maxVisits` nodes or finds more than `maxFound` assignments). The cost depends on DCs only: every
 * assignment cheaper than `below` whose DCs' pooled memory takes it is
 * listed, cheapest first, and each is proven
 * unreachable (reach.ts pooled, or one-move-proof.ts on real hosts) until one
 * is not. If none is, no such plan ends below `below`.
 */
import { CostModel } from '../../../lib/cost.ts'
import type { Instance } from '../../../lib/instance.ts'
import { provenUnreachable } from './one-move-proof.ts'
import { pooledBlocked } from './reach.ts'

export interface OneMoveExact {
  /** 'none-below': no one-move plan ends below `below`; 'found': `cost` is the best one; 'unknown': a proof ran out of budget at `cost`. */
  status: 'none-below' | 'found' | 'unknown'
  /** The one-move optimum ('found'), or the lower bound reached ('unknown'). */
  cost: number
  /** Assignments cheaper than `below` (pooled memory fitting), all checked when 'none-below'. */
  cheaper: number
  /** The DC of each VM in the one-move optimum ('found'). */
  dcOf?: Int32Array
}

export function oneMoveExact (inst: Instance, below: number, nodes: number, maxVisits = 2e8, maxFound = 2e6): OneMoveExact | undefined {
  const { nVm, nDc, nHost, hostDc, hostMemory, vmMemory, vmPinned, vmHost, adjStart, adjNode, adjOut, adjIn, prefixDc } = inst
  const model = new CostModel(inst)
  if (model.weights.dcLoad !== 0) throw new Error('one-move-exact: the DC-load term is not linear')
  const pair = model.pair
  const cap = new Float64Array(nDc); const use = new Float64Array(nDc)
  for (let h = 0; h < nHost; h++) cap[hostDc[h]!]! += hostMemory[h]!
  // Branch and bound over DC assignments, heaviest talkers first: the cost
  // of edges among VMs already assigned (and to prefixes) only grows.
  const weight = new Float64Array(nVm)
  for (let v = 0; v < nVm; v++) for (let k = adjStart[v]!; k < adjStart[v + 1]!; k++) weight[v]! += adjOut[k]! + adjIn[k]!
  const order = [...Array(nVm).keys()].sort((a, b) => weight[b]! - weight[a]! || a - b)
  const pos = new Int32Array(nVm)
  order.forEach((v, i) => { pos[v] = i })
  const found: Array<[number, Int32Array]> = []
  const dcOf = new Int32Array(nVm)
  const limit = below * (1 - 1e-9)
  let visits = 0
  const walk = (i: number, partial: number): boolean => {
    if (++visits > maxVisits) return false
    if (i === nVm) { found.push([partial, Int32Array.from(dcOf)]); return found.length <= maxFound }
    const v = order[i]!
    for (let d = 0; d < nDc; d++) {
      if (use[d]! + vmMemory[v]! > cap[d]! || (vmPinned[v] === 1 && d !== hostDc[vmHost[v]!])) continue
      let c = partial + model.migration(v, hostDc[vmHost[v]!]!, d)
      for (let k = adjStart[v]!; k < adjStart[v + 1]!; k++) {
        const w = adjNode[k]!
        const b = w < nVm ? (pos[w]! < i ? dcOf[w]! : -1) : prefixDc[w - nVm]!
        if (b >= 0) c += adjOut[k]! * pair[d * nDc + b]! + adjIn[k]! * pair[b * nDc + d]!
      }
      if (c >= limit) continue
      dcOf[v] = d; use[d]! += vmMemory[v]!
      const ok = walk(i + 1, c)
      use[d]! -= vmMemory[v]!
      if (!ok) return false
    }
    return true
  }
  if (!walk(0, 0)) return undefined
  found.sort((a, b) => a[0] - b[0])
  for (const [cost, dcs] of found) {
    if (pooledBlocked(inst, vmHost, dcs)) continue
    const r = provenUnreachable(inst, dcs, nodes)
    if (r === 'reachable') return { status: 'found', cost, cheaper: found.length, dcOf: dcs }
    if (r === 'unknown') return { status: 'unknown', cost, cheaper: found.length }
  }
  return { status: 'none-below', cost: below, cheaper: found.length }
}
