/**
 * The exact optimum of the placement problem, as an integer program solved by
 * glpsol.
 *
 *   x[v][h] binary: VM v on host h (a pinned VM has only its own host);
 *   y[v][d] = sum of x[v][h] over hosts h in DC d (an expression, not a variable);
 *   each VM on exactly one host; host memory and vCPUs hold.
 *
 * Cost (lib/cost.ts): a bit/s sent from DC a to DC b costs pair[a][b] >= 0,
 * so traffic to an external prefix (fixed DC) and the migration term are
 * linear in y. A VM-VM edge e = (u, w) costs sum over a, b of
 * c[a][b] * y[u][a] * y[w][b], with c[a][b] = out * pair[a][b] + in * pair[b][a].
 * The product is linearised with a transport plan z[e][a][b] >= 0:
 *   sum_b z[e][a][b] = y[u][a],  sum_a z[e][a][b] = y[w][b].
 * With integer y the only such z is the product itself, so the model is
 * exact; its LP relaxation is much tighter than the textbook
 * z >= y[u][a] + y[w][b] - 1 (which lets z = 0 at y = 1/2), which is what
 * lets glpsol prove optimality in seconds.
 *
 * The DC-load term (a variance) is not linear; it is refused.
 */
import { type CostOptions, CostModel, evaluate } from '../../../lib/cost.ts'
import type { Instance } from '../../../lib/instance.ts'
import { type GlpkOptions, solveMip } from './glpk.ts'
import { LpModel, type Term } from './lp.ts'

export interface Optimum {
  /** 'optimal': proven; 'time-limit': best found when time ran out; 'none': nothing found. */
  status: 'optimal' | 'time-limit' | 'none'
  hostOf: Int32Array
  /** evaluate(...).total of hostOf (NaN when none). */
  cost: number
  /** Lower bound on the optimum (= cost when proven). */
  bound: number
  seconds: number
  columns: number
}

export interface PlacementModel {
  lp: LpModel
  /** x[v]: [host, variable] pairs. */
  x: Array<Array<readonly [number, number]>>
  /** Objective units per cost unit (keeps glpsol's numbers near 1000). */
  scale: number
}

/** The hosts VM v may be on: its own if pinned, else every host it fits alone. */
export function allowedHosts (inst: Instance, v: number): number[] {
  if (inst.vmPinned[v] === 1) return [inst.vmHost[v]!]
  const out: number[] = []
  for (let h = 0; h < inst.nHost; h++) {
    if (inst.vmMemory[v]! <= inst.hostMemory[h]! && inst.vmVcpus[v]! <= inst.hostVcpus[h]!) out.push(h)
  }
  return out
}

/** Assignment and capacity rows shared by every model here. */
export function assignmentModel (inst: Instance, hostsOf: (v: number) => number[]): PlacementModel {
  const lp = new LpModel()
  const x = Array.from({ length: inst.nVm }, (_, v) => hostsOf(v).map(h => [h, lp.variable(`x${v}_${h}`, { binary: true })] as const))
  x.forEach((xs, v) => lp.constraint(`one${v}`, xs.map(([, j]) => [1, j] as const), '=', 1))
  const memTerms: Term[][] = Array.from({ length: inst.nHost }, () => [])
  const cpuTerms: Term[][] = Array.from({ length: inst.nHost }, () => [])
  x.forEach((xs, v) => {
    for (const [h, j] of xs) { memTerms[h]!.push([inst.vmMemory[v]!, j]); cpuTerms[h]!.push([inst.vmVcpus[v]!, j]) }
  })
  for (let h = 0; h < inst.nHost; h++) {
    if (memTerms[h]!.length > 0) lp.constraint(`mem${h}`, memTerms[h]!, '<=', inst.hostMemory[h]!)
    if (cpuTerms[h]!.length > 0) lp.constraint(`cpu${h}`, cpuTerms[h]!, '<=', inst.hostVcpus[h]!)
  }
  return { lp, x, scale: 1 }
}

/** Reads x back as each VM's host. */
export function hostsFrom (m: PlacementModel, values: Float64Array): Int32Array {
  return Int32Array.from(m.x, (xs, v) => {
    const on = xs.filter(([, j]) => values[j]! > 0.5)
    if (on.length !== 1) throw new Error(`ilp: VM ${v} is on ${on.length} hosts`)
    return on[0]![0]
  })
}

