/**
 * A plan safe to stop anywhere. Agents carry out a few moves a round and
 * plan again, so a plan's prefix is what the WAN actually sees; a search's
 * own order (the order it found moves in, made executable) often passes
 * through placements costlier than the start. Here the same moves are put
 * in an order in which every prefix costs at most the start and every step
 * lowers the cost:
 *
 * 1. Best single move first: of the moves that can run now (the VM is
 *    still where the plan found it, its target has room), the one that
 *    lowers the cost most. Gains are kept in a heap and re-priced lazily:
 *    the top is priced again before it is taken.
 * 2. When no single move lowers the cost, one group: the rest in the
 *    plan's own order, up to the first point below the cost the group
 *    started from, never above the plan's start on the way. An
 *    application crossing a WAN link one VM at a time gains only at its
 *    end; it becomes one step.
 * 3. What neither places is dropped: from here, the rest in the plan's
 *    order never gets below the cost already reached.
 *
 * The result never ends costlier than the plan unless the plan itself
 * went above its start on the way (then the safe order wins even if it
 * ends a little higher).
 */
import type { CostModel } from '../cost.ts'
import { MaxHeap } from '../heap.ts'
import type { Plan } from '../model.ts'
import { Placement } from '../placement.ts'
import { MoveRecorder } from './recorder.ts'

/** Passes of step 1 between groups: each re-prices every move left (a bound; the benches' instances need a handful). */
const MAX_PASSES = 64
/** Moves in one group at most: a group is carried out over rounds of a few moves, and a walk prices every move left at each step. */
const MAX_GROUP = 64

/** A move by index into the instance: `vm` from host `from` to host `to`. */
export interface IndexedMove { vm: number, from: number, to: number }

/** A plan safe to stop anywhere and the steps it is made of: single moves, and groups that only gain whole. */
export interface Ordered {
  plan: Plan
  /** The plan's moves as steps, in order; undefined when the plan could not be reordered (it names unknown VMs or hosts, or moves a VM twice). */
  steps?: IndexedMove[][]
}

/** True when every prefix of `plan` costs at most its start (within rounding). */
export function stopsSafely (plan: Plan): boolean {
  const tol = tolerance(plan.initialCost)
  return plan.moves.every(m => m.cost <= plan.initialCost + tol)
}

/** `plan`'s moves in an order safe to stop anywhere (see above); `model` is the one the plan was made with, from the instance's placement. */
export function anytimeOrder (model: CostModel, plan: Plan): Plan {
  return anytimeSteps(model, plan).plan
}

/**
 * `anytimeOrder`, with the steps the order is made of. With `enough`, the
 * order stops once that many moves are placed: a round that takes 5 moves
 * of a 74,000-move plan needs only its head (0.9 s saved at 100k VMs).
 */
export function anytimeSteps (model: CostModel, plan: Plan, enough = Infinity): Ordered {
  const moves = indexed(model, plan)
  if (moves === undefined) return { plan }
  const singles = { plan, steps: moves.map(m => [m]) }
  if (moves.length < 2) return singles
  const order = new Reorder(model, moves, enough)
  for (let pass = 0; order.left > 0 && !order.full && pass < MAX_PASSES; pass++) {
    if (order.greedyPass()) continue
    if (!order.group()) break
  }
  const safe = order.plan(plan)
  // The plan was already safe and ends lower: its own order stays.
  if (!order.full && stopsSafely(plan) && plan.finalCost < safe.finalCost - tolerance(plan.initialCost)) return singles
  return { plan: safe, steps: order.steps.map(step => step.map(i => moves[i]!)) }
}

class Reorder {
  /** Moves not taken yet. */
  left: number
  /** The moves taken, as steps (indices into `moves`): one move, or a group. */
  readonly steps: number[][] = []
  /** Moves placed after which the order stops. */
  private readonly enough: number

  /** Whether `enough` moves are placed. */
  get full (): boolean {
    return this.moves.length - this.left >= this.enough
  }
  private readonly rec: MoveRecorder
  private readonly moves: IndexedMove[]
  private readonly state: Placement
  private readonly hostDc: Int32Array
  private readonly done: Uint8Array
  private readonly start: number
  private readonly tol: number

