/**
 * Local search over end states that can be carried out. Where full DCs
 * block the placement the searches aimed at, the plan ends in a compromise;
 * a VM or two in another DC (or two VMs exchanged) may still lower the cost
 * and still leave an order that runs. Each improving change, best first, is
 * tried by searching for an order from the snapshot (carryOutBySearch); the
 * first that has one is taken, and the search goes on from there.
 */
import type { CostModel } from '../cost.ts'
import { Placement } from '../placement.ts'
import { carryOutBySearch, type Step } from './sequence.ts'

const EPS = 1e-12

interface Change { gain: number, moves: Array<[number, number]> }

export interface PolishOptions {
  /** VMs that may be placed elsewhere than in `end` (1). */
  movable: Uint8Array
  /** Orders searched for at most, in all. */
  checks: number
  /** Work per order search (see carryOutBySearch). */
  budget: number
}

/** Steps from the snapshot to a lower end state than `end`, or undefined if none was found. */
export function polishReachable (model: CostModel, end: Int32Array, opts: PolishOptions): Step[] | undefined {
  const inst = model.instance
  let cur = new Placement(model, end)
  let steps: Step[] | undefined
  let checks = 0
  const priority = [...inst.vmIds.keys()]
  for (let improved = true; improved && checks < opts.checks;) {
    improved = false
    for (const change of changes(cur, opts.movable)) {
      if (checks++ >= opts.checks) break
      const hint = Int32Array.from(cur.hostOf)
      for (const [vm, dc] of change.moves) hint[vm] = inst.dcHosts[dc]![0]!
      const s = new Placement(model)
      const seq = carryOutBySearch(s, hint, priority, opts.budget)
      if (seq === undefined || s.cost >= cur.cost - EPS * Math.max(1e-300, cur.cost)) continue
      cur = s; steps = seq.steps; improved = true
      break
    }
  }
  return steps
}

/** Single moves to another DC and exchanges of two VMs between DCs that lower the cost, best first (capacity not checked). */
function changes (p: Placement, movable: Uint8Array): Change[] {
  const inst = p.inst
  const vms = [...inst.vmIds.keys()].filter(v => movable[v] === 1 && inst.vmPinned[v] === 0)
  const tol = EPS * Math.max(1e-300, p.cost)
  const out: Change[] = []
  for (const v of vms) {
    for (let d = 0; d < inst.nDc; d++) {
      if (d === p.dcOf(v) || inst.dcHosts[d]!.length === 0) continue // nowhere to put it in a DC without hosts
      const gain = -p.delta(v, d)
      if (gain > tol) out.push({ gain, moves: [[v, d]] })
    }
  }
  for (let i = 0; i < vms.length; i++) {
    for (let j = i + 1; j < vms.length; j++) {
      const v = vms[i]!; const w = vms[j]!
      const a = p.hostOf[v]!; const b = p.hostOf[w]!
      const dv = inst.hostDc[a]!; const dw = inst.hostDc[b]!
      if (dv === dw) continue
      const before = p.cost
      p.apply(v, b)
      const gain = before - p.cost - p.delta(w, dv)
      p.apply(v, a)
      if (gain > tol) out.push({ gain, moves: [[v, dw], [w, dv]] })
    }
  }
  return out.sort((x, y) => y.gain - x.gain)
}
