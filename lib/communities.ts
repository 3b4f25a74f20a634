/**
 * Groups of VMs that talk mostly among themselves, found from the traffic
 * alone (label propagation, weighted by bit/s): the planner can then move or
 * exchange a whole application at once, which single moves cannot do when
 * its members are spread evenly or the DC it belongs in is full.
 *
 * Deterministic: VMs are visited in index order and ties go to the smaller
 * label, so every agent finds the same groups.
 */
import type { Instance } from './instance.ts'

export const PROPAGATION_ROUNDS = 12

/** Returns a group label per VM; labels are VM indices (the group's first member). */
export function communities (inst: Instance): Int32Array {
  const { nVm, adjStart, adjNode, adjOut, adjIn } = inst
  const label = Int32Array.from({ length: nVm }, (_, i) => i)
  const weight = new Float64Array(nVm)
  const seen: number[] = []
  for (let round = 0; round < PROPAGATION_ROUNDS; round++) {
    let changed = 0
    for (let u = 0; u < nVm; u++) {
      for (let k = adjStart[u]!; k < adjStart[u + 1]!; k++) {
        const v = adjNode[k]!
        if (v >= nVm) continue
        const l = label[v]!
        if (weight[l] === 0) seen.push(l)
        weight[l]! += adjOut[k]! + adjIn[k]!
      }
      let best = label[u]!; let bestW = weight[best]! // staying wins ties with itself
      for (const l of seen) {
        const w = weight[l]!
        if (w > bestW || (w === bestW && l < best)) { best = l; bestW = w }
      }
      for (const l of seen) weight[l] = 0
      seen.length = 0
      if (best !== label[u]) { label[u] = best; changed++ }
    }
    if (changed === 0) break
  }
  return label
}

/** Members of each group with at least `min` members, groups in order of their label. */
export function groupMembers (label: Int32Array, min = 2): number[][] {
  const byLabel = new Map<number, number[]>()
  label.forEach((l, v) => {
    let m = byLabel.get(l)
    if (m === undefined) { m = []; byLabel.set(l, m) }
    m.push(v)
  })
  return [...byLabel.entries()].sort((a, b) => a[0] - b[0]).map(e => e[1]).filter(m => m.length >= min)
}
