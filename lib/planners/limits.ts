/**
 * The operator's limits around any planner (what DRS, the descheduler and
 * KubeVirt call migration limits), as pure functions of the snapshot:
 *
 * - VMs already on the move (queued or migrating) and VMs that moved in the
 *   last few rounds (cooldown, so nothing ping-pongs) are pinned for the round;
 * - migrations at once across the cluster are capped: a plan gets only the
 *   moves the cap has left;
 * - outbound migrations at once per host are capped: hosts at their cap move
 *   nothing, and a plan is trimmed to what each host has left;
 * - a plan must lower the cost by a minimum fraction to run at all.
 */
import { CostModel } from '../cost.ts'
import type { Instance } from '../instance.ts'
import type { Plan, Snapshot } from '../model.ts'
import { Placement } from '../placement.ts'
import type { PlannerConfig } from './config.ts'
import { MoveRecorder } from './recorder.ts'

/** KubeVirt's parallelMigrationsPerCluster. */
export const DEFAULT_MAX_IN_FLIGHT = 5
/** KubeVirt's parallelOutboundMigrationsPerNode. */
export const DEFAULT_MAX_IN_FLIGHT_PER_HOST = 2
/** Rounds a VM stays put after it moved. */
export const DEFAULT_COOLDOWN_ROUNDS = 3
/** A plan must cut the cost by this fraction to run (1%). */
export const DEFAULT_MIN_IMPROVEMENT = 0.01

export interface MigrationLimits {
  maxInFlight: number
  maxInFlightPerHost: number
  /** Fraction of the cost before; 0 lets any improving plan run. */
  minImprovement: number
}

/** A migration planned and not finished yet (queued or running), by its source host. */
export interface OnTheMove {
  vm: string
  from: string
}

export interface Held {
  /** The snapshot with on-the-move, cooling and capped hosts' VMs pinned. */
  snapshot: Snapshot
  /** Moves this round may plan: the cluster cap less what is on the move. */
  budget: number
  /** Outbound moves each host may still start. */
  hostBudget: Map<string, number>
}

export function holdBack (snapshot: Snapshot, onTheMove: readonly OnTheMove[], cooling: Iterable<string>, limits: MigrationLimits): Held {
  const moving = new Set(onTheMove.map(m => m.vm))
  const outbound = new Map<string, number>()
  for (const m of onTheMove) outbound.set(m.from, (outbound.get(m.from) ?? 0) + 1)
  const hostBudget = new Map(snapshot.hosts.map(h => [h.id, Math.max(0, limits.maxInFlightPerHost - (outbound.get(h.id) ?? 0))]))
  const still = new Set([...moving, ...cooling])
  const vms = snapshot.vms.map(v => (v.pinned !== true && (still.has(v.id) || hostBudget.get(v.host) === 0) ? { ...v, pinned: true } : v))
  return { snapshot: { ...snapshot, vms }, budget: Math.max(0, limits.maxInFlight - moving.size), hostBudget }
}

/**
 * Keeps the plan's steps (Plan.steps; a move each without them), in order,
 * while every move of the step has outbound budget at its source and room
 * at its target once the kept moves before it ran; a step is kept whole or
 * dropped whole (its middle may cost more than the start), and a step that
 * relied on a dropped one is dropped too. Costs are those of the kept moves.
 */
export function trimToBudget (inst: Instance, plan: Plan, hostBudget: ReadonlyMap<string, number>, config: PlannerConfig = {}): Plan {
  const left = new Map(hostBudget)
  const hostIndex = new Map(inst.hostIds.map((id, i) => [id, i]))
  const vmIndex = new Map(inst.vmIds.map((id, i) => [id, i]))
  const state = new Placement(new CostModel(inst, config))
  const rec = new MoveRecorder(state)
  const kept: number[] = []
  let dropped = false
  let at = 0
  for (const size of plan.steps ?? plan.moves.map(() => 1)) {
    const step = plan.moves.slice(at, at + size)
    at += size
    let applied = 0
    for (const m of step) {
      const vm = vmIndex.get(m.vm); const from = hostIndex.get(m.from); const to = hostIndex.get(m.to)
      const budget = left.get(m.from) ?? 0
      if (vm === undefined || from === undefined || to === undefined || budget <= 0 || state.hostOf[vm] !== from || !state.fits(vm, to)) break
      left.set(m.from, budget - 1)
      rec.apply(vm, to)
      applied++
    }
    if (applied === step.length) { kept.push(size); continue }
    for (const m of step.slice(0, applied)) left.set(m.from, left.get(m.from)! + 1)
    rec.rollback(applied)
    dropped = true
  }
  if (!dropped) return plan
  const trimmed = rec.plan(plan.planner, 'move-limit')
  // Mending moves lead the plan as single steps, so the kept ones still lead it.
  const mending = new Set(plan.moves.slice(0, plan.mends ?? 0).map(m => m.vm))
  const mends = trimmed.moves.filter(m => mending.has(m.vm)).length
  return { ...trimmed, ...(kept.some(n => n > 1) ? { steps: kept } : {}), ...(mends > 0 ? { mends } : {}) }
}

/** True when the plan cuts the cost by at least `minImprovement` of it, or mends a placement rule (that comes first, whatever it costs). */
export function improvesEnough (plan: Plan, minImprovement: number): boolean {
  if (plan.moves.length === 0) return false
  if ((plan.mends ?? 0) > 0) return true
  const gain = plan.initialCost - plan.finalCost
  return gain > 0 && gain >= minImprovement * plan.initialCost
}

/** The plan that moves nothing, for a round held back (costs stay as they are). */
export function standStill (plan: Plan): Plan {
  return { planner: plan.planner, initialCost: plan.initialCost, finalCost: plan.initialCost, moves: [], stopped: plan.stopped }
}
