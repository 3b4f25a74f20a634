/**
 * The planner role: the real planner (lib/planners/safe-plan.ts with the
 * agents' defaults) on the world as the round's live hosts report it. Only
 * the planner plans; the result is kept while the world and the live set
 * are unchanged, since planning 200,000 VMs takes seconds of real time and
 * gives the same plan. Its CPU in model time comes from the bench:planner
 * figure (PLAN_CPU_MS_PER_VM), so runs are deterministic.
 */
import type { Plan, Snapshot } from '../../lib/model.ts'
import { DEFAULT_COOLDOWN_ROUNDS, DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_IN_FLIGHT_PER_HOST, DEFAULT_MIN_IMPROVEMENT } from '../../lib/planners/limits.ts'
import { PLANNERS } from '../../lib/planners/index.ts'
import { planSafely } from '../../lib/planners/safe-plan.ts'
import { PLAN_CPU_MS_PER_VM } from './constants.ts'
import type { World } from './world.ts'

/** The agents' defaults (docs/design.md §5.1); thesis, as bench:gossip runs it. */
export const MODEL_PLANNER = 'thesis'
const MAX_MOVES = 5
const MAX_MOVES_PER_HOST = 2

export interface ModelPlan {
  moves: Array<{ vm: string, from: number, to: number }>
  cpuMs: number
  vms: number
}

export class PlanningRole {
  private cacheKey = ''
  private cached: ModelPlan | undefined
  /** Bumped when a move lands. */
  worldVersion = 0
  private readonly cooling = new Map<string, number>()

  readonly world: World

  constructor (world: World) {
    this.world = world
  }

  plan (live: readonly number[], round: number): ModelPlan {
    const key = `${this.worldVersion}/${live.length}/${live.join(',')}`
    if (key === this.cacheKey && this.cached !== undefined) return this.cached
    const snapshot = this.snapshotOf(live)
    const cooling = [...this.cooling].filter(([, r]) => round - r < DEFAULT_COOLDOWN_ROUNDS).map(([vm]) => vm)
    const planner = PLANNERS[MODEL_PLANNER]!
    const result: Plan = planSafely(snapshot, {
      planner,
      config: { maxMoves: MAX_MOVES, maxMovesPerHost: MAX_MOVES_PER_HOST },
      limits: { maxInFlight: DEFAULT_MAX_IN_FLIGHT, maxInFlightPerHost: DEFAULT_MAX_IN_FLIGHT_PER_HOST, minImprovement: DEFAULT_MIN_IMPROVEMENT },
      onTheMove: [],
      cooling
    }).plan
    const index = new Map(this.world.hostIds.map((id, i) => [id, i]))
    this.cached = { moves: result.moves.map(m => ({ vm: m.vm, from: index.get(m.from)!, to: index.get(m.to)! })), cpuMs: snapshot.vms.length * PLAN_CPU_MS_PER_VM, vms: snapshot.vms.length }
    this.cacheKey = key
    return this.cached
  }

  /** A move landed: the next plan sees it, and the VM cools down. */
  moved (vm: string, round: number): void {
    this.cooling.set(vm, round)
    this.worldVersion++
  }

  private snapshotOf (live: readonly number[]): Snapshot {
    const s = this.world.snapshot
    const up = new Set(live.map(h => this.world.hostIds[h]!))
    const vms = s.vms.filter(v => up.has(v.host))
    const known = new Set([...vms.map(v => v.id), ...s.prefixes.map(p => p.id)])
    return { ...s, hosts: s.hosts.filter(h => up.has(h.id)), vms, flows: s.flows.filter(f => known.has(f.src) && known.has(f.dst)) }
  }
}
