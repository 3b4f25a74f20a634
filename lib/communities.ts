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

/**
 * Groups of groups: label propagation again, over the groups found by
 * `communities` (weighted by the traffic between them), with no merged group
 * above `maxMemory` MiB. Applications that talk to each other end up
 * together, so placing these first and the applications within them after
 * (a second level, as multilevel partitioners like METIS coarsen) keeps the
 * traffic between applications inside DCs too.
 */
export function superGroups (inst: Instance, label: Int32Array, maxMemory: number): Int32Array {
  const { nVm, adjStart, adjNode, adjOut, adjIn, vmMemory } = inst
  // Units: one per first-level label, with their traffic to each other.
  const unitOf = new Int32Array(nVm).fill(-1)
  const firstOf: number[] = []
  const ids = new Map<number, number>()
  for (let v = 0; v < nVm; v++) {
    let u = ids.get(label[v]!)
    if (u === undefined) { u = firstOf.length; ids.set(label[v]!, u); firstOf.push(v) }
    unitOf[v] = u
  }
  const n = firstOf.length
  const mem = new Float64Array(n)
  for (let v = 0; v < nVm; v++) mem[unitOf[v]!]! += vmMemory[v]!
  const links = Array.from({ length: n }, () => new Map<number, number>())
  for (let v = 0; v < nVm; v++) {
    const u = unitOf[v]!
    for (let k = adjStart[v]!; k < adjStart[v + 1]!; k++) {
      const w = adjNode[k]!
      if (w >= nVm || unitOf[w] === u) continue
      const x = unitOf[w]!
      links[u]!.set(x, (links[u]!.get(x) ?? 0) + adjOut[k]! + adjIn[k]!)
    }
  }
  const top = Int32Array.from({ length: n }, (_, i) => i)
  const size = Float64Array.from(mem)
  const weight = new Map<number, number>()
  for (let round = 0; round < PROPAGATION_ROUNDS; round++) {
    let changed = 0
    for (let u = 0; u < n; u++) {
      weight.clear()
      for (const [x, w] of links[u]!) weight.set(top[x]!, (weight.get(top[x]!) ?? 0) + w)
      const own = top[u]!
      let best = own; let bestW = weight.get(own) ?? 0
      for (const [l, w] of weight) {
        if (l === own || size[l]! + mem[u]! > maxMemory) continue
        if (w > bestW || (w === bestW && l < best)) { best = l; bestW = w }
      }
      if (best !== own) { size[own]! -= mem[u]!; size[best]! += mem[u]!; top[u] = best; changed++ }
    }
    if (changed === 0) break
  }
  // Back to VMs, labelled by the first VM of the top-level unit (labels are VM indices, as in communities).
  return Int32Array.from(unitOf, u => firstOf[top[u]!]!)
}
