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
 *    end; it becomes one step. Under a round's limits (StepLimits) a group
 *    may pass above the start on its way, if it fits the round: an
 *    exchange through full hosts, whose first move costs more than the
 *    start, is then one step a round carries out whole (on bench:optimum's
 *    30 instances played round after round, the agents' final cost went
 *    from 2.98 to 2.17 times the unlimited plan's, geomean).
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

/**
 * A round's limits, which the steps must fit: with them a group may pass
 * above the start on its way (an exchange through full hosts: its first
 * move costs more than the start), as long as it ends lower and holds at
 * most `maxMoves` moves touching each host at most `maxPerHost` times, so
 * a round carries it out whole.
 */
export interface StepLimits {
  maxMoves: number
  maxPerHost: number
}

/** A move by index into the instance: `vm` from host `from` to host `to`. */
export interface IndexedMove { vm: number, from: number, to: number }

/** A plan safe to stop anywhere and the steps it is made of: single moves, and groups that only gain whole. */
export interface Ordered {
  plan: Plan
  /** The plan's moves as steps, in order; undefined when the plan could not be reordered (it names unknown VMs or hosts, or moves a VM twice). */
  steps?: IndexedMove[][]
}

/** True when `plan` costs at most its start after every step (every move, without steps), within rounding. */
export function stopsSafely (plan: Plan): boolean {
  const tol = tolerance(plan.initialCost)
  return stepEnds(plan).every(i => plan.moves[i]!.cost <= plan.initialCost + tol)
}

/** The index of each step's last move (every move's, when the plan has no steps). */
export function stepEnds (plan: Plan): number[] {
  if (plan.steps === undefined) return plan.moves.map((_, i) => i)
  const ends: number[] = []
  let at = -1
  for (const n of plan.steps) { at += n; ends.push(at) }
  return ends
}

/** `plan`'s moves in an order safe to stop anywhere (see above); `model` is the one the plan was made with, from the instance's placement. */
export function anytimeOrder (model: CostModel, plan: Plan, limits?: StepLimits): Plan {
  return anytimeSteps(model, plan, Infinity, limits).plan
}

/**
 * `anytimeOrder`, with the steps the order is made of. With `enough`, the
 * order stops once that many moves are placed: a round that takes 5 moves
 * of a 74,000-move plan needs only its head (0.9 s saved at 100k VMs).
 * With `limits` (a round's), groups may rise above the start on their way
 * but fit the round (StepLimits).
 */
export function anytimeSteps (model: CostModel, plan: Plan, enough = Infinity, limits?: StepLimits): Ordered {
  const moves = indexed(model, plan)
  if (moves === undefined) return { plan }
  const singles = { plan, steps: moves.map(m => [m]) }
  if (moves.length < 2) return singles
  const order = new Reorder(model, moves, enough, limits)
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
  private readonly limits: StepLimits | undefined
  /** Moves of the group being walked that touch each host (only with limits). */
  private readonly touches: Int32Array

  constructor (model: CostModel, moves: IndexedMove[], enough: number, limits?: StepLimits) {
    this.enough = enough
    this.limits = limits
    this.touches = new Int32Array(limits === undefined ? 0 : model.instance.nHost)
    this.moves = moves
    this.state = new Placement(model)
    this.rec = new MoveRecorder(this.state)
    this.hostDc = model.instance.hostDc
    this.done = new Uint8Array(moves.length)
    this.left = moves.length
    this.start = this.state.cost
    this.tol = tolerance(this.start)
  }

  /** The moves taken, as a plan with its final cost evaluated afresh (and its steps, where a group holds several moves). */
  plan (original: Plan): Plan {
    const plan = this.rec.exactPlan(original.planner, original.stopped)
    return this.steps.some(s => s.length > 1) ? { ...plan, steps: this.steps.map(s => s.length) } : plan
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
    const most = Math.min(MAX_GROUP, this.limits?.maxMoves ?? Infinity)
    let found = false
    for (let steps = 0; steps < most; steps++) {
      const i = next()
      if (i < 0) break
      this.take(i)
      this.touch(i, 1)
      taken.push(i)
      if (this.state.cost < from - this.tol) { found = true; break }
    }
    for (const i of taken) this.touch(i, -1)
    if (found) { this.steps.push(taken); return true }
    this.rec.rollback(taken.length)
    for (const i of taken) this.done[i] = 0
    this.left += taken.length
    return false
  }

  private touch (i: number, by: number): void {
    if (this.limits === undefined) return
    const m = this.moves[i]!
    this.touches[m.from]! += by
    this.touches[m.to]! += by
  }

  /**
   * How far the group may rise: without limits never above the plan's
   * start; with them anywhere on the way (the group ends lower, and a round
   * carries it out whole).
   */
  private room (): number {
    return this.limits === undefined ? this.start + this.tol - this.state.cost : Infinity
  }

  /** Whether move `i` keeps the group within the round's per-host limit. */
  private fitsGroup (i: number): boolean {
    if (this.limits === undefined) return true
    const m = this.moves[i]!
    return this.touches[m.from]! < this.limits.maxPerHost && this.touches[m.to]! < this.limits.maxPerHost
  }

  /** The move left that gains most (or rises least) within the room; -1 if none. */
  private bestNext (): number {
    let best = -1; let bestGain = -Infinity
    const room = this.room()
    for (let i = 0; i < this.moves.length; i++) {
      if (this.done[i] === 1) continue
      const g = this.gain(i)
      if (g > bestGain && -g <= room && this.fitsGroup(i)) { best = i; bestGain = g }
    }
    return best
  }

  /** The first move left, in the plan's order, that can run now within the room; -1 if none. */
  private nextInOrder (): number {
    const room = this.room()
    for (let i = 0; i < this.moves.length; i++) {
      if (this.done[i] === 0) {
        const g = this.gain(i)
        if (Number.isFinite(g) && -g <= room && this.fitsGroup(i)) return i
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
