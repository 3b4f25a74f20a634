/**
 * The lookahead planner: Algorithm 1's goal (lower the cost by moving VMs)
 * with the search it lacks.
 *
 * 1. Greedy by gain: every movable VM is priced against every DC at once
 *    (O(DCs) per target from its per-DC traffic sums), the best move in the
 *    whole cluster goes first, and only the moved VM's neighbours are
 *    re-priced. Each move lands on a concrete host with room.
 * 2. Ejection chains: when the best target DC is full (what stops Algorithm
 *    1 most often), a VM on a host there is moved out first, to wherever it
 *    costs least, if the two moves together lower the cost.
 * 3. Refinement passes (Fiduccia-Mattheyses style): keep taking the best move
 *    even when it raises the cost, each VM at most once, then keep only the
 *    best prefix. This walks a tightly-talking group across one VM at a
 *    time, which no single improving move can do.
 *
 * Limits hold throughout: pinned VMs stay, a VM moves at most once per plan,
 * moves per plan and per host are capped, every move (or chain, or kept
 * prefix) must gain more than `minGain` per move, and each move is feasible
 * in the order listed, so executing the plan in order never overfills a host.
 */
import { CostModel } from '../cost.ts'
import { MaxHeap } from '../heap.ts'
import { compile, type Instance } from '../instance.ts'
import type { Plan, Snapshot, StopReason } from '../model.ts'
import { Placement } from '../placement.ts'
import { type PlannerConfig, DEFAULT_MAX_MOVES, DEFAULT_MAX_MOVES_PER_HOST, DEFAULT_MIN_GAIN } from './config.ts'
import { MoveRecorder } from './recorder.ts'

export const LOOKAHEAD_PLANNER = 'lookahead'
/** Full-DC targets tried per VM for an ejection chain. */
export const EJECTION_TARGETS = 2
/** Hosts examined in a full target DC (those closest to having room). */
export const EJECTION_HOSTS = 8
/** VMs on one host tried as the one to move out. */
export const EJECTION_VMS = 4
/** Refinement passes at most; each must improve or the search stops. */
export const REFINE_PASSES = 6
/** A refinement pass ends after this many moves without a new best cost. */
export const REFINE_PATIENCE = 64

const EPS = 1e-12

interface Step { vm: number, host: number }
interface Action { gain: number, steps: Step[] }

export function planLookahead (input: Snapshot | Instance, config: PlannerConfig = {}): Plan {
  const inst = 'vmIds' in input ? input : compile(input)
  return new LookaheadSearch(inst, config).run()
}

class LookaheadSearch {
  private readonly inst: Instance
  private readonly state: Placement
  private readonly rec: MoveRecorder
  private readonly maxMoves: number
  private readonly maxPerHost: number
  private readonly minGain: number
  /** 1 once a VM has moved in this plan: it moves at most once. */
  private readonly moved: Uint8Array
  private readonly hostMoves: Int32Array
  /** VMs on each host, kept current, for picking whom to move out. */
  private readonly vmsOn: Array<Set<number>>
  private blocked = false
  private readonly gainBuf: Float64Array

  constructor (inst: Instance, config: PlannerConfig) {
    this.inst = inst
    this.state = new Placement(new CostModel(inst, config))
    this.rec = new MoveRecorder(this.state)
    this.maxMoves = config.maxMoves ?? DEFAULT_MAX_MOVES
    this.maxPerHost = config.maxMovesPerHost ?? DEFAULT_MAX_MOVES_PER_HOST
    this.minGain = config.minGain ?? DEFAULT_MIN_GAIN
    this.moved = new Uint8Array(inst.nVm)
    this.hostMoves = new Int32Array(inst.nHost)
    this.vmsOn = Array.from({ length: inst.nHost }, () => new Set<number>())
    this.state.hostOf.forEach((h, vm) => this.vmsOn[h]!.add(vm))
    this.gainBuf = new Float64Array(inst.nDc)
  }

  run (): Plan {
    if (this.inst.totalBps === 0) return this.rec.plan(LOOKAHEAD_PLANNER, 'no-traffic')
    for (let pass = 0; pass <= REFINE_PASSES; pass++) {
      this.greedy()
      if (this.budget() === 0 || pass === REFINE_PASSES || !this.refine()) break
    }
    let stopped: StopReason = 'converged'
    if (this.budget() === 0) stopped = 'move-limit'
    else if (this.blocked) stopped = 'no-capacity'
    return this.rec.plan(LOOKAHEAD_PLANNER, stopped)
  }

