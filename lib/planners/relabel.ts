/**
 * A placement found DC by DC (whole applications assigned jointly) says
 * which VMs live together, not which DC each group must be in: where links
 * cost alike, exchanging the contents of two DCs costs the same and may
 * keep far more VMs where they are. This picks the labelling of DCs that
 * keeps the most memory at home without raising the cost, then packs it
 * onto hosts (pack.ts), so every VM that need not move stays.
 */
import { type CostModel, evaluate } from '../cost.ts'
import { packOntoHosts } from './pack.ts'

/** Every labelling is tried up to this many DCs (n! of them); exchanges of two DCs, repeated, above. */
export const ALL_LABELLINGS_DCS = 6
const EPS = 1e-9

/** `target` with its DCs' contents exchanged to keep the most memory at home at no higher cost; `target` itself if none does. */
export function relabelTowardHome (model: CostModel, target: Int32Array): Int32Array {
  const inst = model.instance
  const { nDc, nVm, hostDc, vmHost, vmMemory, vmPinned } = inst
  const dcOf = Int32Array.from(target, h => hostDc[h]!)
  // home[d * nDc + e]: memory the target puts in DC d whose home is DC e.
  const home = new Float64Array(nDc * nDc)
  const fixed = new Uint8Array(nDc) // DCs holding a pinned VM keep their label
  for (let v = 0; v < nVm; v++) {
    home[dcOf[v]! * nDc + hostDc[vmHost[v]!]!]! += vmMemory[v]!
    if (vmPinned[v] === 1) fixed[dcOf[v]!] = 1
  }
  const kept = (perm: Int32Array): number => { let k = 0; for (let d = 0; d < nDc; d++) k += home[d * nDc + perm[d]!]!; return k }
  const allowed = (perm: Int32Array): boolean => perm.every((e, d) => fixed[d] === 0 || e === d)
  const base = evaluate(model, target).total
  const identity = Int32Array.from({ length: nDc }, (_, d) => d)
  const baseKept = kept(identity)
  const tryPerm = (perm: Int32Array): Int32Array | undefined => {
    const hostOf = packOntoHosts(inst, Int32Array.from(dcOf, d => perm[d]!))
    return hostOf !== undefined && evaluate(model, hostOf).total <= base + EPS * Math.max(1e-300, base) ? hostOf : undefined
  }
  if (nDc <= ALL_LABELLINGS_DCS) {
    const perms = [...permutations(nDc)].filter(p => allowed(p) && kept(p) > baseKept).sort((a, b) => kept(b) - kept(a))
    for (const p of perms) { const h = tryPerm(p); if (h !== undefined) return h }
    return target
  }
  // Many DCs: exchange two DCs' labels while that keeps more at home and costs no more.
  let perm = identity; let best: Int32Array | undefined
  for (let improved = true; improved;) {
    improved = false
    for (let a = 0; a < nDc && !improved; a++) {
      for (let b = a + 1; b < nDc && !improved; b++) {
        const p = Int32Array.from(perm); const t = p[a]!; p[a] = p[b]!; p[b] = t
        if (!allowed(p) || kept(p) <= kept(perm)) continue
        const h = tryPerm(p)
        if (h !== undefined) { perm = p; best = h; improved = true }
      }
    }
  }
  return best ?? target
}

/** All permutations of 0..n-1 (Heap's algorithm). */
export function * permutations (n: number): Generator<Int32Array> {
  const a = Int32Array.from({ length: n }, (_, i) => i)
  const c = new Int32Array(n)
  yield Int32Array.from(a)
  for (let i = 0; i < n;) {
    if (c[i]! < i) {
      const j = i % 2 === 0 ? 0 : c[i]!
      const t = a[j]!; a[j] = a[i]!; a[i] = t
      yield Int32Array.from(a)
      c[i]!++; i = 0
    } else { c[i] = 0; i++ }
  }
}
