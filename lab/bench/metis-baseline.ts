/**
 * A METIS + local-search placement: the strong baseline bench:planner sets
 * the lookahead's unlimited plans against. It answers "how low does a good
 * graph partitioner get", not "what can agents carry out": it places VMs
 * without an order of moves (no plan), so its cost is a target, not a plan.
 *
 * 1. gpmetis (Debian's `metis`) cuts the VM traffic graph into one part per
 *    DC, each part sized for its DC's memory (vertex weight: MiB; edge
 *    weight: bit/s both ways, scaled to integers).
 * 2. Parts are mapped to DCs: the mapping with the lowest cost whose parts
 *    fit their DCs' memory (all mappings up to 6 DCs, pairwise exchanges
 *    above), ties to the one keeping most memory at home.
 * 3. Each DC's VMs are packed onto its hosts (lib/planners/pack.ts: a VM
 *    stays on its own host when it can, else the roomiest that fits); what
 *    fits nowhere in its DC goes to the roomiest host elsewhere.
 * 4. Local search (lib/planners/descend.ts): every VM moves to the DC that
 *    lowers the cost most and has a host with room, pass after pass until a
 *    pass gains nothing; then VMs whose move gains nothing go home, so moves
 *    are not inflated.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type CostModel, evaluate } from '../../lib/cost.ts'
import { Placement } from '../../lib/placement.ts'
import { descend, settleHome } from '../../lib/planners/descend.ts'
import { packOntoHosts } from '../../lib/planners/pack.ts'
import { permutations } from '../../lib/planners/relabel.ts'

/** Edge weights are scaled so the heaviest is this (METIS takes integers). */
const MAX_EDGE_WEIGHT = 100_000
/** Load imbalance METIS may leave, in thousandths over each part's target (METIS' -ufactor). */
const UFACTOR = 10
/** Every mapping of parts to DCs is tried up to this many DCs (n! of them). */
const ALL_MAPPINGS_DCS = 6
const EPS = 1e-12

export interface MetisResult {
  hostOf: Int32Array
  cost: number
  /** VMs not on their snapshot host. */
  moves: number
  ms: number
}

export function metisPlacement (model: CostModel, seed = 1): MetisResult {
  const t0 = performance.now()
  const inst = model.instance
  const part = partition(model, seed)
  const dcOfPart = mapParts(model, part)
  const hostOf = packOntoHosts(inst, Int32Array.from(part, p => dcOfPart[p]!), true)
  if (hostOf === undefined) throw new Error('METIS baseline: the VMs do not fit on the hosts')
  const p = new Placement(model, hostOf)
  descend(p, new Uint8Array(inst.nVm).fill(1))
  settleHome(p)
  let moves = 0
  for (let v = 0; v < inst.nVm; v++) if (p.hostOf[v] !== inst.vmHost[v]) moves++
  return { hostOf: Int32Array.from(p.hostOf), cost: evaluate(model, p.hostOf).total, moves, ms: performance.now() - t0 }
}