  private budget (): number {
    return Math.max(0, this.maxMoves - this.rec.count)
  }

  private movable (vm: number): boolean {
    return this.inst.vmPinned[vm] === 0 && this.moved[vm] === 0 && this.hostMoves[this.state.hostOf[vm]!]! < this.maxPerHost
  }

  /** Gain (cost drop) of moving `vm` to each DC, ignoring capacity; own DC = -Infinity. */
  private gains (vm: number): Float64Array {
    const g = this.gainBuf
    const home = this.state.dcOf(vm)
    for (let d = 0; d < this.inst.nDc; d++) g[d] = d === home ? -Infinity : -this.state.delta(vm, d)
    return g
  }

  private bestGain (vm: number): number {
    let best = -Infinity
    for (const x of this.gains(vm)) if (x > best) best = x
    return best
  }

  /** The host in `dc` that takes `vm` with most memory left, within move limits; -1 if none. */
  private hostFor (vm: number, dc: number, exclude = -1): number {
    const s = this.state
    let best = -1; let bestFree = -Infinity
    for (const h of this.inst.dcHosts[dc]!) {
      if (h === exclude || h === s.hostOf[vm] || this.hostMoves[h]! >= this.maxPerHost || !s.fits(vm, h)) continue
      const free = this.inst.hostMemory[h]! - s.memUsed[h]!
      if (free > bestFree) { best = h; bestFree = free }
    }
    return best
  }

  /** DCs by gain, best first (ties: lower index). */
  private ranked (gains: Float64Array): number[] {
    const order: number[] = []
    for (let d = 0; d < gains.length; d++) if (gains[d]! > -Infinity) order.push(d)
    return order.sort((a, b) => gains[b]! - gains[a]! || a - b)
  }

  /** Best feasible single move, whatever its sign; undefined if nowhere has room. */
  private bestSingle (vm: number, exclude = -1): Action | undefined {
    const gains = this.gains(vm)
    for (const d of this.ranked(gains)) {
      const host = this.hostFor(vm, d, exclude)
      if (host >= 0) return { gain: gains[d]!, steps: [{ vm, host }] }
    }
    return undefined
  }

  /** Best improving action for `vm`: a single move, or a chain that first makes room. */
  private bestAction (vm: number): Action | undefined {
    const gains = Float64Array.from(this.gains(vm))
    let best: Action | undefined
    let tried = 0
    for (const d of this.ranked(gains)) {
      if (gains[d]! <= this.minGain) break
      const host = this.hostFor(vm, d)
      if (host >= 0) {
        if (best === undefined || gains[d]! > best.gain) best = { gain: gains[d]!, steps: [{ vm, host }] }
        break
      }
      this.blocked = true
      if (tried++ < EJECTION_TARGETS && this.budget() >= 2) {
        const chain = this.eject(vm, d)
        if (chain !== undefined && (best === undefined || chain.gain > best.gain)) best = chain
      }
    }
    return best
  }

  /** Makes room for `vm` in full DC `dc` by first moving one VM out of a host there. */
  private eject (vm: number, dc: number): Action | undefined {
    const s = this.state
    const { hostMemory, hostVcpus, vmMemory, vmVcpus, dcHosts } = this.inst
    const hosts = [...dcHosts[dc]!]
      .filter(h => this.hostMoves[h]! + 2 <= this.maxPerHost)
      .sort((a, b) => (hostMemory[b]! - s.memUsed[b]!) - (hostMemory[a]! - s.memUsed[a]!) || a - b)
      .slice(0, EJECTION_HOSTS)
    let best: Action | undefined
    for (const h of hosts) {
      const needMem = s.memUsed[h]! + vmMemory[vm]! - hostMemory[h]!
      const needCpu = s.cpuUsed[h]! + vmVcpus[vm]! - hostVcpus[h]!
      const outs: Array<{ v: number, first: Action }> = []
      for (const v of this.vmsOn[h]!) {
        if (v === vm || !this.movable(v) || vmMemory[v]! < needMem || vmVcpus[v]! < needCpu) continue
        const first = this.bestSingle(v, h)
        if (first !== undefined) outs.push({ v, first })
      }
      outs.sort((a, b) => b.first.gain - a.first.gain || a.v - b.v)
      for (const { first } of outs.slice(0, EJECTION_VMS)) {
        const step = first.steps[0]!
        s.apply(step.vm, step.host)
        const then = -s.delta(vm, dc)
        s.apply(step.vm, h)
        const gain = first.gain + then
        if (gain > 2 * this.minGain && (best === undefined || gain > best.gain)) {
          best = { gain, steps: [step, { vm, host: h }] }
        }
      }
    }
    return best
  }

