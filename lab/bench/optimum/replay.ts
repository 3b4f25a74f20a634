/**
 * Runs a planner and replays its plan on the instance: the placement it ends
 * in, checked step by step against host capacity, and its final cost checked
 * against the reference evaluation, so the bench compares real placements.
 */
import { CostModel, evaluate } from '../../../lib/cost.ts'
import { compile, type Instance } from '../../../lib/instance.ts'
import type { Plan } from '../../../lib/model.ts'
import type { PlannerConfig, PlannerFn } from '../../../lib/planners/index.ts'
import type { MigrationLimits } from '../../../lib/planners/limits.ts'
import { runAgentLoop } from '../agent-loop.ts'

export interface Replayed {
  plan: Plan
  hostOf: Int32Array
  /** evaluate(...).total of hostOf. */
  cost: number
  ms: number
}

export function replay (inst: Instance, planner: (i: Instance) => Plan): Replayed {
  const started = performance.now()
  const plan = planner(inst)
  const ms = performance.now() - started
  const vm = new Map(inst.vmIds.map((id, i) => [id, i]))
  const host = new Map(inst.hostIds.map((id, i) => [id, i]))
  const hostOf = Int32Array.from(inst.vmHost)
  const mem = new Float64Array(inst.nHost); const cpu = new Float64Array(inst.nHost)
  hostOf.forEach((h, v) => { mem[h]! += inst.vmMemory[v]!; cpu[h]! += inst.vmVcpus[v]! })
  for (const m of plan.moves) {
    const v = vm.get(m.vm)!; const a = host.get(m.from)!; const b = host.get(m.to)!
    if (hostOf[v] !== a) throw new Error(`${plan.planner}: ${m.vm} is not on ${m.from}`)
    mem[a]! -= inst.vmMemory[v]!; cpu[a]! -= inst.vmVcpus[v]!; mem[b]! += inst.vmMemory[v]!; cpu[b]! += inst.vmVcpus[v]!
    if (mem[b]! > inst.hostMemory[b]! || cpu[b]! > inst.hostVcpus[b]!) throw new Error(`${plan.planner}: moving ${m.vm} overfills ${m.to}`)
    hostOf[v] = b
  }
  const cost = evaluate(new CostModel(inst), hostOf).total
  if (Math.abs(cost - plan.finalCost) > 1e-9 * Math.max(cost, 1e-300)) throw new Error(`${plan.planner}: finalCost ${plan.finalCost} != evaluate ${cost}`)
  return { plan, hostOf, cost, ms }
}

export interface Rounds {
  hostOf: Int32Array
  cost: number
  rounds: number
  moves: number
  /** How long each round's plan took, in ms (the agents' loop only). */
  planMs?: number[]
}

/**
 * Plans again from where each plan left off, as the agents do round after
 * round, until a plan has no moves (or `max` rounds): what the planner
 * reaches when a VM may move again in a later round.
 */
export function untilFixpoint (inst: Instance, planner: (i: Instance) => Plan, max: number): Rounds {
  let cur = inst
  let last = replay(cur, planner)
  let rounds = 1; let moves = last.plan.moves.length
  while (last.plan.moves.length > 0 && rounds < max) {
    const snap = structuredClone(inst.snapshot)
    snap.vms.forEach((vm, v) => { vm.host = inst.hostIds[last.hostOf[v]!]! })
    cur = compile(snap)
    const next = replay(cur, planner)
    rounds++; moves += next.plan.moves.length
    if (next.plan.moves.length === 0) break
    last = next
  }
  return { hostOf: last.hostOf, cost: last.cost, rounds, moves }
}

/** The agents' loop around each round's plan: its safety limits (agent/policy/config.ts defaults). */
export interface AgentLoop {
  limits: MigrationLimits
  cooldownRounds: number
}

/**
 * The agents' whole loop, round after round (agent-loop.ts, as
 * bench:rounds runs it), until a round stands still with nothing cooling
 * (or `max` rounds; `rounds` is the last that moved). What a cluster of
 * default agents ends at.
 */
export function agentLoop (inst: Instance, planner: PlannerFn, config: PlannerConfig, loop: AgentLoop, max: number): Rounds {
  let rounds = 0; let moves = 0
  const planMs: number[] = []
  const settings = { planner, config, limits: loop.limits, cooldownRounds: loop.cooldownRounds }
  const end = compile(runAgentLoop(inst.snapshot, settings, max, r => {
    planMs.push(r.ms)
    if (r.plan.moves.length > 0) { rounds = r.round; moves += r.plan.moves.length }
  }, true))
  return { hostOf: Int32Array.from(end.vmHost), cost: evaluate(new CostModel(end), end.vmHost).total, rounds, moves, planMs }
}
