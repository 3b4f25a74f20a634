/**
 * Simulated annealing over host assignments, for small instances. The
 * greedy-and-refine search moves one VM at a time downhill; on instances of
 * a few dozen VMs with full DCs it ends where every single move and chain
 * loses, typically with whole applications in the wrong DCs (the one that
 * fits each is taken by another). Annealing crosses those ridges: it takes
 * uphill moves with a probability that falls as it cools, and exchanges two
 * VMs between hosts (a swap) when the target host is full.
 *
 * It finds a placement, not a plan: `sequence.ts` turns it into moves.
 * Deterministic: a seeded PRNG (lib/random.ts) drives every choice.
 */
import { type CostModel, evaluate } from '../cost.ts'
import { Placement } from '../placement.ts'
import { Random } from '../random.ts'

/** Temperature falls geometrically from T0 to T0 * END_RATIO over the steps. */
const END_RATIO = 1e-4
/** Share of steps that try an exchange even when the target has room. */
const SWAP_SHARE = 0.3
/** DC relabelings are all tried up to this many DCs (n! of them), pairs only above. */
const PERMUTE_ALL_DCS = 5
/** Share of steps that move a VM to another host of its own DC (repacking, free of cost). */
const REPACK_SHARE = 0.05
const EPS = 1e-12

export interface AnnealResult {
  hostOf: Int32Array
  cost: number
}

export interface AnnealOptions {
  /** VMs the search may place elsewhere (1) or must leave (0). */
  movable: Uint8Array
  steps: number
  seed: number
  /** Start temperature relative to the typical cost rise of a move (1: hot enough to dissolve applications). */
  heat?: number
}

/** Anneals from `start`, then descends to a local optimum of moves and swaps; returns the best placement seen. */
export function anneal (model: CostModel, start: Int32Array, opts: AnnealOptions): AnnealResult {
  const s = new Search(model, start, opts.movable, new Random(opts.seed))
  s.anneal(opts.steps, opts.heat ?? 1)
  s.restoreBest()
  s.permuteDcs()
  s.descend()
  return { hostOf: Int32Array.from(s.state.hostOf), cost: s.state.cost }
}

class Search {
  readonly state: Placement
  private readonly rng: Random
  private readonly vms: number[]
  /** VMs on each host: members[h][0 .. count[h]), pos[v] its index there. */
  private readonly members: Int32Array[]
  private readonly count: Int32Array
  private readonly pos: Int32Array
  private best: Int32Array
  private bestCost: number

  constructor (model: CostModel, start: Int32Array, movable: Uint8Array, rng: Random) {
    this.state = new Placement(model, start, false)
    this.rng = rng
    const inst = model.instance
    this.vms = []
    for (let v = 0; v < inst.nVm; v++) if (movable[v] === 1 && inst.vmPinned[v] === 0) this.vms.push(v)
    this.count = new Int32Array(inst.nHost)
    this.pos = new Int32Array(inst.nVm)
    this.members = Array.from({ length: inst.nHost }, () => new Int32Array(inst.nVm))
    for (const v of this.vms) this.add(v, this.state.hostOf[v]!)
    this.best = Int32Array.from(this.state.hostOf)
    this.bestCost = this.state.cost
  }

  private add (v: number, h: number): void {
    const c = this.count[h]!
    this.members[h]![c] = v; this.pos[v] = c; this.count[h] = c + 1
  }

  private remove (v: number, h: number): void {
    const m = this.members[h]!
    const last = --this.count[h]!
    const p = this.pos[v]!
    const w = m[last]!
    m[p] = w; this.pos[w] = p
  }

  private move (v: number, h: number): void {
    this.remove(v, this.state.hostOf[v]!)
    this.state.apply(v, h)
    this.add(v, h)
  }

  /** A random host of `dc` (other than `not`) that fits `v`; -1 if none. */
  private roomIn (v: number, dc: number, not: number): number {
    const hosts = this.state.inst.dcHosts[dc]!
    const start = this.rng.int(0, hosts.length - 1)
    for (let k = 0; k < hosts.length; k++) {
      const h = hosts[(start + k) % hosts.length]!
      if (h !== not && this.state.fits(v, h)) return h
    }
    return -1
  }

