/**
 * One lookahead search over placements (steps 1-4 in lookahead.ts): greedy
 * by gain with ejection chains, refinement passes, whole-group steps, and
 * on small instances seeded perturbation rounds. It stands on a
 * SearchState (lookahead-state.ts), which keeps the move limits.
 */
import { communities, groupMembers } from '../communities.ts'
import { MaxHeap } from '../heap.ts'
import type { StopReason } from '../model.ts'
import { Random } from '../random.ts'
import { regroup, REGROUP_MAX_VMS, REGROUP_PASSES } from './lookahead-groups.ts'
import { SearchState } from './lookahead-state.ts'
import type { Step } from './sequence.ts'

/** Full-DC targets tried per VM for an ejection chain. */
export const EJECTION_TARGETS = 2
/** Hosts examined in a full target DC (those closest to having room). */
export const EJECTION_HOSTS = 3
/** VMs on one host tried as the one to move out. */
export const EJECTION_VMS = 2
/** Refinement passes at most; each must improve or the search stops. */
export const REFINE_PASSES = 8
/** A refinement pass ends after this many moves without a new best cost. */
export const REFINE_PATIENCE = 64
/**
 * Perturbation rounds (iterated local search) on small instances: kick a few
 * VMs to random DCs, search again, keep the result if it is better. The work
 * is bounded by ILS_WORK / VMs rounds, so large instances skip it.
 */
export const ILS_WORK = 20000
/** Larger instances skip perturbation: their plans are bounded by moves, not search. */
export const ILS_MAX_VMS = 2000
export const ILS_MAX_ROUNDS = 150
export const ILS_SEED = 0x5eed

const EPS = 1e-12

interface Action { gain: number, steps: Step[] }

export class LookaheadSearch extends SearchState {
  private blocked = false
  stopped: StopReason = 'converged'
  private readonly actionGains = new Float64Array(this.inst.nDc)
  /** DCs already tried, in bestAction and bestSingle (which it calls): nextRanked's marks. */
  private readonly actionTaken = new Uint8Array(this.inst.nDc)
  private readonly singleTaken = new Uint8Array(this.inst.nDc)
  private readonly stamps = new Int32Array(this.inst.nVm)
  private stampClock = 0
  private groups: number[][] | undefined
  /** No move limits, placement rules or DC-load term: a VM's price moves only with its neighbours (gainAfter). */
  private readonly pricesInPlace = this.maxMoves === Infinity && this.maxPerHost === Infinity && this.state.rules === undefined && this.state.model.weights.dcLoad === 0
  /** The perturbation's work (ILS_WORK); a search only played forward (rollout.ts) does less. */
  ilsWork = ILS_WORK

  run (): StopReason {
    if (this.inst.totalBps === 0) return 'no-traffic'
    this.descend()
    // Group steps move many VMs at once, in no feasible order of their own:
    // only the first search, whose result is sequenced, takes them.
    if (!this.lockMoved) for (let i = 0; i < REGROUP_PASSES && this.regroup(); i++) this.descend()
    this.perturb()
    if (this.displaced >= this.maxMoves) return 'move-limit'
    return this.blocked ? 'no-capacity' : 'converged'
  }

  /** Greedy, then refinement passes while they keep improving. */
  private descend (): void {
    for (let pass = 0; pass <= REFINE_PASSES; pass++) {
      this.greedy()
      if (pass === REFINE_PASSES || !this.refine()) break
    }
  }

  /** Step 4, one pass of whole-group steps (lookahead-groups.ts); true if any was kept. */
  private regroup (): boolean {
    if (this.inst.nVm > REGROUP_MAX_VMS) return false
    this.groups ??= groupMembers(communities(this.inst))
    return regroup(this, this.groups)
  }

  /** Iterated local search: random kicks, descend, keep what is better. */
  private perturb (): void {
    const movable = [...this.inst.vmIds.keys()].filter(v => this.movable(v))
    const rounds = Math.min(ILS_MAX_ROUNDS, Math.floor(this.ilsWork / Math.max(1, this.inst.nVm)))
    if (movable.length === 0 || this.inst.nDc < 2 || this.inst.nVm > ILS_MAX_VMS) return
    const rng = new Random(ILS_SEED)
    for (let r = 0; r < rounds; r++) {
      const mark = this.trail.length
      const before = this.state.cost
      const kicks = rng.int(1, Math.min(4, movable.length))
      for (let k = 0; k < kicks; k++) {
        const vm = rng.pick(movable)
        if (!this.movable(vm)) continue
        const host = this.hostFor(vm, rng.int(0, this.inst.nDc - 1))
        if (host >= 0) this.move(vm, host)
      }
      this.descend()
      if (this.state.cost >= before - EPS) this.undoTo(mark)
    }
  }

