/**
 * Evacuation: a drained host's VMs leave whatever the cost, because an
 * operator asked for maintenance. Each VM goes where it costs least among
 * the hosts with room (the cost function decides, so a VM that talks to its
 * own DC stays in it when there is room; at equal cost its own DC wins), biggest VMs first since they are
 * the hardest to place, within the plan's move limits (per plan and per host,
 * counting both ends). Pinned VMs stay: an operator pinned them.
 */
import { CostModel } from '../cost.ts'
import { compile, type Instance } from '../instance.ts'
import type { Plan, Snapshot } from '../model.ts'
import { Placement } from '../placement.ts'
import { type PlannerConfig, DEFAULT_MAX_MOVES, DEFAULT_MAX_MOVES_PER_HOST } from './config.ts'
import { MoveRecorder } from './recorder.ts'

export const EVACUATION_PLANNER = 'evacuate'

/** VMs (indices) on draining hosts that may move: what evacuation is about. */
export function evacuees (inst: Instance): number[] {
  const draining = inst.snapshot.hosts.map(h => h.draining === true)
  const out: number[] = []
  for (let v = 0; v < inst.nVm; v++) if (draining[inst.vmHost[v]!] === true && inst.vmPinned[v] === 0) out.push(v)
  return out
}

/**
 * The evacuation plan, or undefined when no VM needs to leave or none can
 * (no room anywhere): then the round plans as usual.
 */
export function planEvacuation (input: Snapshot | Instance, config: PlannerConfig = {}): Plan | undefined {
  const inst = 'vmIds' in input ? input : compile(input)
  const leaving = evacuees(inst)
  if (leaving.length === 0) return undefined
  const draining = inst.snapshot.hosts.map(h => h.draining === true)
  const state = new Placement(new CostModel(inst, config))
  const rec = new MoveRecorder(state)
  const maxMoves = config.maxMoves ?? DEFAULT_MAX_MOVES
  const maxPerHost = config.maxMovesPerHost ?? DEFAULT_MAX_MOVES_PER_HOST
  const touches = new Int32Array(inst.nHost)
  leaving.sort((a, b) => inst.vmMemory[b]! - inst.vmMemory[a]! || a - b)
  let limited = false
  for (const vm of leaving) {
    const from = state.hostOf[vm]!
    if (rec.count >= maxMoves || touches[from]! >= maxPerHost) { limited = true; continue }
    let best = -1; let bestDelta = Infinity; let bestHome = false; let bestFree = -Infinity
    for (let h = 0; h < inst.nHost; h++) {
      if (draining[h] === true || h === from || touches[h]! >= maxPerHost || !state.fits(vm, h)) continue
      const delta = state.delta(vm, inst.hostDc[h]!)
      const home = inst.hostDc[h] === inst.hostDc[from]
      const free = inst.hostMemory[h]! - state.memUsed[h]!
      // Cheapest first; among equals a host in the VM's own DC (with moves free and no traffic known
      // yet, every host ties, and its copy should not cross the WAN), then the roomiest, then the lower index.
      const tie = Math.abs(delta - bestDelta) <= 1e-15
      if (delta < bestDelta - 1e-15 || (tie && (home !== bestHome ? home : free > bestFree))) { best = h; bestDelta = delta; bestHome = home; bestFree = free }
    }
    if (best < 0) continue
    rec.apply(vm, best)
    touches[from]!++; touches[best]!++
  }
  if (rec.count === 0) return undefined
  return rec.plan(EVACUATION_PLANNER, limited ? 'move-limit' : 'converged')
}
