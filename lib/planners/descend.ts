/**
 * Local search over a placement: each VM in turn goes to the DC that lowers
 * the cost most and has a host with room, pass after pass until a pass
 * gains nothing. It finds a placement, not a plan (a VM may move twice).
 * O(passes x VMs x DCs): cheap enough for 100,000 VMs.
 */
import type { Placement } from '../placement.ts'

export const DESCEND_MAX_PASSES = 50
const EPS = 1e-12

/** Descends from `p` in place; `movable[v]` 0 keeps a VM where it is. */
export function descend (p: Placement, movable: Uint8Array, maxPasses = DESCEND_MAX_PASSES): void {
  const inst = p.inst
  const deltas = new Float64Array(inst.nDc)
  for (let pass = 0; pass < maxPasses; pass++) {
    let gained = 0
    for (let v = 0; v < inst.nVm; v++) {
      if (movable[v] === 0 || inst.vmPinned[v] === 1) continue
      p.deltas(v, deltas)
      let bestDc = -1; let bestDelta = -EPS * Math.max(1e-300, p.cost)
      for (let d = 0; d < inst.nDc; d++) {
        if (deltas[d]! < bestDelta && p.roomIn(v, d) >= 0) { bestDc = d; bestDelta = deltas[d]! }
      }
      if (bestDc >= 0) { p.apply(v, p.roomIn(v, bestDc)); gained -= bestDelta }
    }
    if (gained <= EPS * Math.max(1e-300, p.cost)) break
  }
}

/**
 * VMs whose place gains nothing over their snapshot DC go back to their own
 * host, where it has room: a placement found by whole groups moves members
 * that could as well stay, and every move is a migration.
 */
export function settleHome (p: Placement): void {
  const inst = p.inst
  for (let v = 0; v < inst.nVm; v++) {
    const home = inst.vmHost[v]!
    if (p.hostOf[v] === home || !p.fits(v, home)) continue
    if (p.delta(v, inst.hostDc[home]!) <= EPS * Math.max(1e-300, p.cost)) p.apply(v, home)
  }
}
