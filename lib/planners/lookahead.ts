/**
 * The lookahead planner: Algorithm 1's goal (lower the cost by moving VMs)
 * with the search it lacks. It searches over placements (a VM may change its
 * mind during the search), then `sequenceMoves` turns the placement it found
 * into migrations that run one by one, each VM once, never overfilling a host.
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
 * 4. Whole groups: applications found from the traffic (lib/communities.ts)
 *    are moved to another DC, or exchanged with a group there, as one step;
 *    this chooses which DC each application lives in, together.
 * 5. Small instances without move limits: annealed placements (anneal.ts,
 *    group-assign.ts) carried out one move at a time, against steps 1-4's;
 *    the lower executable plan wins.
 *
 * Limits hold throughout: pinned VMs stay, a VM moves at most once per plan,
 * moves per plan and per host are capped, every move (or chain, or kept
 * prefix) must gain more than `minGain` per move, and each move is feasible
 * in the order listed, so executing the plan in order never overfills a host.
 */
import { CostModel, evaluate } from '../cost.ts'
import { MaxHeap } from '../heap.ts'
import { compile, type Instance } from '../instance.ts'
import type { Plan, Snapshot, StopReason } from '../model.ts'
import { Placement } from '../placement.ts'
import { type PlannerConfig, DEFAULT_MAX_MOVES, DEFAULT_MAX_MOVES_PER_HOST, DEFAULT_MIN_GAIN } from './config.ts'
import { communities, groupMembers } from '../communities.ts'
import { Random } from '../random.ts'
import { MoveRecorder } from './recorder.ts'
import { carryOut } from './sequence.ts'
import { planAnnealed } from './annealed.ts'
import { polishReachable } from './polish.ts'

export const LOOKAHEAD_PLANNER = 'lookahead'
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
/** Passes of whole-group moves and exchanges (see regroup()). */
export const REGROUP_PASSES = 4
/** Whole-group steps are tried on instances up to this many VMs: they cost groups x DCs x hosts per pass. */
export const REGROUP_MAX_VMS = 5000
/** Group exchanges are tried on instances up to this many VMs (they cost groups^2). */
export const EXCHANGE_MAX_VMS = 2000
/** Exchange partners tried per group and target DC. */
export const EXCHANGE_PARTNERS = 6
/** Searches per plan: each holds in place the VMs the last one could not move one at a time. */
export const SEQUENCE_ATTEMPTS = 3
/** Larger instances search once (then repair): a search there is seconds, and few moves drop. */
export const SEQUENCE_ATTEMPTS_MAX_VMS = 20_000
/** Annealing (annealed.ts) runs on instances up to this many VMs, without move limits. */
export const ANNEAL_MAX_VMS = 400
/** The end state is polished (polish.ts) on instances up to this many VMs... */
export const POLISH_MAX_VMS = 60
/** ...with at most this many order searches, of this much work each. */
export const POLISH_CHECKS = 150
export const POLISH_SEARCH_WORK = 50_000

const EPS = 1e-12

interface Step { vm: number, host: number }
interface Undo { vm: number, from: number, to: number }
interface Action { gain: number, steps: Step[] }

export function planLookahead (input: Snapshot | Instance, config: PlannerConfig = {}): Plan {
  const inst = 'vmIds' in input ? input : compile(input)
  const model = new CostModel(inst, config)
  const searches = inst.nVm <= SEQUENCE_ATTEMPTS_MAX_VMS ? SEQUENCE_ATTEMPTS : 1
  let best = carry(inst, model, config, searches, held => {
    const search = new LookaheadSearch(inst, model, config, inst.vmHost, false, held)
    const stopped = search.run()
    return { hostOf: search.state.hostOf, priority: search.firstMoved(), stopped }
  })
  // Small instances without move limits: annealing over placements, which
  // crosses the ridges that stop the greedy search (see annealed.ts).
  if (annealable(inst, config)) {
    const annealed = planAnnealed(model, {
      repair: start => {
        const repair = new LookaheadSearch(inst, model, config, start, true, new Uint8Array(inst.nVm))
        const stopped = repair.run()
        return { steps: repair.trailSteps(), stopped }
      },
      replay: (steps, stopped) => replay(model, steps, stopped)
    })
    if (annealed.finalCost < best.finalCost - EPS && acceptable(annealed, config)) best = annealed
    if (inst.nVm <= POLISH_MAX_VMS) {
      const polished = polish(inst, model, best)
      if (polished !== undefined && polished.finalCost < best.finalCost - EPS && acceptable(polished, config)) best = polished
    }
  }
  return best
}

