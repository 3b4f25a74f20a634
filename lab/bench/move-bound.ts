/**
 * A lower bound on the cost any plan of k moves can reach: a move can at
 * best remove every cost its VM's own traffic causes, so k moves remove at
 * most the k largest per-VM costs (lib/planners/move-bound.ts, which the
 * round planner uses to tell when a round cannot gain a share of the
 * cost). Loose, but enough to show when a target ("close most of the gap
 * in k moves") is out of reach for any planner.
 */
import { CostModel, evaluate } from '../../lib/cost.ts'
import type { Instance } from '../../lib/instance.ts'
import { mostGainOfMoves } from '../../lib/planners/move-bound.ts'

export function bestCostAfterMoves (inst: Instance, k: number): number {
  const model = new CostModel(inst)
  return Math.max(0, evaluate(model, inst.vmHost).total - mostGainOfMoves(model, inst.vmHost, k))
}
