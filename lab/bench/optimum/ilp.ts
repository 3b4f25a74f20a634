/**
 * The exact optimum of the placement problem, as an integer program in CPLEX
 * LP format solved by glpsol.
 *
 * Variables: y[v][d] binary, VM v in DC d (a pinned VM has only its own DC),
 * one DC per VM. Hosts enter through packing patterns (patterns.ts):
 * p[c][k] integer, how many hosts of class c use pattern k; per DC and VM
 * size the patterns must cover the VMs placed there. This is the per-host
 * x[v][h] model with identical hosts aggregated: exact, minus the symmetry.
 * hosts.ts then turns the DCs back into hosts (x[v][h]).
 *
 * Cost (lib/cost.ts): a bit/s sent from DC a to DC b costs pair[a][b] >= 0,
 * so traffic to an external prefix (fixed DC) and the migration term are
 * linear in y. A VM-VM edge e = (u, w) costs sum over a, b of
 * c[a][b] * y[u][a] * y[w][b], with c[a][b] = out * pair[a][b] + in * pair[b][a].
 * The product is linearised with a transport plan z[e][a][b] >= 0:
 *   sum_b z[e][a][b] = y[u][a],  sum_a z[e][a][b] = y[w][b].
 * With integer y the only such z is the product itself, so the model is
 * exact, and it implies the textbook z >= y[u][a] + y[w][b] - 1 while
 * being tighter.
 *
 * The DC-load term (a variance) is not linear; it is refused.
 */
import { type CostOptions, CostModel, evaluate } from '../../../lib/cost.ts'
import type { Instance } from '../../../lib/instance.ts'
import { type GlpkOptions, solveMip } from './glpk.ts'
import { fewestMoves, hostsFromPatterns } from './hosts.ts'
import { LpModel, type Term } from './lp.ts'
import { type Packing, packing } from './patterns.ts'

export interface Optimum {
  /** 'optimal': proven; 'time-limit': best found when time ran out; 'none': nothing found. */
  status: 'optimal' | 'time-limit' | 'none'
  /** The optimal placement, on the hosts that move the fewest VMs. */
  hostOf: Int32Array
  /** evaluate(...).total of hostOf (NaN when none). */
  cost: number
  /** Lower bound on the optimum (= cost when proven; NaN if unknown). */
  bound: number
  /** glpsol's wall time for the placement model. */
  seconds: number
  columns: number
}

export interface DcModel {
  lp: LpModel
  pack: Packing
  /** y[v]: [dc, variable] pairs. */
  y: Array<Array<readonly [number, number]>>
  /** p[c][k]: variable of pattern k in host class c. */
  p: number[][]
  /** Objective units per cost unit (keeps glpsol's numbers near 1000). */
  scale: number
}

export function buildModel (inst: Instance, cost: CostModel): DcModel {
  if (cost.weights.dcLoad !== 0) throw new Error('ilp: the DC-load term is not linear; set its weight to 0')
  const { nDc, nVm, hostDc, adjStart, adjNode, adjOut, adjIn, prefixDc, vmHost, vmMemory, vmVcpus } = inst
  const pair = cost.pair
  const lp = new LpModel()
  const pack = packing(inst)
  const initial = evaluate(cost, vmHost).total
  const scale = initial > 0 ? 1000 / initial : 1

  // A movable VM may go to any DC with a host class it fits alone.
  const y = Array.from({ length: nVm }, (_, v) => {
    const t = pack.typeOf[v]!
    const dcs = t < 0
      ? [hostDc[vmHost[v]!]!]
      : [...new Set(pack.classes.filter(c => c.memory >= vmMemory[v]! && c.vcpus >= vmVcpus[v]!).map(c => c.dc))].sort((a, b) => a - b)
    return dcs.map(d => [d, lp.variable(`y${v}_${d}`, { kind: 'binary' })] as const)
  })
  y.forEach((ys, v) => lp.constraint(`one${v}`, ys.map(([, j]) => [1, j] as const), '=', 1))

  const p = pack.classes.map((c, ci) => c.patterns.map((_, k) => lp.variable(`p${ci}_${k}`, { kind: 'integer', lo: 0, hi: c.hosts.length })))
  pack.classes.forEach((c, ci) => lp.constraint(`hosts${ci}`, p[ci]!.map(j => [1, j] as const), '<=', c.hosts.length))
  for (let d = 0; d < nDc; d++) {
    pack.types.forEach((_, t) => {
      const terms: Term[] = []
      pack.classes.forEach((c, ci) => {
        if (c.dc === d) c.patterns.forEach((pat, k) => { if (pat[t]! > 0) terms.push([pat[t]!, p[ci]![k]!]) })
      })
      y.forEach((ys, v) => { if (pack.typeOf[v] === t) for (const [dd, j] of ys) if (dd === d) terms.push([-1, j]) })
      if (terms.some(([c]) => c < 0)) lp.constraint(`cover${d}_${t}`, terms, '>=', 0)
    })
  }

  for (let u = 0; u < nVm; u++) {
    // Linear part: prefixes and the migration copy.
    for (const [d, j] of y[u]!) {
      let c = cost.migration(u, hostDc[vmHost[u]!]!, d)
      for (let k = adjStart[u]!; k < adjStart[u + 1]!; k++) {
        if (adjNode[k]! < nVm) continue
        const q = prefixDc[adjNode[k]! - nVm]!
        c += adjOut[k]! * pair[d * nDc + q]! + adjIn[k]! * pair[q * nDc + d]!
      }
      lp.cost(j, c * scale)
    }
    // Quadratic part: a transport plan per VM-VM edge, counted at its lower end.
    for (let k = adjStart[u]!; k < adjStart[u + 1]!; k++) {
      const w = adjNode[k]!
      if (w >= nVm || w < u || adjOut[k]! + adjIn[k]! === 0) continue
      const rowA = new Map(y[u]!.map(([a, j]) => [a, [[-1, j]] as Term[]]))
      const rowB = new Map(y[w]!.map(([b, j]) => [b, [[-1, j]] as Term[]]))
      for (const [a] of y[u]!) {
        for (const [b] of y[w]!) {
          const z = lp.variable(`z${u}_${w}_${a}_${b}`)
          lp.cost(z, (adjOut[k]! * pair[a * nDc + b]! + adjIn[k]! * pair[b * nDc + a]!) * scale)
          rowA.get(a)!.push([1, z]); rowB.get(b)!.push([1, z])
        }
      }
      for (const [a, terms] of rowA) lp.constraint(`ta${u}_${w}_${a}`, terms, '=', 0)
      for (const [b, terms] of rowB) lp.constraint(`tb${u}_${w}_${b}`, terms, '=', 0)
    }
  }
  return { lp, pack, y, p, scale }
}