/** The plan's end state improved by changes that still leave an order that runs (polish.ts); undefined if none. */
function polish (inst: Instance, model: CostModel, plan: Plan): Plan | undefined {
  const hostIndex = new Map(inst.hostIds.map((id, i) => [id, i]))
  const vmIndex = new Map(inst.vmIds.map((id, i) => [id, i]))
  const end = Int32Array.from(inst.vmHost)
  for (const m of plan.moves) end[vmIndex.get(m.vm)!] = hostIndex.get(m.to)!
  const steps = polishReachable(model, end, { movable: new Uint8Array(inst.nVm).fill(1), checks: POLISH_CHECKS, budget: POLISH_SEARCH_WORK })
  return steps === undefined ? undefined : replay(model, steps, plan.stopped)
}

interface Target {
  hostOf: Int32Array
  priority: number[]
  stopped: StopReason
}

/**
 * A search's placement carried out one move at a time. Moves that cannot
 * run that way (swaps between full hosts) are dropped; the search runs
 * again with those VMs held in place (up to `searches` times), so it can
 * find an equally good placement that can be carried out. What is still
 * dropped is repaired: from the placement carried out, only VMs that have
 * not moved move, one at a time. The best executable plan wins.
 */
function carry (inst: Instance, model: CostModel, config: PlannerConfig, searches: number, search: (held: Uint8Array) => Target): Plan {
  let held = new Uint8Array(inst.nVm)
  let best: Plan | undefined
  for (let attempt = 0; attempt < searches; attempt++) {
    const target = search(held)
    const carried = new Placement(model)
    const { steps, dropped } = carryOut(carried, target.hostOf, target.priority)
    let plan: Plan
    if (dropped.length === 0) {
      plan = replay(model, steps, target.stopped)
    } else {
      const repair = new LookaheadSearch(inst, model, config, carried.hostOf, true, new Uint8Array(inst.nVm))
      const repaired = repair.run()
      plan = replay(model, [...steps, ...repair.trailSteps()], repaired)
    }
    if (best === undefined || plan.finalCost < best.finalCost - EPS) best = plan
    if (dropped.length === 0) break
    held = Uint8Array.from(held)
    for (const v of dropped) held[v] = 1
  }
  return best!
}

/** Annealing only runs where it is cheap and no limit shapes the plan. */
function annealable (inst: Instance, config: PlannerConfig): boolean {
  return inst.nVm <= ANNEAL_MAX_VMS && inst.nDc >= 2 && inst.totalBps > 0 &&
    (config.maxMoves ?? DEFAULT_MAX_MOVES) === Infinity && (config.maxMovesPerHost ?? DEFAULT_MAX_MOVES_PER_HOST) === Infinity
}

/** minGain still holds on average per move. */
function acceptable (plan: Plan, config: PlannerConfig): boolean {
  const minGain = config.minGain ?? DEFAULT_MIN_GAIN
  return plan.moves.length === 0 || plan.initialCost - plan.finalCost > minGain * plan.moves.length
}