  /**
   * Whether v (on a) and w (on b) fit after exchanging hosts, and neither
   * move makes a placement rule worse as things stand (a filter: carrying
   * the placement out checks the rules move by move; states the rules
   * refuse there are searched in vain).
   */
  private swapFits (v: number, w: number): boolean {
    const { vmMemory, vmVcpus, hostMemory, hostVcpus, hostDc } = this.state.inst
    const a = this.state.hostOf[v]!; const b = this.state.hostOf[w]!
    const s = this.state
    return s.memUsed[a]! - vmMemory[v]! + vmMemory[w]! <= hostMemory[a]! && s.cpuUsed[a]! - vmVcpus[v]! + vmVcpus[w]! <= hostVcpus[a]! &&
      s.memUsed[b]! - vmMemory[w]! + vmMemory[v]! <= hostMemory[b]! && s.cpuUsed[b]! - vmVcpus[w]! + vmVcpus[v]! <= hostVcpus[b]! &&
      s.allowed(v, hostDc[b]!) && s.allowed(w, hostDc[a]!)
  }

  private noteBest (): void {
    if (this.state.cost < this.bestCost - EPS * Math.max(1, this.bestCost)) {
      this.bestCost = this.state.cost
      this.best.set(this.state.hostOf)
    }
  }

  /** The typical cost rise of a random move: where the temperature starts. */
  private startTemperature (): number {
    const { nDc } = this.state.inst
    let sum = 0; let n = 0
    for (let i = 0; i < 200; i++) {
      const v = this.rng.pick(this.vms)
      const d = this.rng.int(0, nDc - 1)
      const x = this.state.delta(v, d)
      if (x > 0) { sum += x; n++ }
    }
    return n === 0 ? 0 : sum / n
  }

  anneal (steps: number, heat: number): void {
    const inst = this.state.inst
    if (this.vms.length === 0 || inst.nDc < 2 || steps <= 0) return
    const t0 = this.startTemperature() * heat
    if (t0 === 0) return
    const cool = Math.pow(END_RATIO, 1 / steps)
    let t = t0
    for (let i = 0; i < steps; i++, t *= cool) {
      const v = this.rng.pick(this.vms)
      const a = this.state.hostOf[v]!
      const from = inst.hostDc[a]!
      const r = this.rng.next()
      if (r < REPACK_SHARE) {
        // Repack within the DC (cost-free): to a host with room, else exchanged with a VM on another host.
        const h = this.roomIn(v, from, a)
        if (h >= 0) { this.move(v, h); continue }
        const hosts = inst.dcHosts[from]!
        const b = hosts[this.rng.int(0, hosts.length - 1)]!
        if (b === a || this.count[b] === 0) continue
        const w = this.members[b]![this.rng.int(0, this.count[b]! - 1)]!
        if (this.swapFits(v, w)) { this.move(v, b); this.move(w, a) }
        continue
      }
      let d = this.rng.int(0, inst.nDc - 2)
      if (d >= from) d++
      const h = r < REPACK_SHARE + SWAP_SHARE ? -1 : this.roomIn(v, d, a)
      if (h >= 0) {
        const delta = this.state.delta(v, d)
        if (delta <= 0 || this.rng.next() < Math.exp(-delta / t)) { this.move(v, h); if (delta < 0) this.noteBest() }
        continue
      }
      // Exchange with a VM on a host of d (none while d has no live hosts, e.g. cut off by a partition).
      const hosts = inst.dcHosts[d]!
      if (hosts.length === 0) continue
      const b = hosts[this.rng.int(0, hosts.length - 1)]!
      const c = this.count[b]!
      if (c === 0) continue
      const w = this.members[b]![this.rng.int(0, c - 1)]!
      if (!this.swapFits(v, w)) continue
      const before = this.state.cost
      this.move(v, b)
      const delta = this.state.cost - before + this.state.delta(w, from)
      if (delta <= 0 || this.rng.next() < Math.exp(-delta / t)) {
        this.move(w, a)
        if (delta < 0) this.noteBest()
      } else {
        this.move(v, a)
      }
    }
  }

  restoreBest (): void {
    const { hostOf } = this.state
    for (const v of this.vms) if (hostOf[v] !== this.best[v]) this.move(v, this.best[v]!)
  }

