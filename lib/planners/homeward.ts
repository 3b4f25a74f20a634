/**
 * Moves that cost nothing (or less) but keep more VMs in their snapshot DC. A
 * placement found application by application says which applications live
 * together; where an application talks to nobody outside (clustered
 * traffic) every DC costs it the same, and which one it takes decides how
 * many of its VMs migrate. The groups found from the traffic often cut an
 * application in several, so the moves here are of blocks: units
 * (group-units.ts) that talk to each other and share a DC. A block goes to
 * a DC with room, or to a full one that another block leaves for a third
 * DC (or the first), where that keeps more VMs at home in all and costs
 * nothing.
 */
import { type CostModel } from '../cost.ts'
import { GroupSearch } from './group-assign.ts'

/** Blocks of at most this share of the smallest DC's memory move. */
const MAX_BLOCK_SHARE = 0.25
/** Blocks tried per move for leaving a full DC to make room for one coming home. */
const PARTNERS = 8

export interface KeepHomeOptions {
  movable: Uint8Array
  groups: number[][]
  /** Passes over all blocks; each ends early if a pass keeps no VM more at home. */
  passes: number
}

/**
 * `start` (whole groups in their DCs, as assignGroups leaves them) with
 * such moves, packed onto hosts; `start` itself if none is found or the
 * result does not pack.
 */
export function keepHome (model: CostModel, start: Int32Array, opts: KeepHomeOptions): Int32Array {
  const g = new GroupSearch(model, start, opts)
  if (g.units.length < 2 || homeward(g, opts.passes) === 0) return start
  return g.placement(false) ?? start
}

/** Runs the passes on `g`; returns the VMs kept at home by them (0: `g` is as it was). */
function homeward (g: GroupSearch, passes: number): number {
  const n = g.units.length; const { nDc } = g
  const { hostDc, vmHost } = g.model.instance
  // home[u * nDc + d]: unit u's VMs whose snapshot DC is d.
  const home = new Float64Array(n * nDc)
  g.units.forEach((m, u) => { for (const v of m) home[u * nDc + hostDc[vmHost[v]!]!]!++ })
  const at = (b: readonly number[], d: number): number => b.reduce((k, u) => k + home[u * nDc + d]!, 0)
  const before = Int32Array.from(g.dc)
  const maxMem = Math.min(...g.capMem) * MAX_BLOCK_SHARE
  let keptAll = 0
  for (let pass = 0; pass < passes; pass++) {
    const blocks = blocksOf(g).filter(b => b.reduce((m, u) => m + g.unitMem[u]!, 0) <= maxMem)
    // Per DC, its blocks by the VMs they take from home by leaving for their best other DC, least first.
    const loss = new Float64Array(blocks.length)
    const leavers: number[][] = Array.from({ length: nDc }, () => [])
    blocks.forEach((b, k) => {
      const d = g.dc[b[0]!]!
      let other = -Infinity
      for (let c = 0; c < nDc; c++) if (c !== d) other = Math.max(other, at(b, c))
      loss[k] = at(b, d) - other
      leavers[d]!.push(k)
    })
    for (const list of leavers) list.sort((x, y) => loss[x]! - loss[y]! || x - y)
    const moved = new Uint8Array(blocks.length) // a block moves once per pass: the lists above are of its DC then
    let kept = 0
    for (let k = 0; k < blocks.length; k++) {
      if (moved[k] === 1) continue
      const b = blocks[k]!; const a = g.dc[b[0]!]!
      for (let d = 0; d < nDc; d++) {
        const gain = at(b, d) - at(b, a)
        if (d === a || gain <= 0) continue
        const delta = moveBlock(g, b, d)
        let made = delta <= 0 && g.fits(d) ? gain : 0
        // Else room made by a block of d leaving for another DC.
        let tried = 0
        for (const x of leavers[d]!) {
          if (made > 0 || loss[x]! >= gain || tried === PARTNERS) break
          if (moved[x] === 1) continue
          tried++
          const w = blocks[x]!
          for (let c = 0; c < nDc && made === 0; c++) {
            const total = gain + at(w, c) - at(w, d)
            if (c === d || total <= 0) continue
            if (delta + moveBlock(g, w, c) <= 0 && g.fits(d) && g.fits(c)) { made = total; moved[x] = 1 } else moveBlock(g, w, d)
          }
        }
        if (made > 0) { kept += made; moved[k] = 1; break }
        moveBlock(g, b, a)
      }
    }
    keptAll += kept
    if (kept === 0) break
  }
  if (keptAll > 0 && !g.allPack()) {
    for (let u = 0; u < n; u++) g.put(u, before[u]!)
    return 0
  }
  return keptAll
}

/** Units that talk to each other and share a DC, each set once. */
function blocksOf (g: GroupSearch): number[][] {
  const n = g.units.length
  const root = Int32Array.from({ length: n }, (_, u) => u)
  const find = (u: number): number => { while (root[u] !== u) { root[u] = root[root[u]!]!; u = root[u]! } return u }
  for (let u = 0; u < n; u++) for (const [w] of g.links[u]!) if (g.dc[w] === g.dc[u]) root[find(u)] = find(w)
  const byRoot = new Map<number, number[]>()
  for (let u = 0; u < n; u++) {
    const r = find(u)
    const b = byRoot.get(r)
    if (b === undefined) byRoot.set(r, [u]); else b.push(u)
  }
  return [...byRoot.values()]
}

/** Moves block b (all in one DC) to DC d; returns the cost change. */
function moveBlock (g: GroupSearch, b: readonly number[], d: number): number {
  let delta = 0
  for (const u of b) delta -= g.unitCost(u, g.dc[u]!)
  for (const u of b) g.put(u, d)
  for (const u of b) delta += g.unitCost(u, d)
  return delta
}
