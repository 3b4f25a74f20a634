/**
 * What a lookahead search (lookahead-search.ts) stands on: its placement,
 * kept with what the move limits need (VMs displaced, migrations per host),
 * an undo trail, the VMs on each host, the hosts of each DC by free memory,
 * and each VM's gain per DC. The search and its whole-group steps
 * (lookahead-groups.ts) change the placement only through move() and
 * undoTo().
 */
import type { CostModel } from '../cost.ts'
import { MaxHeap } from '../heap.ts'
import type { Instance } from '../instance.ts'
import { Placement } from '../placement.ts'
import { type PlannerConfig, DEFAULT_MAX_MOVES, DEFAULT_MAX_MOVES_PER_HOST, DEFAULT_MIN_GAIN } from './config.ts'
import type { Step } from './sequence.ts'

interface Undo { vm: number, from: number, to: number }

export class SearchState {
  readonly state: Placement
  readonly inst: Instance
  protected readonly maxMoves: number
  protected readonly maxPerHost: number
  readonly minGain: number
  /** VMs away from their starting host: each is one migration in the plan. */
  protected displaced = 0
  /** Migrations each host takes part in (in or out), as the plan stands. */
  private readonly touches: Int32Array
  /** When each VM first moved in the search (its priority in the plan). */
  private readonly firstMove: Float64Array
  private clock = 0
  /** The moves made, to undo back to a mark (its length); changed only by move() and undoTo(). */
  readonly trail: Undo[] = []
  /** VMs on each host, kept current, for picking whom to move out. */
  protected readonly vmsOn: Array<Set<number>>
  private readonly gainBuf: Float64Array
  /** Per DC, its hosts by free memory (lazy: stale entries are skipped). */
  private readonly roomy: MaxHeap[]

  /** When set, a VM that has left its starting host may not move again. */
  protected readonly lockMoved: boolean

  /** VMs this search must leave where they are (besides pinned ones). */
  private readonly held: Uint8Array

  constructor (inst: Instance, model: CostModel, config: PlannerConfig, start: Int32Array, lockMoved: boolean, held: Uint8Array) {
    this.inst = inst
    this.lockMoved = lockMoved
    this.held = held
    this.state = new Placement(model, start, false)
    this.maxMoves = config.maxMoves ?? DEFAULT_MAX_MOVES
    this.maxPerHost = config.maxMovesPerHost ?? DEFAULT_MAX_MOVES_PER_HOST
    this.minGain = config.minGain ?? DEFAULT_MIN_GAIN
    this.touches = new Int32Array(inst.nHost)
    this.firstMove = new Float64Array(inst.nVm).fill(Infinity)
    this.vmsOn = Array.from({ length: inst.nHost }, () => new Set<number>())
    this.state.hostOf.forEach((h, vm) => {
      this.vmsOn[h]!.add(vm)
      const origin = inst.vmHost[vm]!
      if (h !== origin) { this.displaced++; this.touches[origin]!++; this.touches[h]!++ }
    })
    this.gainBuf = new Float64Array(inst.nDc)
    this.roomy = Array.from({ length: inst.nDc }, () => new MaxHeap())
    for (let h = 0; h < inst.nHost; h++) this.noteFree(h)
  }

  move (vm: number, host: number): void {
    const origin = this.inst.vmHost[vm]!; const now = this.state.hostOf[vm]!
    this.trail.push({ vm, from: now, to: host })
    if (now !== origin) { this.displaced--; this.touches[origin]!--; this.touches[now]!-- }
    if (host !== origin) { this.displaced++; this.touches[origin]!++; this.touches[host]!++ }
    this.noteTried(vm)
    this.state.apply(vm, host)
    this.noteFree(now)
    this.noteFree(host)
    this.vmsOn[now]!.delete(vm)
    this.vmsOn[host]!.add(vm)
  }

  /**
   * `vm` counts as moved in the plan's order (firstMoved) from now on, as
   * after any move, undone or not: a move priced without being made
   * (lookahead-search.ts' ejection chains) leaves the order as making and
   * undoing it would.
   */
  protected noteTried (vm: number): void {
    if (this.firstMove[vm] === Infinity) this.firstMove[vm] = this.clock++
  }

  /** Undoes moves back to trail length `mark`. */
  undoTo (mark: number): void {
    while (this.trail.length > mark) {
      const { vm, from } = this.trail.pop()!
      this.move(vm, from)
      this.trail.pop()
    }
  }

  /** Whether the plan as it stands breaks a move limit (after a group step, which moves many VMs at once). */
  overLimits (): boolean {
    return this.displaced > this.maxMoves || (this.maxPerHost < Infinity && this.touches.some(t => t > this.maxPerHost))
  }