  /**
   * Moves the movable contents of every DC to another DC at once (a
   * relabeling: all permutations on few DCs, exchanges of two DCs above).
   * Annealing settles applications into DCs early, while the temperature
   * still hides what their placement among DCs costs; this exchanges them
   * whole afterwards. Keeps the best relabeling that fits and lowers the cost.
   */
  permuteDcs (): void {
    const inst = this.state.inst
    const nDc = inst.nDc
    let best: Int32Array | undefined
    let bestCost = this.state.cost
    for (const perm of relabelings(nDc)) {
      const cand = this.relabeled(perm)
      if (cand === undefined) continue
      const c = evaluate(this.state.model, cand).total
      if (c < bestCost - EPS * Math.max(1e-300, bestCost)) { bestCost = c; best = cand }
    }
    if (best === undefined) return
    for (const v of this.vms) if (this.state.hostOf[v] !== best[v]) this.move(v, best[v]!)
  }

  /** The placement with movable VMs of DC d moved to perm[d] (same host index when it fits, else roomiest); undefined if they do not fit. */
  private relabeled (perm: number[]): Int32Array | undefined {
    const inst = this.state.inst
    const { dcHosts, hostDc, hostMemory, hostVcpus, vmMemory, vmVcpus } = inst
    const s = this.state
    const mem = Float64Array.from(s.memUsed); const cpu = Float64Array.from(s.cpuUsed)
    for (const v of this.vms) { const h = s.hostOf[v]!; mem[h]! -= vmMemory[v]!; cpu[h]! -= vmVcpus[v]! }
    const out = Int32Array.from(s.hostOf)
    const order = [...this.vms].sort((a, b) => vmMemory[b]! - vmMemory[a]! || a - b)
    for (const v of order) {
      const h = s.hostOf[v]!; const d = hostDc[h]!; const e = perm[d]!
      const from = dcHosts[d]!; const to = dcHosts[e]!
      const fit = (x: number): boolean => mem[x]! + vmMemory[v]! <= hostMemory[x]! && cpu[x]! + vmVcpus[v]! <= hostVcpus[x]!
      let target = d === e ? h : -1
      if (target < 0) {
        const k = from.indexOf(h)
        if (k < to.length && fit(to[k]!)) target = to[k]!
      }
      if (target < 0 || !fit(target)) {
        target = -1
        for (const x of to) if (fit(x) && (target < 0 || hostMemory[x]! - mem[x]! > hostMemory[target]! - mem[target]!)) target = x
      }
      if (target < 0) return undefined
      out[v] = target; mem[target]! += vmMemory[v]!; cpu[target]! += vmVcpus[v]!
    }
    return out
  }

  /** First-improvement descent over single moves and swaps until neither improves. */
  descend (): void {
    const inst = this.state.inst
    const s = this.state
    for (let improved = true; improved;) {
      improved = false
      for (const v of this.vms) {
        const from = s.dcOf(v)
        for (let d = 0; d < inst.nDc; d++) {
          if (d === from) continue
          const delta = s.delta(v, d)
          if (delta >= -EPS * Math.max(1e-300, s.cost)) continue
          const h = s.roomIn(v, d)
          if (h >= 0) { this.move(v, h); improved = true; break }
        }
      }
      for (let i = 0; i < this.vms.length; i++) {
        for (let j = i + 1; j < this.vms.length; j++) {
          const v = this.vms[i]!; const w = this.vms[j]!
          const a = s.hostOf[v]!; const b = s.hostOf[w]!
          const dv = inst.hostDc[a]!; const dw = inst.hostDc[b]!
          if (dv === dw || !this.swapFits(v, w)) continue
          const before = s.cost
          this.move(v, b)
          const delta = s.cost - before + s.delta(w, dv)
          if (delta < -EPS * Math.max(1e-300, before)) { this.move(w, a); improved = true } else this.move(v, a)
        }
      }
    }
  }
}

/** Every permutation of 0..n-1 but the identity when n is small, else every exchange of two. */
function relabelings (n: number): number[][] {
  const id = Array.from({ length: n }, (_, i) => i)
  const out: number[][] = []
  if (n <= PERMUTE_ALL_DCS) {
    const walk = (prefix: number[], rest: number[]): void => {
      if (rest.length === 0) { if (prefix.some((x, i) => x !== i)) out.push(prefix); return }
      rest.forEach((x, i) => walk([...prefix, x], [...rest.slice(0, i), ...rest.slice(i + 1)]))
    }
    walk([], id)
    return out
  }
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) { const p = [...id]; p[a] = b; p[b] = a; out.push(p) }
  }
  return out
}