/** Replays steps on a fresh placement: the plan's costs are those of carrying it out in order. */
function replay (model: CostModel, steps: Step[], stopped: StopReason): Plan {
  const state = new Placement(model)
  const rec = new MoveRecorder(state)
  for (const step of steps) rec.apply(step.vm, step.host)
  const plan = rec.plan(LOOKAHEAD_PLANNER, stopped)
  // Costs kept by deltas drift by rounding over many moves (1e-17 where 0
  // belongs, when every application ends whole): state the exact final cost.
  const exact = evaluate(model, state.hostOf).total
  const last = plan.moves.at(-1)
  if (last !== undefined) last.cost = exact
  return { ...plan, finalCost: exact }
}

class LookaheadSearch {
  readonly state: Placement
  private readonly inst: Instance
  private readonly maxMoves: number
  private readonly maxPerHost: number
  private readonly minGain: number
  /** VMs away from their starting host: each is one migration in the plan. */
  private displaced = 0
  /** Migrations each host takes part in (in or out), as the plan stands. */
  private readonly touches: Int32Array
  /** When each VM first moved in the search (its priority in the plan). */
  private readonly firstMove: Float64Array
  private clock = 0
  private readonly trail: Undo[] = []
  /** VMs on each host, kept current, for picking whom to move out. */
  private readonly vmsOn: Array<Set<number>>
  private blocked = false
  stopped: StopReason = 'converged'
  private readonly gainBuf: Float64Array
  private readonly actionGains: Float64Array
  private readonly stamps: Int32Array
  private stampClock = 0
  private groups: number[][] | undefined
  /** Per DC, its hosts by free memory (lazy: stale entries are skipped). */
  private readonly roomy: MaxHeap[]

  /** When set, a VM that has left its starting host may not move again. */
  private readonly lockMoved: boolean

  /** VMs this search must leave where they are (besides pinned ones). */
  private readonly held: Uint8Array

  constructor (inst: Instance, model: CostModel, config: PlannerConfig, start: Int32Array, lockMoved: boolean, held: Uint8Array) {
    this.inst = inst
    this.lockMoved = lockMoved
    this.held = held
    this.state = new Placement(model, start)
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
    this.actionGains = new Float64Array(inst.nDc)
    this.stamps = new Int32Array(inst.nVm)
    this.roomy = Array.from({ length: inst.nDc }, () => new MaxHeap())
    for (let h = 0; h < inst.nHost; h++) this.noteFree(h)
  }

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

  /**
   * Moves `moves` (VM -> DC) as one step: hosts are chosen first-fit
   * decreasing over the room each target host will have once the movers
   * have left, so a set that only fits together (an exchange between full
   * DCs) is placed too. False, with nothing changed, when it does not fit or
   * breaks a move limit.
   */
  private relocate (moves: Array<[number, number]>): boolean {
    const { hostMemory, hostVcpus, vmMemory, vmVcpus, dcHosts } = this.inst
    const s = this.state
    const movers = moves.filter(([vm, dc]) => s.dcOf(vm) !== dc && this.movable(vm))
    if (movers.length === 0) return false
    const freeMem = new Map<number, number>(); const freeCpu = new Map<number, number>()
    const free = (h: number): void => {
      if (!freeMem.has(h)) { freeMem.set(h, hostMemory[h]! - s.memUsed[h]!); freeCpu.set(h, hostVcpus[h]! - s.cpuUsed[h]!) }
    }
    for (const [vm] of movers) {
      const h = s.hostOf[vm]!
      free(h)
      freeMem.set(h, freeMem.get(h)! + vmMemory[vm]!); freeCpu.set(h, freeCpu.get(h)! + vmVcpus[vm]!)
    }
    const order = [...movers].sort((a, b) => vmMemory[b[0]]! - vmMemory[a[0]]! || a[0] - b[0])
    const placed: Array<[number, number]> = []
    for (const [vm, dc] of order) {
      let best = -1; let bestFree = -Infinity
      for (const h of dcHosts[dc]!) {
        free(h)
        const m = freeMem.get(h)!; const c = freeCpu.get(h)!
        if (m >= vmMemory[vm]! && c >= vmVcpus[vm]! && m > bestFree) { best = h; bestFree = m }
      }
      if (best < 0) return false
      freeMem.set(best, freeMem.get(best)! - vmMemory[vm]!); freeCpu.set(best, freeCpu.get(best)! - vmVcpus[vm]!)
      placed.push([vm, best])
    }
    const mark = this.trail.length
    for (const [vm, host] of placed) this.move(vm, host)
    if (this.displaced > this.maxMoves || (this.maxPerHost < Infinity && this.touches.some(t => t > this.maxPerHost))) {
      this.undoTo(mark)
      return false
    }
    return true
  }

