/**
 * Best single move first: over all VMs and DCs, the move that lowers the
 * cost most and fits (onto the roomiest host of the target DC that takes
 * it), each VM at most once, until none gains more than `minGain` or the
 * budget is spent. Gains are kept in a heap and re-priced lazily; a moved
 * VM's neighbours are priced again. Every move lowers the cost, so every
 * prefix costs at most the start.
 *
 * No chains, groups or lookahead: under a small budget this plain greedy
 * sometimes spends it better than the lookahead's own search (bench:planner,
 * clustered traffic at Algorithm 1's count of moves), so the lookahead
 * takes it as one more candidate for a round (lookahead.ts).
 */
import type { CostModel } from '../cost.ts'
import { MaxHeap } from '../heap.ts'
import type { Plan } from '../model.ts'
import { Placement } from '../placement.ts'
import { type PlannerConfig, DEFAULT_MAX_MOVES, DEFAULT_MAX_MOVES_PER_HOST, DEFAULT_MIN_GAIN } from './config.ts'
import { MoveRecorder } from './recorder.ts'

export function planBestFirst (model: CostModel, config: PlannerConfig, planner: string): Plan {
  const inst = model.instance
  const maxMoves = config.maxMoves ?? DEFAULT_MAX_MOVES
  const maxPerHost = config.maxMovesPerHost ?? DEFAULT_MAX_MOVES_PER_HOST
  const minGain = config.minGain ?? DEFAULT_MIN_GAIN
  const s = new Placement(model)
  const rec = new MoveRecorder(s)
  const moved = new Uint8Array(inst.nVm)
  const touches = new Int32Array(inst.nHost)
  const buf = new Float64Array(inst.nDc)
  const open = (h: number): boolean => touches[h]! < maxPerHost
  const best = (vm: number): { gain: number, host: number } => {
    if (!open(s.hostOf[vm]!)) return { gain: 0, host: -1 }
    s.deltas(vm, buf)
    const home = s.dcOf(vm)
    let gain = minGain; let host = -1
    for (let d = 0; d < inst.nDc; d++) {
      if (d === home || -buf[d]! <= gain) continue
      const h = roomiest(s, inst.dcHosts[d]!, vm, open)
      if (h >= 0) { gain = -buf[d]!; host = h }
    }
    return { gain, host }
  }
  // The heap holds each VM's best gain ignoring room (cheap: no host scan);
  // a VM's host is looked for only when it reaches the top.
  const heap = new MaxHeap()
  const offer = (vm: number): void => {
    if (moved[vm] === 1 || inst.vmPinned[vm] === 1 || !open(s.hostOf[vm]!)) return
    s.deltas(vm, buf)
    const home = s.dcOf(vm)
    let upper = minGain
    for (let d = 0; d < inst.nDc; d++) if (d !== home && -buf[d]! > upper) upper = -buf[d]!
    if (upper > minGain) heap.push(upper, vm)
  }
  for (let vm = 0; vm < inst.nVm; vm++) offer(vm)
  while (rec.count < maxMoves && heap.size > 0) {
    const [key, vm] = heap.pop()!
    if (moved[vm] === 1) continue
    const b = best(vm)
    if (b.host < 0) continue
    // Priced lower than when pushed: back in line unless it still leads.
    if (b.gain < key && heap.size > 0 && b.gain < heap.peekKey()) { heap.push(b.gain, vm); continue }
    touches[s.hostOf[vm]!]!++; touches[b.host]!++
    rec.apply(vm, b.host)
    moved[vm] = 1
    for (let e = inst.adjStart[vm]!; e < inst.adjStart[vm + 1]!; e++) if (inst.adjNode[e]! < inst.nVm) offer(inst.adjNode[e]!)
  }
  return rec.exactPlan(planner, rec.count >= maxMoves ? 'move-limit' : 'converged')
}

/** The host of the DC with the most free memory that takes `vm` and is open to one more move; -1 if none. */
function roomiest (s: Placement, hosts: Int32Array, vm: number, open: (h: number) => boolean): number {
  let best = -1; let free = -Infinity
  for (const h of hosts) {
    const f = s.inst.hostMemory[h]! - s.memUsed[h]!
    if (f > free && open(h) && s.fits(vm, h)) { best = h; free = f }
  }
  return best
}
