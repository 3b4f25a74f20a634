/**
 * The WAN as the agent sees it now: the cost of the placement in its latest
 * snapshot (the planner's own input and cost function) and each link's load.
 * Computed on demand from the replicated view, so /view and /metrics always
 * agree with what the next plan will start from.
 */
import { CostModel, evaluate } from '../../lib/cost.ts'
import { compile } from '../../lib/instance.ts'
import { parseSnapshot } from '../../lib/snapshot.ts'
import type { Topology } from '../../lib/topology.ts'
import type { Agent } from '../agent.ts'
import { plannerConfig } from '../policy/round-plan.ts'
import type { LinkLoad } from './types.ts'

export interface WanState {
  cost: number
  links: LinkLoad[]
}

/** Undefined while the view cannot make a valid snapshot (no members heard yet). */
export function wanState (agent: Agent, topology: Topology, nowMs: number): WanState | undefined {
  let inst
  try {
    inst = compile(parseSnapshot(agent.view.snapshot(topology, nowMs)))
  } catch {
    return undefined
  }
  const model = new CostModel(inst, plannerConfig(agent.config.planner))
  const result = evaluate(model, inst.vmHost)
  const links = topology.links.map((l, i) => {
    const loadBps = result.linkLoad[i] ?? 0
    return { link: inst.linkIds[i]!, from: l.from, to: l.to, capacityBps: l.capacityBps, loadBps, utilization: loadBps / l.capacityBps }
  })
  return { cost: result.total, links }
}