  /** The DC holding most of `members`' memory (ties: lower index). */
  private homeOf (members: number[]): number {
    const mem = new Float64Array(this.inst.nDc)
    for (const v of members) mem[this.state.dcOf(v)]! += this.inst.vmMemory[v]!
    let best = 0
    for (let d = 1; d < mem.length; d++) if (mem[d]! > mem[best]!) best = d
    return best
  }

  /**
   * Whole-group steps: each group tries every DC, alone or in exchange with
   * a group living there; the best step that lowers the cost (by minGain per
   * VM moved) is kept. True if any was.
   */
  private regroup (): boolean {
    if (this.inst.nVm > REGROUP_MAX_VMS) return false
    const groups = this.groups ??= groupMembers(communities(this.inst))
    if (groups.length === 0) return false
    const exchanges = this.inst.nVm <= EXCHANGE_MAX_VMS
    const memory = groups.map(h => h.reduce((s, v) => s + this.inst.vmMemory[v]!, 0))
    // Where each group lives, as of this pass (kept current as groups move).
    const homes = groups.map(h => this.homeOf(h))
    let improved = false
    for (let gi = 0; gi < groups.length; gi++) {
      const g = groups[gi]!
      const home = homes[gi]!
      let best: { gain: number, moves: Array<[number, number]> } | undefined
      const consider = (moves: Array<[number, number]>): void => {
        const mark = this.trail.length
        const before = this.state.cost
        if (!this.relocate(moves)) return
        const gain = before - this.state.cost
        const moved = this.trail.length - mark
        this.undoTo(mark)
        if (gain > this.minGain * moved + EPS && (best === undefined || gain > best.gain + EPS)) best = { gain, moves }
      }
      for (let dc = 0; dc < this.inst.nDc; dc++) {
        const toDc = g.map(v => [v, dc] as [number, number])
        consider(toDc)
        if (!exchanges || dc === home) continue
        const size = memory[gi]!
        const partners = groups
          .map((h, i) => ({ h, i }))
          .filter(({ i }) => i !== gi && homes[i] === dc)
          .sort((a, b) => Math.abs(memory[a.i]! - size) - Math.abs(memory[b.i]! - size) || a.i - b.i)
          .slice(0, EXCHANGE_PARTNERS)
        for (const { h } of partners) consider([...toDc, ...h.map(v => [v, home] as [number, number])])
      }
      if (best !== undefined && this.relocate((best as { moves: Array<[number, number]> }).moves)) {
        improved = true
        homes[gi] = this.homeOf(g)
        for (const [vm] of (best as { moves: Array<[number, number]> }).moves) {
          const j = groups.findIndex(h => h.includes(vm))
          if (j >= 0 && j !== gi) homes[j] = this.homeOf(groups[j]!)
        }
      }
    }
    return improved
  }

