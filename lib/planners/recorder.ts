/**
 * Applies moves to a placement and writes them down as the plan's moves,
 * with the cost after each and the link each one relieved most.
 */
import type { Move, Plan, StopReason } from '../model.ts'
import type { Placement } from '../placement.ts'
import { evaluate } from '../cost.ts'

export class MoveRecorder {
  readonly moves: Move[] = []
  /** The same moves as indices, for rollback. */
  private readonly undo: Array<{ vm: number, fromHost: number }> = []
  private readonly state: Placement
  readonly initialCost: number
  /** The link loads before the move being recorded (one buffer: a plan at 100k VMs records 75,000 moves). */
  private readonly before: Float64Array

  constructor (state: Placement) {
    this.state = state
    this.initialCost = state.cost
    this.before = new Float64Array(state.linkLoad.length)
  }

  apply (vm: number, host: number): void {
    const s = this.state
    const inst = s.inst
    const fromHost = s.hostOf[vm]!
    const before = this.before
    before.set(s.linkLoad)
    const costBefore = s.cost
    s.apply(vm, host)
    let relieved = -1; let most = 0
    for (let l = 0; l < inst.nLink; l++) {
      const drop = (before[l]! - s.linkLoad[l]!) / inst.linkCapacity[l]!
      if (drop > most) { most = drop; relieved = l }
    }
    const move: Move = {
      vm: inst.vmIds[vm]!,
      from: inst.hostIds[fromHost]!,
      to: inst.hostIds[host]!,
      fromDc: inst.dcIds[inst.hostDc[fromHost]!]!,
      toDc: inst.dcIds[inst.hostDc[host]!]!,
      cost: nonNegative(s.cost),
      gain: costBefore - s.cost
    }
    if (relieved >= 0) move.relieves = inst.linkIds[relieved]!
    this.moves.push(move)
    this.undo.push({ vm, fromHost })
  }

  get count (): number {
    return this.moves.length
  }

  /** Undoes the last `n` recorded moves (in reverse, so capacity holds throughout). */
  rollback (n: number): void {
    for (let i = 0; i < n; i++) {
      this.moves.pop()
      const { vm, fromHost } = this.undo.pop()!
      this.state.apply(vm, fromHost)
    }
  }

  plan (planner: string, stopped: StopReason): Plan {
    return { planner, initialCost: nonNegative(this.initialCost), finalCost: nonNegative(this.state.cost), moves: this.moves, stopped }
  }

  /**
   * The plan with its final cost evaluated afresh: costs kept by deltas
   * drift by rounding over many moves (1e-17 where 0 belongs, when every
   * application ends whole). For plans that are final, not mid-search.
   */
  exactPlan (planner: string, stopped: StopReason): Plan {
    const plan = this.plan(planner, stopped)
    const exact = evaluate(this.state.model, this.state.hostOf).total
    const last = plan.moves.at(-1)
    if (last !== undefined) last.cost = exact
    return { ...plan, finalCost: exact }
  }
}

/** Costs are sums of non-negative terms; incremental updates can leave -1e-17 where 0 belongs. */
function nonNegative (x: number): number {
  return x < 0 && x > -1e-9 ? 0 : x
}