  constructor (model: CostModel, moves: IndexedMove[], enough: number) {
    this.enough = enough
    this.moves = moves
    this.state = new Placement(model)
    this.rec = new MoveRecorder(this.state)
    this.hostDc = model.instance.hostDc
    this.done = new Uint8Array(moves.length)
    this.left = moves.length
    this.start = this.state.cost
    this.tol = tolerance(this.start)
  }

  /** The moves taken, as a plan with its final cost evaluated afresh. */
  plan (original: Plan): Plan {
    return this.rec.exactPlan(original.planner, original.stopped)
  }

  /** What move `i` lowers the cost by now; -Infinity when it cannot run now. */
  private gain (i: number): number {
    const m = this.moves[i]!
    if (this.state.hostOf[m.vm] !== m.from || !this.state.fits(m.vm, m.to)) return -Infinity
    return -this.state.delta(m.vm, this.hostDc[m.to]!)
  }

  private take (i: number): void {
    const m = this.moves[i]!
    this.rec.apply(m.vm, m.to)
    this.done[i] = 1
    this.left--
  }

  /** Step 1: takes improving moves, best first, until none is left; true when it took any. */
  greedyPass (): boolean {
    const heap = new MaxHeap()
    for (let i = 0; i < this.moves.length; i++) if (this.done[i] === 0) heap.push(this.gain(i), i)
    let took = false
    for (let top = heap.pop(); top !== undefined && !this.full; top = heap.pop()) {
      const i = top[1]
      const g = this.gain(i)
      if (!(g > this.tol)) continue
      // Priced lower than when pushed: back in line unless it still leads.
      if (g < heap.peekKey()) { heap.push(g, i); continue }
      this.take(i)
      this.steps.push([i])
      took = true
    }
    return took
  }

  /**
   * Step 2: one group that ends below the cost it started from and never
   * goes above the plan's start: walked best move first (the least rise
   * while nothing gains), else in the plan's own order. False, with nothing
   * applied, when neither finds one.
   */
  group (): boolean {
    return this.walk(() => this.bestNext()) || this.walk(() => this.nextInOrder())
  }

  private walk (next: () => number): boolean {
    const from = this.state.cost
    const taken: number[] = []
    for (let steps = 0; steps < MAX_GROUP; steps++) {
      const i = next()
      if (i < 0) break
      this.take(i)
      taken.push(i)
      if (this.state.cost < from - this.tol) { this.steps.push(taken); return true }
    }
    this.rec.rollback(taken.length)
    for (const i of taken) this.done[i] = 0
    this.left += taken.length
    return false
  }

  /** The move left that gains most (or rises least) without going above the start; -1 if none. */
  private bestNext (): number {
    let best = -1; let bestGain = -Infinity
    const room = this.start + this.tol - this.state.cost
    for (let i = 0; i < this.moves.length; i++) {
      if (this.done[i] === 1) continue
      const g = this.gain(i)
      if (g > bestGain && -g <= room) { best = i; bestGain = g }
    }
    return best
  }

  /** The first move left, in the plan's order, that can run now without going above the start; -1 if none. */
  private nextInOrder (): number {
    const room = this.start + this.tol - this.state.cost
    for (let i = 0; i < this.moves.length; i++) {
      if (this.done[i] === 0) {
        const g = this.gain(i)
        if (Number.isFinite(g) && -g <= room) return i
      }
    }
    return -1
  }
}

/** The plan's moves as indices; undefined when one names something unknown or a VM moves twice (no reordering then). */
function indexed (model: CostModel, plan: Plan): IndexedMove[] | undefined {
  const inst = model.instance
  const vmIndex = new Map(inst.vmIds.map((id, i) => [id, i]))
  const hostIndex = new Map(inst.hostIds.map((id, i) => [id, i]))
  const seen = new Set<number>()
  const out: IndexedMove[] = []
  for (const m of plan.moves) {
    const vm = vmIndex.get(m.vm); const from = hostIndex.get(m.from); const to = hostIndex.get(m.to)
    if (vm === undefined || from === undefined || to === undefined || seen.has(vm) || inst.vmHost[vm] !== from) return undefined
    seen.add(vm)
    out.push({ vm, from, to })
  }
  return out
}

/** Rounding room for cost comparisons: costs are sums kept by deltas. */
function tolerance (cost: number): number {
  return 1e-9 * Math.max(1, Math.abs(cost))
}