  /** Iterated local search: random kicks, descend, keep what is better. */
  private perturb (): void {
    const movable = [...this.inst.vmIds.keys()].filter(v => this.movable(v))
    const rounds = Math.min(ILS_MAX_ROUNDS, Math.floor(ILS_WORK / Math.max(1, this.inst.nVm)))
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

  /** Moved VMs, in the order they first moved. */
  firstMoved (): number[] {
    const vms: number[] = []
    this.firstMove.forEach((t, v) => { if (t < Infinity) vms.push(v) })
    return vms.sort((a, b) => this.firstMove[a]! - this.firstMove[b]!)
  }

  private movable (vm: number): boolean {
    return this.inst.vmPinned[vm] === 0 && this.held[vm] === 0 && (!this.lockMoved || this.state.hostOf[vm] === this.inst.vmHost[vm])
  }

  /** The moves this search made, in order (undone ones excluded). */
  trailSteps (): Step[] {
    return this.trail.map(u => ({ vm: u.vm, host: u.to }))
  }

  /** Whether moving `vm` to `host` keeps the plan within its move limits. */
  private allowed (vm: number, host: number): boolean {
    const origin = this.inst.vmHost[vm]!; const now = this.state.hostOf[vm]!
    const before = now !== origin ? 1 : 0; const after = host !== origin ? 1 : 0
    if (this.displaced - before + after > this.maxMoves) return false
    if (this.maxPerHost === Infinity) return true
    const t = (h: number): number => this.touches[h]! - (before === 1 && (h === origin || h === now) ? 1 : 0) + (after === 1 && (h === origin || h === host) ? 1 : 0)
    return t(origin) <= this.maxPerHost && t(host) <= this.maxPerHost && t(now) <= this.maxPerHost
  }

  private move (vm: number, host: number): void {
    const origin = this.inst.vmHost[vm]!; const now = this.state.hostOf[vm]!
    this.trail.push({ vm, from: now, to: host })
    if (now !== origin) { this.displaced--; this.touches[origin]!--; this.touches[now]!-- }
    if (host !== origin) { this.displaced++; this.touches[origin]!++; this.touches[host]!++ }
    if (this.firstMove[vm] === Infinity) this.firstMove[vm] = this.clock++
    this.state.apply(vm, host)
    this.noteFree(now)
    this.noteFree(host)
    this.vmsOn[now]!.delete(vm)
    this.vmsOn[host]!.add(vm)
  }

  /** Undoes moves back to trail length `mark`. */
  private undoTo (mark: number): void {
    while (this.trail.length > mark) {
      const { vm, from } = this.trail.pop()!
      this.move(vm, from)
      this.trail.pop()
    }
  }

  /** Gain (cost drop) of moving `vm` to each DC, ignoring capacity; own DC = -Infinity. */
  private gains (vm: number): Float64Array {
    const g = this.state.deltas(vm, this.gainBuf)
    const home = this.state.dcOf(vm)
    for (let d = 0; d < this.inst.nDc; d++) g[d] = d === home ? -Infinity : -g[d]!
    return g
  }

  private bestGain (vm: number): number {
    let best = -Infinity
    for (const x of this.gains(vm)) if (x > best) best = x
    return best
  }

  /** The host in `dc` that takes `vm` with most memory left, within limits; -1 if none. */
  private hostFor (vm: number, dc: number, exclude = -1): number {
    const s = this.state
    const usable = (h: number): boolean => h !== exclude && h !== s.hostOf[vm] && s.fits(vm, h) && this.allowed(vm, h)
    // Returning home is free of migration: prefer it.
    const home = this.inst.vmHost[vm]!
    if (this.inst.hostDc[home] === dc && usable(home)) return home
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
    const gains = this.actionGains
    gains.set(this.gains(vm))
    let best: Action | undefined
    let tried = 0
    for (const d of this.ranked(gains)) {
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
        const mark = this.trail.length
        this.move(step.vm, step.host)
        const then = this.allowed(vm, h) ? -s.delta(vm, dc) : -Infinity
        this.undoTo(mark)
        const gain = first.gain + then
        if (gain > 2 * this.minGain + EPS && (best === undefined || gain > best.gain)) {
          best = { gain, steps: [step, { vm, host: h }] }
        }
      }
    }
    return best
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
      if (!this.movable(vm)) continue
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
      if (inPass[vm] === 1 || !this.movable(vm)) continue
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
