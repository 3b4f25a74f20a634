/**
 * The baseline every budgeted planner must beat: best single move first.
 * Each round of the loop takes, over all VMs and DCs, the move that lowers
 * the cost most and fits (onto the roomiest host of the target DC), each
 * VM at most once, until none lowers it or `k` moves are made. Gains are
 * kept in a heap and re-priced lazily. No chains, no groups, no lookahead:
 * what a from-scratch greedy does.
 */
import type { CostModel } from '../../lib/cost.ts'
import { MaxHeap } from '../../lib/heap.ts'
import { Placement } from '../../lib/placement.ts'

/** The cost after at most `k` greedy moves. */
export function plainGreedyCost (model: CostModel, k: number): number {
  const inst = model.instance
  const s = new Placement(model)
  const moved = new Uint8Array(inst.nVm)
  const buf = new Float64Array(inst.nDc)
  const best = (vm: number): { gain: number, host: number } => {
    s.deltas(vm, buf)
    const home = s.dcOf(vm)
    let gain = 0; let host = -1
    for (let d = 0; d < inst.nDc; d++) {
      if (d === home || -buf[d]! <= gain) continue
      const h = roomiest(s, inst.dcHosts[d]!, vm)
      if (h >= 0) { gain = -buf[d]!; host = h }
    }
    return { gain, host }
  }
  const heap = new MaxHeap()
  for (let vm = 0; vm < inst.nVm; vm++) if (inst.vmPinned[vm] === 0) { const b = best(vm); if (b.host >= 0) heap.push(b.gain, vm) }
  let made = 0
  while (made < k && heap.size > 0) {
    const [key, vm] = heap.pop()!
    if (moved[vm] === 1) continue
    const b = best(vm)
    if (b.host < 0) continue
    if (b.gain < key - 1e-15 && heap.size > 0 && b.gain < heap.peekKey()) { heap.push(b.gain, vm); continue }
    s.apply(vm, b.host)
    moved[vm] = 1
    made++
    // Its neighbours' gains changed (some rose): price them again.
    for (let e = inst.adjStart[vm]!; e < inst.adjStart[vm + 1]!; e++) {
      const u = inst.adjNode[e]!
      if (u < inst.nVm && moved[u] === 0 && inst.vmPinned[u] === 0) { const n = best(u); if (n.host >= 0) heap.push(n.gain, u) }
    }
  }
  return s.cost
}

/** The host of the DC with the most free memory that takes `vm`; -1 if none. */
function roomiest (s: Placement, hosts: Int32Array, vm: number): number {
  let best = -1; let free = -Infinity
  for (const h of hosts) {
    const f = s.inst.hostMemory[h]! - s.memUsed[h]!
    if (f > free && s.fits(vm, h)) { best = h; free = f }
  }
  return best
}