export interface OptimumOptions extends GlpkOptions {
  cost?: CostOptions
  /** Time for choosing hosts that move the fewest VMs (0: skip, keep the pattern hosts). */
  hostTimeLimit?: number
  /**
   * A known feasible placement (e.g. a planner's). The optimum costs at most
   * as much, so glpsol may prune above it (exactness is kept; a hair of slack
   * covers the solver's tolerances), and it is the answer if glpsol finds
   * nothing better in time.
   */
  incumbent?: Int32Array
}

export async function solveOptimum (inst: Instance, opts: OptimumOptions): Promise<Optimum> {
  const cost = new CostModel(inst, opts.cost)
  const m = buildModel(inst, cost)
  const known = opts.incumbent
  let upper = NaN
  if (known !== undefined) {
    checkPlacement(inst, known, Int32Array.from(known, h => inst.hostDc[h]!))
    upper = evaluate(cost, known).total
    m.lp.cutoff = upper * m.scale * (1 + 1e-6) + 1e-9
  }
  const r = await solveMip(m.lp, opts)
  const columns = m.lp.size
  if (r.status !== 'optimal' && r.status !== 'feasible') {
    const bound = r.bound / m.scale
    if (known !== undefined) return { status: 'time-limit', hostOf: Int32Array.from(known), cost: upper, bound, seconds: r.seconds, columns }
    return { status: 'none', hostOf: Int32Array.from(inst.vmHost), cost: NaN, bound, seconds: r.seconds, columns }
  }
  const dcOf = Int32Array.from(m.y, (ys, v) => {
    const on = ys.filter(([, j]) => r.values[j]! > 0.5)
    if (on.length !== 1) throw new Error(`ilp: VM ${v} is in ${on.length} DCs`)
    return on[0]![0]
  })
  const uses = m.p.map(ks => ks.map(j => Math.round(r.values[j]!)))
  let hostOf = hostsFromPatterns(inst, m.pack, dcOf, uses)
  if ((opts.hostTimeLimit ?? 0) > 0) hostOf = (await fewestMoves(inst, dcOf, opts.hostTimeLimit!)) ?? hostOf
  checkPlacement(inst, hostOf, dcOf)
  const total = evaluate(cost, hostOf).total
  const ilpCost = r.objective / m.scale
  // The solver's objective and the reference evaluation must be the same number.
  if (Math.abs(ilpCost - total) > 1e-9 * Math.max(Math.abs(total), 1e-300)) {
    throw new Error(`ilp: glpsol objective ${ilpCost} != evaluate ${total} (rel ${(ilpCost - total) / total})`)
  }
  const optimal = r.status === 'optimal'
  return { status: optimal ? 'optimal' : 'time-limit', hostOf, cost: total, bound: optimal ? total : r.bound / m.scale, seconds: r.seconds, columns }
}

/** Throws unless hostOf puts every VM in its DC, pinned VMs home, and no host overfull (the solver is checked, not trusted). */
export function checkPlacement (inst: Instance, hostOf: Int32Array, dcOf: Int32Array): void {
  const mem = new Float64Array(inst.nHost); const cpu = new Float64Array(inst.nHost)
  hostOf.forEach((h, v) => {
    if (inst.hostDc[h] !== dcOf[v]) throw new Error(`ilp: VM ${inst.vmIds[v]} left its DC`)
    if (inst.vmPinned[v] === 1 && h !== inst.vmHost[v]) throw new Error(`ilp: pinned VM ${inst.vmIds[v]} moved`)
    mem[h]! += inst.vmMemory[v]!; cpu[h]! += inst.vmVcpus[v]!
  })
  for (let h = 0; h < inst.nHost; h++) {
    if (mem[h]! > inst.hostMemory[h]! || cpu[h]! > inst.hostVcpus[h]!) throw new Error(`ilp: host ${inst.hostIds[h]} overfilled`)
  }
}