  movable (vm: number): boolean {
    return this.inst.vmPinned[vm] === 0 && this.held[vm] === 0 && (!this.lockMoved || this.state.hostOf[vm] === this.inst.vmHost[vm])
  }

  /** Whether the move budget lets `vm` be away from its starting host (false once the budget is spent on others). */
  protected mayLeaveHome (vm: number): boolean {
    return this.displaced - (this.state.hostOf[vm] !== this.inst.vmHost[vm] ? 1 : 0) < this.maxMoves
  }

  /** Whether moving `vm` to `host` keeps the plan within its move limits. */
  protected allowed (vm: number, host: number): boolean {
    const origin = this.inst.vmHost[vm]!; const now = this.state.hostOf[vm]!
    const before = now !== origin ? 1 : 0; const after = host !== origin ? 1 : 0
    if (this.displaced - before + after > this.maxMoves) return false
    if (this.maxPerHost === Infinity) return true
    const t = (h: number): number => this.touches[h]! - (before === 1 && (h === origin || h === now) ? 1 : 0) + (after === 1 && (h === origin || h === host) ? 1 : 0)
    return t(origin) <= this.maxPerHost && t(host) <= this.maxPerHost && t(now) <= this.maxPerHost
  }

  /** Moved VMs, in the order they first moved. */
  firstMoved (): number[] {
    const vms: number[] = []
    this.firstMove.forEach((t, v) => { if (t < Infinity) vms.push(v) })
    return vms.sort((a, b) => this.firstMove[a]! - this.firstMove[b]!)
  }

  /** The moves this search made, in order (undone ones excluded). */
  trailSteps (): Step[] {
    return this.trail.map(u => ({ vm: u.vm, host: u.to }))
  }

  /** Gain (cost drop) of moving `vm` to each DC, ignoring capacity; own DC = -Infinity. */
  protected gains (vm: number): Float64Array {
    const g = this.state.deltas(vm, this.gainBuf)
    const home = this.state.dcOf(vm)
    for (let d = 0; d < this.inst.nDc; d++) g[d] = d === home ? -Infinity : -g[d]!
    return g
  }

  protected bestGain (vm: number): number {
    let best = -Infinity
    for (const x of this.gains(vm)) if (x > best) best = x
    return best
  }

  /**
   * The next DC by gain, best first (ties: lower index), of those not yet
   * `taken` and with a finite gain; marks it taken. -1 when none is left.
   * Callers mostly stop at the first DC, so this selects rather than sorts.
   */
  protected nextRanked (gains: Float64Array, taken: Uint8Array): number {
    let best = -1
    for (let d = 0; d < gains.length; d++) {
      if (taken[d] === 1 || gains[d] === -Infinity) continue
      if (best < 0 || gains[d]! > gains[best]!) best = d
    }
    if (best >= 0) taken[best] = 1
    return best
  }

  /** The host in `dc` that takes `vm` with most memory left, within limits; -1 if none. */
  protected hostFor (vm: number, dc: number, exclude = -1): number {
    const s = this.state
    const usable = (h: number): boolean => h !== exclude && h !== s.hostOf[vm] && s.fits(vm, h) && this.allowed(vm, h)
    // Returning home is free of migration: prefer it.
    const home = this.inst.vmHost[vm]!
    if (this.inst.hostDc[home] === dc && usable(home)) return home
    // At the move budget only home is allowed: say so before scanning every host (at 100k VMs the scans took minutes).
    if (!this.mayLeaveHome(vm)) return -1
    // Usually the roomiest host takes it; scan only when it does not.
    const top = this.roomiest(dc)
    if (top < 0 || this.inst.hostMemory[top]! - s.memUsed[top]! < this.inst.vmMemory[vm]!) return -1
    if (usable(top)) return top
    let best = -1; let bestFree = -Infinity
    for (const h of this.inst.dcHosts[dc]!) {
      if (!usable(h)) continue
      const free = this.inst.hostMemory[h]! - s.memUsed[h]!
      if (free > bestFree) { best = h; bestFree = free }
    }
    return best
  }

  private noteFree (host: number): void {
    this.roomy[this.inst.hostDc[host]!]!.push(this.inst.hostMemory[host]! - this.state.memUsed[host]!, host)
  }

  /** The host of `dc` with the most free memory (ties: lower index); -1 if none. */
  private roomiest (dc: number): number {
    const heap = this.roomy[dc]!
    for (let top = heap.peek(); top !== undefined; top = heap.peek()) {
      const [free, h] = top
      if (free === this.inst.hostMemory[h]! - this.state.memUsed[h]!) return h
      heap.pop()
    }
    return -1
  }
}
