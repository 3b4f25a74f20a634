/**
 * A lower bound on the best cost a plan of heliotrope's kind can reach: each
 * VM moves at most once, one move at a time, every step within capacity.
 * The exact optimum (ilp.ts) ignores that; where its DC assignment is
 * proven unreachable (even with each DC's hosts pooled, reach.ts, or by an
 * exhaustive search over the moves on real hosts, one-move-proof.ts), that
 * assignment is cut off (a no-good cut on its y variables) and the model is
 * solved again, until an assignment is not proven unreachable or the budget
 * runs out. Every assignment cut off is one no such plan can end in, so the
 * last objective is a lower bound on the best plan's cost (and with pooled
 * hosts a relaxation, not necessarily reachable itself).
 */
import { CostModel } from '../../../lib/cost.ts'
import type { Instance } from '../../../lib/instance.ts'
import { solveMip } from './glpk.ts'
import { buildModel } from './ilp.ts'
import { provenUnreachable } from './one-move-proof.ts'
import { pooledBlocked } from './reach.ts'

export interface OneMoveBound {
  /** Lower bound on the cost of any one-move-per-VM plan. */
  bound: number
  /** DC assignments cut off as unreachable. */
  cuts: number
  /** The last assignment was not proven unreachable (else the cut budget ran out first). */
  settled: boolean
}

export async function oneMoveBound (inst: Instance, opts: { maxCuts: number, timeLimit: number, nodes: number }): Promise<OneMoveBound> {
  const m = buildModel(inst, new CostModel(inst))
  for (let cuts = 0; ; cuts++) {
    const r = await solveMip(m.lp, { timeLimit: opts.timeLimit, args: ['--pcost'] })
    if (r.status !== 'optimal') return { bound: r.bound / m.scale, cuts, settled: false }
    const chosen = m.y.map(ys => ys.find(([, j]) => r.values[j]! > 0.5)!)
    const dcOf = Int32Array.from(chosen, ([d]) => d)
    const bound = r.objective / m.scale
    if (!pooledBlocked(inst, inst.vmHost, dcOf) && provenUnreachable(inst, dcOf, opts.nodes) !== 'unreachable') return { bound, cuts, settled: true }
    if (cuts + 1 > opts.maxCuts) return { bound, cuts, settled: false }
    m.lp.constraint(`nogood${cuts}`, chosen.map(([, j]) => [1, j] as const), '<=', inst.nVm - 1)
  }
}