/** gpmetis' part per VM. */
function partition (model: CostModel, seed: number): Int32Array {
  const inst = model.instance
  const { nVm, nDc, adjStart, adjNode, adjOut, adjIn, vmMemory, dcMemory } = inst
  if (nDc === 1) return new Int32Array(nVm)
  let heaviest = 0
  for (let k = 0; k < adjNode.length; k++) heaviest = Math.max(heaviest, adjOut[k]! + adjIn[k]!)
  const scale = heaviest > 0 ? MAX_EDGE_WEIGHT / heaviest : 1
  const lines: string[] = []
  let edges = 0
  for (let u = 0; u < nVm; u++) {
    const row: number[] = [Math.max(1, Math.round(vmMemory[u]!))]
    for (let k = adjStart[u]!; k < adjStart[u + 1]!; k++) {
      const v = adjNode[k]!
      if (v >= nVm || v === u) continue // prefixes stay put: the mapping and the local search weigh them
      row.push(v + 1, Math.max(1, Math.round((adjOut[k]! + adjIn[k]!) * scale)))
      edges++
    }
    lines.push(row.join(' '))
  }
  const dir = mkdtempSync(join(tmpdir(), 'heliotrope-metis-'))
  try {
    const graph = join(dir, 'vms.graph')
    writeFileSync(graph, `${nVm} ${edges / 2} 011\n${lines.join('\n')}\n`)
    const total = dcMemory.reduce((s, m) => s + m, 0)
    const shares = Array.from(dcMemory, m => m / total)
    // METIS wants the target weights to sum to 1 exactly; the last part takes the rounding.
    const fractions = shares.map(s => Number(s.toFixed(6)))
    fractions[nDc - 1] = Number((1 - fractions.slice(0, -1).reduce((s, f) => s + f, 0)).toFixed(6))
    const tpwgts = join(dir, 'tpwgts')
    writeFileSync(tpwgts, fractions.map((f, i) => `${i} = ${f}`).join('\n') + '\n')
    try {
      execFileSync('gpmetis', [`-tpwgts=${tpwgts}`, `-ufactor=${UFACTOR}`, `-seed=${seed}`, graph, String(nDc)], { stdio: 'pipe' })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('gpmetis not found: apt-get install -y metis')
      throw err
    }
    return Int32Array.from(readFileSync(`${graph}.part.${nDc}`, 'utf8').trim().split('\n'), Number)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The DC for each part (see step 2 above). */
function mapParts (model: CostModel, part: Int32Array): Int32Array {
  const inst = model.instance
  const { nDc, nVm, adjStart, adjNode, adjOut, adjIn, prefixDc, vmMemory, dcMemory, hostDc, vmHost } = inst
  // Traffic between parts, and from parts to prefixes' DCs (both directions, as the pair costs are directed).
  const pp = new Float64Array(nDc * nDc)
  const pxOut = new Float64Array(nDc * nDc) // part x DC: to prefixes there
  const pxIn = new Float64Array(nDc * nDc) // part x DC: from prefixes there
  const mem = new Float64Array(nDc)
  const homeMem = new Float64Array(nDc * nDc) // part x DC: memory of the part's VMs that live in the DC now
  for (let u = 0; u < nVm; u++) {
    const a = part[u]!
    mem[a]! += vmMemory[u]!
    homeMem[a * nDc + hostDc[vmHost[u]!]!]! += vmMemory[u]!
    for (let k = adjStart[u]!; k < adjStart[u + 1]!; k++) {
      const v = adjNode[k]!
      if (v < nVm) {
        if (v < u) continue
        const b = part[v]!
        pp[a * nDc + b]! += adjOut[k]!; pp[b * nDc + a]! += adjIn[k]!
      } else {
        const d = prefixDc[v - nVm]!
        pxOut[a * nDc + d]! += adjOut[k]!; pxIn[a * nDc + d]! += adjIn[k]!
      }
    }
  }
  const pair = model.pair
  const cost = (m: Int32Array): number => {
    let c = 0
    for (let a = 0; a < nDc; a++) {
      for (let b = 0; b < nDc; b++) {
        c += pp[a * nDc + b]! * pair[m[a]! * nDc + m[b]!]!
        c += pxOut[a * nDc + b]! * pair[m[a]! * nDc + b]! + pxIn[a * nDc + b]! * pair[b * nDc + m[a]!]!
      }
    }
    return c
  }
  const fits = (m: Int32Array): boolean => m.every((d, a) => mem[a]! <= dcMemory[d]!)
  const kept = (m: Int32Array): number => m.reduce((s, d, a) => s + homeMem[a * nDc + d]!, 0)
  const better = (m: Int32Array, best: { m: Int32Array, cost: number, kept: number } | undefined): boolean => {
    if (!fits(m)) return false
    if (best === undefined) return true
    const c = cost(m)
    return c < best.cost - EPS * Math.max(1, best.cost) || (c <= best.cost + EPS * Math.max(1, best.cost) && kept(m) > best.kept)
  }
  let best: { m: Int32Array, cost: number, kept: number } | undefined
  const consider = (m: Int32Array): void => { if (better(m, best)) best = { m: Int32Array.from(m), cost: cost(m), kept: kept(m) } }
  if (nDc <= ALL_MAPPINGS_DCS) {
    for (const m of permutations(nDc)) consider(m)
  } else {
    const m = Int32Array.from({ length: nDc }, (_, i) => i)
    consider(m)
    for (let improved = true; improved;) {
      improved = false
      for (let a = 0; a < nDc; a++) {
        for (let b = a + 1; b < nDc; b++) {
          const s = Int32Array.from(best?.m ?? m)
          const t = s[a]!; s[a] = s[b]!; s[b] = t
          const before = best
          consider(s)
          if (best !== before) improved = true
        }
      }
    }
  }
  return best?.m ?? Int32Array.from({ length: nDc }, (_, i) => i)
}

