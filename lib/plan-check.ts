/**
 * Does a plan made earlier still fit the cluster as it is now? An operator
 * may approve a waiting plan (mode approve) rounds after it was made; by
 * then VMs may have moved or been pinned, hosts filled up, or the traffic
 * the plan was to cut may have gone. A plan runs only if every VM is where
 * the plan assumed and not pinned, every move fits in order and breaks no
 * placement rule (lib/rules.ts), and (when
 * `gain` is asked) the moves still lower the cost at today's traffic.
 */
import { CostModel } from './cost.ts'
import { compile } from './instance.ts'
import type { Snapshot } from './model.ts'
import { Placement } from './placement.ts'
import type { PlannerConfig } from './planners/config.ts'

export interface MoveToCheck {
  vm: string
  from: string
  to: string
}

export type PlanCheck =
  | { ok: true, costNow: number, costAfter: number }
  | { ok: false, reason: string, costNow: number, costAfter?: number }

export interface PlanCheckOptions {
  /** The cost function's settings (the agents' planner section). */
  cost?: PlannerConfig
  /** Also require that the moves still lower the cost (default true). */
  gain?: boolean
}

/** Checks `moves` against `snapshot`, the cluster now. */
export function checkPlanNow (snapshot: Snapshot, moves: readonly MoveToCheck[], opts: PlanCheckOptions = {}): PlanCheck {
  const inst = compile(snapshot)
  const p = new Placement(new CostModel(inst, opts.cost ?? {}))
  const costNow = p.cost
  const vmIndex = new Map(inst.vmIds.map((id, i) => [id, i]))
  const hostIndex = new Map(inst.hostIds.map((id, i) => [id, i]))
  for (const m of moves) {
    const v = vmIndex.get(m.vm)
    if (v === undefined) return { ok: false, reason: `${m.vm} is not in the cluster's view now`, costNow }
    const on = inst.hostIds[p.hostOf[v]!]!
    if (on !== m.from) return { ok: false, reason: `${m.vm} is on ${on} now; the plan moves it from ${m.from}`, costNow }
    if (inst.vmPinned[v] === 1) return { ok: false, reason: `${m.vm} is pinned now`, costNow }
    const to = hostIndex.get(m.to)
    if (to === undefined) return { ok: false, reason: `${m.to} is not live now`, costNow }
    if (!p.allowed(v, inst.hostDc[to]!)) return { ok: false, reason: `moving ${m.vm} to ${inst.dcIds[inst.hostDc[to]!]} breaks a placement rule now`, costNow }
    if (!p.fits(v, to)) return { ok: false, reason: `${m.to} has no room for ${m.vm} now`, costNow }
    p.apply(v, to)
  }
  const costAfter = p.cost
  if ((opts.gain ?? true) && !(costAfter < costNow - 1e-12 * Math.max(1, costNow))) {
    return { ok: false, reason: `it no longer lowers the cost: ${costNow.toPrecision(3)} now, ${costAfter.toPrecision(3)} after its moves`, costNow, costAfter }
  }
  return { ok: true, costNow, costAfter }
}
