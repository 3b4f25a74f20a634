/**
 * The thesis's Algorithm 1 (El-Helw 2010, section 4.2.2), kept as written so
 * it stays the reference every other planner is measured against:
 *
 *   repeat: take the most loaded inter-DC link (load / capacity); take the
 *   two VMs that contribute most to it, VM0 at its sending end and VM1 at its
 *   receiving end; try each in every other DC that has capacity; apply the
 *   move with the lowest resulting cost if it is lower than the current cost;
 *   otherwise stop.
 *
 * Where the pseudocode is silent we chose: "contributes" is the VM's own
 * traffic over that link; HasCapacity(dc) means some host in dc has the
 * memory and vCPUs, and the VM goes to the one with most memory left; ties
 * go to the earlier VM, then the earlier DC (strict `<` as in the listing).
 * Pinned VMs are never candidates and the operator's move limit is honoured;
 * with neither set, this is Algorithm 1 to the letter.
 */
import { CostModel } from '../cost.ts'
import { compile, type Instance } from '../instance.ts'
import type { Plan, Snapshot, StopReason } from '../model.ts'
import { Placement } from '../placement.ts'
import { type PlannerConfig, DEFAULT_MAX_MOVES } from './config.ts'
import { MoveRecorder } from './recorder.ts'

export const THESIS_PLANNER = 'thesis'

export function planThesis (input: Snapshot | Instance, config: PlannerConfig = {}): Plan {
  const inst = 'vmIds' in input ? input : compile(input)
  const state = new Placement(new CostModel(inst, config))
  const rec = new MoveRecorder(state)
  const maxMoves = config.maxMoves ?? DEFAULT_MAX_MOVES
  const onRoute = linkPairs(inst)
  let stopped: StopReason = 'converged'

  for (;;) {
    if (rec.count >= maxMoves) { stopped = 'move-limit'; break }
    const cost = state.cost
    const edge = maxEdge(state)
    if (edge < 0) { stopped = 'no-traffic'; break }
    const candidates = topContributors(state, edge, onRoute[edge]!)
    let newCost = cost
    let selected = -1; let selectedHost = -1
    let blocked = false
    for (const vm of candidates) {
      const home = state.dcOf(vm)
      for (let dc = 0; dc < inst.nDc; dc++) {
        if (dc === home) continue
        const c = cost + state.delta(vm, dc)
        const host = state.roomIn(vm, dc)
        if (host < 0) { if (c < cost) blocked = true; continue }
        if (c < newCost) { newCost = c; selected = vm; selectedHost = host }
      }
    }
    if (selected < 0) { stopped = blocked ? 'no-capacity' : 'converged'; break }
    rec.apply(selected, selectedHost)
  }
  return rec.plan(THESIS_PLANNER, stopped)
}

/** The link with the highest loading factor, or -1 when no link carries traffic. */
function maxEdge (state: Placement): number {
  const { nLink, linkCapacity } = state.inst
  let best = -1; let bestLoad = 0
  for (let l = 0; l < nLink; l++) {
    const f = state.linkLoad[l]! / linkCapacity[l]!
    if (f > bestLoad + 1e-15) { best = l; bestLoad = f }
  }
  return best
}

/** For each link, the ordered DC pairs (a * nDc + b) whose route crosses it. */
function linkPairs (inst: Instance): Uint8Array[] {
  const out = Array.from({ length: inst.nLink }, () => new Uint8Array(inst.nDc * inst.nDc))
  inst.route.forEach((links, pair) => { for (const l of links) out[l]![pair] = 1 })
  return out
}

/**
 * VM0: the movable VM whose outgoing traffic over the link is largest; VM1:
 * the movable VM whose incoming traffic over it is largest.
 */
function topContributors (state: Placement, link: number, pairs: Uint8Array): number[] {
  const { nVm, nDc, vmPinned } = state.inst
  let vm0 = -1; let best0 = 0; let vm1 = -1; let best1 = 0
  for (let u = 0; u < nVm; u++) {
    if (vmPinned[u] === 1) continue
    const d = state.dcOf(u)
    let sent = 0; let received = 0
    for (let b = 0; b < nDc; b++) {
      if (pairs[d * nDc + b] === 1) sent += state.out[u * nDc + b]!
      if (pairs[b * nDc + d] === 1) received += state.in[u * nDc + b]!
    }
    if (sent > best0) { best0 = sent; vm0 = u }
    if (received > best1) { best1 = received; vm1 = u }
  }
  const out: number[] = []
  if (vm0 >= 0) out.push(vm0)
  if (vm1 >= 0 && vm1 !== vm0) out.push(vm1)
  return out
}