  private commit (action: Action): void {
    for (const { vm, host } of action.steps) {
      const from = this.state.hostOf[vm]!
      this.rec.apply(vm, host)
      this.moved[vm] = 1
      this.hostMoves[from]!++
      this.hostMoves[host]!++
      this.vmsOn[from]!.delete(vm)
      this.vmsOn[host]!.add(vm)
    }
  }

  private uncommit (n: number): void {
    const tail = this.rec.moves.slice(this.rec.count - n)
    this.rec.rollback(n)
    const hostIndex = new Map<string, number>()
    const vmIndex = new Map<string, number>()
    for (const m of tail) {
      const vm = this.vmIndex(m.vm, vmIndex)
      const from = this.hostIndex(m.from, hostIndex)
      const to = this.hostIndex(m.to, hostIndex)
      this.moved[vm] = 0
      this.hostMoves[from]!--
      this.hostMoves[to]!--
      this.vmsOn[to]!.delete(vm)
      this.vmsOn[from]!.add(vm)
    }
  }

  private vmIndex (id: string, cache: Map<string, number>): number {
    return cache.get(id) ?? this.lookup(id, cache, this.inst.vmIds)
  }

  private hostIndex (id: string, cache: Map<string, number>): number {
    return cache.get(id) ?? this.lookup(id, cache, this.inst.hostIds)
  }

  private lookup (id: string, cache: Map<string, number>, ids: string[]): number {
    if (cache.size === 0) ids.forEach((x, i) => cache.set(x, i))
    return cache.get(id)!
  }

  /** Neighbours of the VMs just moved, to re-price. */
  private touched (steps: Step[]): number[] {
    const { adjStart, adjNode, nVm } = this.inst
    const out = new Set<number>()
    for (const { vm } of steps) {
      for (let k = adjStart[vm]!; k < adjStart[vm + 1]!; k++) if (adjNode[k]! < nVm) out.add(adjNode[k]!)
    }
    return [...out].sort((a, b) => a - b)
  }

  /** Phase 1 and 2: best improving action first, until none is left. */
  private greedy (): void {
    const heap = new MaxHeap()
    for (let vm = 0; vm < this.inst.nVm; vm++) {
      if (!this.movable(vm)) continue
      const g = this.bestGain(vm)
      if (g > this.minGain) heap.push(g, vm)
    }
    while (heap.size > 0 && this.budget() > 0) {
      const [key, vm] = heap.pop()!
      if (!this.movable(vm)) continue
      const upper = this.bestGain(vm)
      if (upper < key - EPS) { if (upper > this.minGain) heap.push(upper, vm); continue }
      const action = this.bestAction(vm)
      if (action === undefined || action.steps.length > this.budget()) continue
      if (action.gain < heap.peekKey() - EPS && action.gain < key - EPS) { heap.push(action.gain, vm); continue }
      this.commit(action)
      for (const v of this.touched(action.steps)) {
        if (!this.movable(v)) continue
        const g = this.bestGain(v)
        if (g > this.minGain) heap.push(g, v)
      }
    }
  }

  /** Phase 3: one refinement pass; true if it kept an improvement. */
  private refine (): boolean {
    const start = this.rec.count
    const startCost = this.state.cost
    const heap = new MaxHeap()
    for (let vm = 0; vm < this.inst.nVm; vm++) {
      if (!this.movable(vm)) continue
      const g = this.bestGain(vm)
      if (g > -Infinity) heap.push(g, vm)
    }
    const patience = Math.min(REFINE_PATIENCE, heap.size)
    let bestCost = startCost; let bestLen = 0; let since = 0
    while (heap.size > 0 && this.budget() > 0 && since < patience) {
      const [key, vm] = heap.pop()!
      if (!this.movable(vm)) continue
      const single = this.bestSingle(vm)
      if (single === undefined) continue
      if (single.gain < key - EPS) { heap.push(single.gain, vm); continue }
      this.commit(single)
      for (const v of this.touched(single.steps)) if (this.movable(v)) heap.push(this.bestGain(v), v)
      if (this.state.cost < bestCost - EPS) { bestCost = this.state.cost; bestLen = this.rec.count - start; since = 0 } else since++
    }
    this.uncommit(this.rec.count - start - bestLen)
    if (bestLen > 0 && startCost - bestCost <= this.minGain * bestLen) { this.uncommit(bestLen); return false }
    return bestLen > 0
  }
}