  /** Best feasible single move, whatever its sign; undefined if nowhere has room. */
  private bestSingle (vm: number, exclude = -1): Action | undefined {
    const gains = this.gains(vm)
    const taken = this.singleTaken.fill(0)
    for (let d = this.nextRanked(gains, taken); d >= 0; d = this.nextRanked(gains, taken)) {
      const host = this.hostFor(vm, d, exclude)
      if (host >= 0) return { gain: gains[d]!, steps: [{ vm, host }] }
    }
    return undefined
  }

  /** Best improving action for `vm`: a single move, or a chain that first makes room. */
  private bestAction (vm: number): Action | undefined {
    const gains = this.actionGains
    gains.set(this.gains(vm))
    let best: Action | undefined
    let tried = 0
    const taken = this.actionTaken.fill(0)
    for (let d = this.nextRanked(gains, taken); d >= 0; d = this.nextRanked(gains, taken)) {
      if (gains[d]! <= this.minGain + EPS) break
      const host = this.hostFor(vm, d)
      if (host >= 0) {
        if (best === undefined || gains[d]! > best.gain) best = { gain: gains[d]!, steps: [{ vm, host }] }
        break
      }
      this.blocked = true
      if (tried++ < EJECTION_TARGETS) {
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
    const hosts = roomiestK(dcHosts[dc]!, h => hostMemory[h]! - s.memUsed[h]!, EJECTION_HOSTS)
    let best: Action | undefined
    for (const h of hosts) {
      const needMem = s.memUsed[h]! + vmMemory[vm]! - hostMemory[h]!
      const needCpu = s.cpuUsed[h]! + vmVcpus[vm]! - hostVcpus[h]!
      // Cheap first cut: the VMs that lose least by leaving this DC.
      const outs: Array<{ v: number, loss: number }> = []
      for (const v of this.vmsOn[h]!) {
        if (v === vm || !this.movable(v) || vmMemory[v]! < needMem || vmVcpus[v]! < needCpu) continue
        const base = v * this.inst.nDc
        outs.push({ v, loss: s.out[base + dc]! + s.in[base + dc]! })
      }
      outs.sort((a, b) => a.loss - b.loss || a.v - b.v)
      for (const { v } of outs.slice(0, EJECTION_VMS)) {
        // Out to the best other DC, or aside to another host in this DC
        // (a LAN move that changes no WAN traffic).
        let first = this.bestSingle(v, h)
        const aside = this.hostFor(v, dc, h)
        if (aside >= 0 && (first === undefined || first.gain < 0)) first = { gain: 0, steps: [{ vm: v, host: aside }] }
        if (first === undefined) continue
        const step = first.steps[0]!
        const gain = first.gain + this.gainAfter(vm, h, dc, step)
        if (gain > 2 * this.minGain + EPS && (best === undefined || gain > best.gain)) {
          best = { gain, steps: [step, { vm, host: h }] }
        }
      }
    }
    return best
  }

  /**
   * The gain of moving `vm` into host `h` of DC `dc` once `aside` has made
   * room there (-Infinity where a move limit or placement rule forbids it).
   * Moving another VM changes `vm`'s price only if the two talk, or through
   * what a move shifts for everyone (the move limits, the rules' counts, the
   * DCs' load); where none of that applies the move is priced without
   * being made and undone (at 100k VMs / 16 DCs, 268,000 trial moves of
   * which 406 were a neighbour's: 1.9 s of a 5.1 s plan were ejections).
   */
  private gainAfter (vm: number, h: number, dc: number, aside: Step): number {
    const s = this.state
    if (this.pricesInPlace && !this.talk(vm, aside.vm)) {
      this.noteTried(aside.vm)
      return -s.delta(vm, dc)
    }
    const mark = this.trail.length
    this.move(aside.vm, aside.host)
    // Room is made by construction; the move limits and placement rules are checked here.
    const then = this.allowed(vm, h) && s.allowed(vm, dc) ? -s.delta(vm, dc) : -Infinity
    this.undoTo(mark)
    return then
  }

  /** Whether `u` and `v` exchange traffic (adjacency is kept both ways). */
  private talk (u: number, v: number): boolean {
    const { adjStart, adjNode } = this.inst
    for (let k = adjStart[u]!; k < adjStart[u + 1]!; k++) if (adjNode[k] === v) return true
    return false
  }

  /** Neighbours of the VMs just moved, to re-price (each once, in adjacency order). */
  private touched (steps: Step[]): number[] {
    const { adjStart, adjNode, nVm } = this.inst
    const stamp = ++this.stampClock
    const out: number[] = []
    for (const { vm } of steps) {
      for (let k = adjStart[vm]!; k < adjStart[vm + 1]!; k++) {
        const v = adjNode[k]!
        if (v < nVm && this.stamps[v] !== stamp) { this.stamps[v] = stamp; out.push(v) }
      }
    }
    return out
  }

  /** Phases 1 and 2: best improving action first, until none is left. */
  private greedy (): void {
    const heap = new MaxHeap()
    for (let vm = 0; vm < this.inst.nVm; vm++) {
      if (!this.movable(vm)) continue
      const g = this.bestGain(vm)
      if (g > this.minGain + EPS) heap.push(g, vm)
    }
    while (heap.size > 0) {
      const [key, vm] = heap.pop()!
      // A VM at home cannot act once the budget is spent (its move, or a chain for it, would exceed it).
      if (!this.movable(vm) || !this.mayLeaveHome(vm)) continue
      const upper = this.bestGain(vm)
      if (upper < key - EPS) { if (upper > this.minGain + EPS) heap.push(upper, vm); continue }
      const action = this.bestAction(vm)
      if (action === undefined) continue
      if (action.gain < heap.peekKey() - EPS && action.gain < key - EPS) { heap.push(action.gain, vm); continue }
      for (const step of action.steps) this.move(step.vm, step.host)
      for (const v of [...action.steps.map(s => s.vm), ...this.touched(action.steps)]) {
        if (!this.movable(v)) continue
        const g = this.bestGain(v)
        if (g > this.minGain + EPS) heap.push(g, v)
      }
    }
  }

  /** Phase 3: one refinement pass; true if it kept an improvement. */
  private refine (): boolean {
    const mark = this.trail.length
    const startCost = this.state.cost
    const inPass = new Uint8Array(this.inst.nVm)
    const heap = new MaxHeap()
    for (let vm = 0; vm < this.inst.nVm; vm++) {
      if (!this.movable(vm)) continue
      const g = this.bestGain(vm)
      if (g > -Infinity) heap.push(g, vm)
    }
    const patience = Math.min(REFINE_PATIENCE, heap.size)
    let bestCost = startCost; let bestMark = mark; let since = 0
    while (heap.size > 0 && since < patience) {
      const [key, vm] = heap.pop()!
      if (inPass[vm] === 1 || !this.movable(vm) || !this.mayLeaveHome(vm)) continue
      const single = this.bestSingle(vm)
      if (single === undefined) continue
      if (single.gain < key - EPS) { heap.push(single.gain, vm); continue }
      this.move(vm, single.steps[0]!.host)
      inPass[vm] = 1
      for (const v of this.touched(single.steps)) if (inPass[v] === 0 && this.movable(v)) heap.push(this.bestGain(v), v)
      if (this.state.cost < bestCost - EPS) { bestCost = this.state.cost; bestMark = this.trail.length; since = 0 } else since++
    }
    this.undoTo(bestMark)
    const kept = bestMark - mark
    if (kept > 0 && startCost - bestCost <= this.minGain * kept) { this.undoTo(mark); return false }
    return kept > 0
  }
}

/** The k hosts with the largest `free` (ties: lower index), best first, in O(hosts x k). */
function roomiestK (hosts: Int32Array, free: (h: number) => number, k: number): number[] {
  const top: number[] = []
  for (const h of hosts) {
    const f = free(h)
    let i = top.length
    while (i > 0 && (free(top[i - 1]!) < f || (free(top[i - 1]!) === f && top[i - 1]! > h))) i--
    if (i < k) { top.splice(i, 0, h); if (top.length > k) top.pop() }
  }
  return top
}