export function buildCostModel (inst: Instance, cost: CostModel): PlacementModel {
  if (cost.weights.dcLoad !== 0) throw new Error('ilp: the DC-load term is not linear; set its weight to 0')
  const m = assignmentModel(inst, v => allowedHosts(inst, v))
  const { lp, x } = m
  const { nDc, nVm, hostDc, adjStart, adjNode, adjOut, adjIn, prefixDc, vmHost } = inst
  const pair = cost.pair
  const initial = evaluate(cost, vmHost).total
  m.scale = initial > 0 ? 1000 / initial : 1
  // y[v][d] as terms over x.
  const y = x.map(xs => {
    const byDc: Term[][] = Array.from({ length: nDc }, () => [])
    for (const [h, j] of xs) byDc[hostDc[h]!]!.push([1, j])
    return byDc
  })
  for (let u = 0; u < nVm; u++) {
    // Linear part: prefixes and the migration copy, priced per host's DC.
    for (const [h, j] of x[u]!) {
      const d = hostDc[h]!
      let c = cost.migration(u, hostDc[vmHost[u]!]!, d)
      for (let k = adjStart[u]!; k < adjStart[u + 1]!; k++) {
        if (adjNode[k]! < nVm) continue
        const p = prefixDc[adjNode[k]! - nVm]!
        c += adjOut[k]! * pair[d * nDc + p]! + adjIn[k]! * pair[p * nDc + d]!
      }
      lp.cost(j, c * m.scale)
    }
    // Quadratic part: one transport plan per VM-VM edge, counted at its lower end.
    for (let k = adjStart[u]!; k < adjStart[u + 1]!; k++) {
      const w = adjNode[k]!
      if (w >= nVm || w < u || adjOut[k]! + adjIn[k]! === 0) continue
      const da = dcsOf(y[u]!); const db = dcsOf(y[w]!)
      const rowA = new Map(da.map(a => [a, [] as Term[]])); const rowB = new Map(db.map(b => [b, [] as Term[]]))
      for (const a of da) {
        for (const b of db) {
          const z = lp.variable(`z${u}_${w}_${a}_${b}`)
          lp.cost(z, (adjOut[k]! * pair[a * nDc + b]! + adjIn[k]! * pair[b * nDc + a]!) * m.scale)
          rowA.get(a)!.push([1, z]); rowB.get(b)!.push([1, z])
        }
      }
      for (const a of da) lp.constraint(`ta${u}_${w}_${a}`, [...rowA.get(a)!, ...neg(y[u]![a]!)], '=', 0)
      for (const b of db) lp.constraint(`tb${u}_${w}_${b}`, [...rowB.get(b)!, ...neg(y[w]![b]!)], '=', 0)
    }
  }
  return m
}

export async function solveOptimum (inst: Instance, opts: GlpkOptions & { cost?: CostOptions }): Promise<Optimum> {
  const cost = new CostModel(inst, opts.cost)
  const m = buildCostModel(inst, cost)
  const r = await solveMip(m.lp, opts)
  const columns = m.lp.size
  if (r.status !== 'optimal' && r.status !== 'feasible') {
    return { status: 'none', hostOf: Int32Array.from(inst.vmHost), cost: NaN, bound: r.bound / m.scale, seconds: r.seconds, columns }
  }
  const hostOf = hostsFrom(m, r.values)
  checkCapacity(inst, hostOf)
  const total = evaluate(cost, hostOf).total
  const ilpCost = r.objective / m.scale
  // The solver's objective and the reference evaluation must be the same number.
  if (Math.abs(ilpCost - total) > 1e-9 * Math.max(Math.abs(total), 1e-300)) {
    throw new Error(`ilp: glpsol objective ${ilpCost} != evaluate ${total} (rel ${(ilpCost - total) / total})`)
  }
  const optimal = r.status === 'optimal'
  return { status: optimal ? 'optimal' : 'time-limit', hostOf, cost: total, bound: optimal ? total : r.bound / m.scale, seconds: r.seconds, columns }
}

/** Throws if a placement overfills a host (the solver's answer is checked, not trusted). */
export function checkCapacity (inst: Instance, hostOf: Int32Array): void {
  const mem = new Float64Array(inst.nHost); const cpu = new Float64Array(inst.nHost)
  hostOf.forEach((h, v) => { mem[h]! += inst.vmMemory[v]!; cpu[h]! += inst.vmVcpus[v]! })
  for (let h = 0; h < inst.nHost; h++) {
    if (mem[h]! > inst.hostMemory[h]! || cpu[h]! > inst.hostVcpus[h]!) throw new Error(`ilp: host ${inst.hostIds[h]} overfilled`)
  }
}

function dcsOf (byDc: Term[][]): number[] {
  const out: number[] = []
  byDc.forEach((t, d) => { if (t.length > 0) out.push(d) })
  return out
}

function neg (terms: Term[]): Term[] {
  return terms.map(([c, j]) => [-c, j] as const)
}
