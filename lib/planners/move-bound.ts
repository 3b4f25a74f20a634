/**
 * The most any k moves can gain. Every term of the cost but DC load is
 * linear in the traffic (cost.ts), so moving a VM changes only what its
 * own traffic costs (and its own migration term): at best the move removes
 * all of it. k moves gain at most the k largest such per-VM costs. Loose,
 * but cheap (one pass over the traffic), and enough to tell when a round
 * cannot reach a share of the cost however it is planned.
 */
import type { CostModel } from '../cost.ts'

/** An upper bound on what `k` moves from `hostOf` can lower `model`'s cost by; Infinity when DC load is weighted (a move changes every DC's share). */
export function mostGainOfMoves (model: CostModel, hostOf: Int32Array, k: number): number {
  if (model.weights.dcLoad !== 0) return Infinity
  if (k <= 0) return 0
  const { nVm, nDc, hostDc, vmHost, adjStart, adjNode, adjOut, adjIn, prefixDc } = model.instance
  const { pair } = model
  // The k largest per-VM costs, kept sorted high to low (k is a round's few moves).
  const top: number[] = []
  for (let u = 0; u < nVm; u++) {
    const du = hostDc[hostOf[u]!]!
    let c = model.migration(u, hostDc[vmHost[u]!]!, du)
    for (let e = adjStart[u]!; e < adjStart[u + 1]!; e++) {
      const v = adjNode[e]!
      const dv = v < nVm ? hostDc[hostOf[v]!]! : prefixDc[v - nVm]!
      c += adjOut[e]! * pair[du * nDc + dv]! + adjIn[e]! * pair[dv * nDc + du]!
    }
    if (top.length === k && c <= top[k - 1]!) continue
    let i = top.length < k ? top.length : k - 1
    while (i > 0 && top[i - 1]! < c) { top[i] = top[i - 1]!; i-- }
    top[i] = c
  }
  return top.reduce((s, c) => s + c, 0)
}
