/**
 * Chooses a DC for every application at once. Annealing VM by VM settles
 * each application in some DC early, while the temperature still hides what
 * its DC costs against the other applications'; moving a whole application
 * later means a ridge of half-moved states and a full DC to swap with. Here
 * the units are the groups found from the traffic (lib/communities.ts), and
 * the search (annealing too) moves or exchanges whole groups between DCs
 * within each DC's pooled room; the best state is kept only if it packs
 * onto the DCs' hosts.
 *
 * VMs outside any group are units of their own; VMs that may not move are
 * fixed where they are. Deterministic: seeded by the caller.
 */
import { type CostModel, evaluate } from '../cost.ts'
import { Random } from '../random.ts'
import { formUnits, packOntoDc } from './group-units.ts'

const END_RATIO = 1e-4
/** Units moved out of a full DC at most, to make room for one coming in. */
const EJECT_UNITS = 4
/** Up to this many VMs every state is packed onto hosts; above, DCs' pooled room is checked. */
const EXACT_PACK_VMS = 100
/** Above this many VMs a new best is not packed onto hosts as it is found (that costs the whole instance each time): placement() packs the last one. */
const LAZY_PACK_VMS = 1000
/** Exchange partners refine() tries per unit and DC: the units there that lose least by moving to the unit's DC. */
const REFINE_PARTNERS = 8
const EPS = 1e-12

export interface GroupAssignOptions {
  movable: Uint8Array
  groups: number[][]
  steps: number
  seed: number
  /** Passes of refine() after the annealing (none if unset). */
  refinePasses?: number
}

/** A placement with whole groups assigned to DCs and packed onto hosts; undefined if nothing better than `start` was found. */
export function assignGroups (model: CostModel, start: Int32Array, opts: GroupAssignOptions): Int32Array | undefined {
  const g = new GroupSearch(model, start, opts)
  if (g.units.length < 2) return undefined
  g.anneal(opts.steps, new Random(opts.seed))
  if (opts.refinePasses !== undefined) g.refine(opts.refinePasses)
  return g.placement()
}

/** The books of units in DCs that the searches here and homeward.ts move. */
export class GroupSearch {
  readonly units: number[][]
  readonly model: CostModel
  private readonly start: Int32Array
  private readonly unitOf: Int32Array
  readonly dc: Int32Array
  /** Traffic of unit u with fixed nodes in DC b: extOut[u * nDc + b], extIn likewise. */
  private readonly extOut: Float64Array
  private readonly extIn: Float64Array
  /** Unit-to-unit traffic: per unit, [other unit, out, in] triples. */
  readonly links: Array<Array<[number, number, number]>>
  private readonly mig: Float64Array
  readonly nDc: number
  /** Memory and vCPUs of each unit, and per DC what units and fixed VMs use of it. */
  readonly unitMem: Float64Array
  private readonly unitCpu: Float64Array
  private readonly dcMem: Float64Array
  private readonly dcCpu: Float64Array
  readonly capMem: Float64Array
  private readonly capCpu: Float64Array

  constructor (model: CostModel, start: Int32Array, opts: Pick<GroupAssignOptions, 'movable' | 'groups'>) {
    const inst = model.instance
    const { nVm, nDc, hostDc, vmPinned, vmMemory, adjStart, adjNode, adjOut, adjIn, prefixDc, vmHost } = inst
    this.model = model
    this.start = start
    this.nDc = nDc
    const formed = formUnits(inst, opts.groups, v => opts.movable[v] === 1 && vmPinned[v] === 0)
    this.units = formed.units
    this.unitOf = formed.unitOf
    const n = this.units.length
    // A unit starts in the DC holding most of its memory.
    this.dc = new Int32Array(n)
    const mem = new Float64Array(nDc)
    this.units.forEach((m, u) => {
      mem.fill(0)
      for (const v of m) mem[hostDc[start[v]!]!]! += vmMemory[v]!
      let best = 0
      for (let d = 1; d < nDc; d++) if (mem[d]! > mem[best]!) best = d
      this.dc[u] = best
    })
    this.extOut = new Float64Array(n * nDc); this.extIn = new Float64Array(n * nDc)
    this.mig = new Float64Array(n * nDc)
    const pairs = Array.from({ length: n }, () => new Map<number, [number, number]>())
    for (let v = 0; v < nVm; v++) {
      const u = this.unitOf[v]!
      if (u < 0) continue
      for (let d = 0; d < nDc; d++) this.mig[u * nDc + d]! += model.migration(v, hostDc[vmHost[v]!]!, d)
      for (let k = adjStart[v]!; k < adjStart[v + 1]!; k++) {
        const node = adjNode[k]!
        const w = node < nVm ? this.unitOf[node]! : -1
        if (w === u) continue
        if (w < 0) {
          const b = node < nVm ? hostDc[start[node]!]! : prefixDc[node - nVm]!
          this.extOut[u * nDc + b]! += adjOut[k]!; this.extIn[u * nDc + b]! += adjIn[k]!
        } else {
          const e = pairs[u]!.get(w) ?? [0, 0]
          e[0] += adjOut[k]!; e[1] += adjIn[k]!
          pairs[u]!.set(w, e)
        }
      }
    }
    this.links = pairs.map(m => [...m].map(([w, [o, i]]) => [w, o, i] as [number, number, number]))
    const { vmVcpus, hostMemory, hostVcpus, nHost } = inst
    this.unitMem = Float64Array.from(this.units, m => m.reduce((a, v) => a + vmMemory[v]!, 0))
    this.unitCpu = Float64Array.from(this.units, m => m.reduce((a, v) => a + vmVcpus[v]!, 0))
    this.dcMem = new Float64Array(nDc); this.dcCpu = new Float64Array(nDc)
    this.capMem = new Float64Array(nDc); this.capCpu = new Float64Array(nDc)
    for (let h = 0; h < nHost; h++) { this.capMem[hostDc[h]!]! += hostMemory[h]!; this.capCpu[hostDc[h]!]! += hostVcpus[h]! }
    for (let v = 0; v < nVm; v++) {
      if (this.unitOf[v] !== -1) continue
      const d = hostDc[start[v]!]!
      this.dcMem[d]! += vmMemory[v]!; this.dcCpu[d]! += vmVcpus[v]!
    }
    for (let u = 0; u < n; u++) this.shift(u, this.dc[u]!, 1)
  }

  /** Books (sign 1) or unbooks (-1) unit u's memory and vCPUs in DC d. */
  private shift (u: number, d: number, sign: number): void {
    this.dcMem[d]! += sign * this.unitMem[u]!; this.dcCpu[d]! += sign * this.unitCpu[u]!
  }

  /** Moves unit u to DC d, keeping the books. */
  put (u: number, d: number): void {
    this.shift(u, this.dc[u]!, -1); this.dc[u] = d; this.shift(u, d, 1)
  }

  /**
   * DC d has room for what is booked there: on small instances it must pack
   * onto the hosts; on larger ones the hosts pooled must have room (a
   * relaxation, checked exactly on each new best).
   */
  fits (d: number): boolean {
    if (this.dcMem[d]! > this.capMem[d]! || this.dcCpu[d]! > this.capCpu[d]!) return false
    return this.model.instance.nVm > EXACT_PACK_VMS || this.packs(d)
  }

  /** Cost of everything unit u takes part in, were it in DC d. */
  unitCost (u: number, d: number): number {
    const { nDc } = this
    const pair = this.model.pair
    let c = this.mig[u * nDc + d]!
    for (let b = 0; b < nDc; b++) c += this.extOut[u * nDc + b]! * pair[d * nDc + b]! + this.extIn[u * nDc + b]! * pair[b * nDc + d]!
    for (const [w, o, i] of this.links[u]!) { const b = this.dc[w]!; c += o * pair[d * nDc + b]! + i * pair[b * nDc + d]! }
    return c
  }

  /** Whether the units in DC d (with the fixed VMs there) pack onto its hosts. */
  private packs (d: number): boolean {
    return this.pack(d) !== undefined
  }

  /** Hosts for the movable VMs of the units in DC d (packOntoDc); undefined if they do not fit. */
  private pack (d: number): Array<[number, number]> | undefined {
    const vms: number[] = []
    this.units.forEach((m, u) => { if (this.dc[u] === d) vms.push(...m) })
    const inst = this.model.instance
    return packOntoDc(inst, this.start, this.unitOf, vms, d, true) ?? packOntoDc(inst, this.start, this.unitOf, vms, d, false)
  }

  anneal (steps: number, rng: Random): void {
    const n = this.units.length; const nDc = this.nDc
    if (nDc < 2) return
    // Start temperature: the typical cost rise of moving a unit.
    let sum = 0; let cnt = 0
    for (let k = 0; k < 100; k++) {
      const u = rng.int(0, n - 1); const d = rng.int(0, nDc - 1)
      const x = this.unitCost(u, d) - this.unitCost(u, this.dc[u]!)
      if (x > 0) { sum += x; cnt++ }
    }
    if (cnt === 0) return
    let t = sum / cnt
    const cool = Math.pow(END_RATIO, 1 / steps)
    let cost = 0
    let bestCost = 0; let best = Int32Array.from(this.dc)
    for (let i = 0; i < steps; i++, t *= cool) {
      const u = rng.int(0, n - 1); const a = this.dc[u]!
      let d = rng.int(0, nDc - 2); if (d >= a) d++
      // u goes to d alone, or in exchange for one unit there, or for as many
      // as it takes to make room (up to EJECT_UNITS): a large application
      // may trade places with several small ones.
      const shifted: Array<[number, number]> = []
      let delta = 0
      const shift = (x: number, to: number): void => {
        delta += this.unitCost(x, to) - this.unitCost(x, this.dc[x]!)
        shifted.push([x, this.dc[x]!]); this.put(x, to)
      }
      shift(u, d)
      const r = rng.next()
      if (r < 0.4) {
        const w = this.partner(u, d, rng)
        if (w >= 0) shift(w, a)
      } else if (r < 0.7) {
        for (let k = 0; k < EJECT_UNITS && (this.dcMem[d]! > this.capMem[d]! || this.dcCpu[d]! > this.capCpu[d]!); k++) {
          const w = this.partner(u, d, rng)
          if (w < 0) break
          shift(w, a)
        }
      }
      const ok = this.fits(d) && (shifted.length === 1 || this.fits(a)) && (delta <= 0 || rng.next() < Math.exp(-delta / t))
      if (!ok) { for (let k = shifted.length - 1; k >= 0; k--) this.put(shifted[k]![0], shifted[k]![1]); continue }
      cost += delta
      if (cost < bestCost - EPS && (this.model.instance.nVm > LAZY_PACK_VMS || this.allPack())) { bestCost = cost; best = Int32Array.from(this.dc) }
    }
    for (let u = 0; u < n; u++) this.put(u, best[u]!)
  }

  /**
   * Deterministic descent over units after the annealing: each unit moves to
   * the DC where it costs least if that DC has room, or else is exchanged
   * with one of the REFINE_PARTNERS units there that lose least by coming
   * to its DC; pass after pass until a pass gains nothing. Annealing alone
   * converges slowly on thousands of units (10k VMs: 4.1e-4 of the start
   * after 200,000 steps, 2.9e-4 after 3,000,000).
   */
  refine (maxPasses: number): void {
    const n = this.units.length; const nDc = this.nDc
    const gainTo = new Float64Array(n * nDc)
    const byDc: number[][] = Array.from({ length: nDc }, () => [])
    for (let pass = 0; pass < maxPasses; pass++) {
      // Each unit's gain from moving alone to each DC, as of this pass (partners are picked by it).
      for (const list of byDc) list.length = 0
      for (let u = 0; u < n; u++) {
        const here = this.unitCost(u, this.dc[u]!)
        for (let d = 0; d < nDc; d++) gainTo[u * nDc + d] = here - this.unitCost(u, d)
        byDc[this.dc[u]!]!.push(u)
      }
      // Per DC and destination, the units most willing to go there.
      const willing: number[][] = []
      for (let d = 0; d < nDc; d++) {
        for (let a = 0; a < nDc; a++) {
          const list = a === d ? [] : [...byDc[d]!].sort((x, y) => gainTo[y * nDc + a]! - gainTo[x * nDc + a]! || x - y).slice(0, REFINE_PARTNERS)
          willing.push(list)
        }
      }
      let gained = 0
      for (let u = 0; u < n; u++) {
        const a = this.dc[u]!
        let best: { delta: number, d: number, w: number } | undefined
        for (let d = 0; d < nDc; d++) {
          if (d === a) continue
          const alone = this.unitCost(u, d) - this.unitCost(u, a)
          if (alone >= 0 && (best === undefined || alone >= best.delta)) continue
          this.put(u, d)
          if (this.fits(d)) {
            if (best === undefined || alone < best.delta) best = { delta: alone, d, w: -1 }
          } else {
            for (const w of willing[d * nDc + a]!) {
              if (this.dc[w] !== d) continue // moved earlier in this pass
              const swap = alone + this.unitCost(w, a) - this.unitCost(w, d)
              if (best !== undefined && swap >= best.delta) continue
              this.put(w, a)
              if (this.fits(d) && this.fits(a)) best = { delta: swap, d, w }
              this.put(w, d)
            }
          }
          this.put(u, a)
        }
        if (best === undefined || best.delta > -EPS) continue
        this.put(u, best.d)
        if (best.w >= 0) this.put(best.w, a)
        gained -= best.delta
      }
      if (gained <= EPS) break
    }
  }

  allPack (): boolean {
    for (let d = 0; d < this.nDc; d++) if (!this.packs(d)) return false
    return true
  }

  /** A random unit in DC d, or -1. */
  private partner (u: number, d: number, rng: Random): number {
    const n = this.units.length
    const s = rng.int(0, n - 1)
    for (let k = 0; k < n; k++) { const w = (s + k) % n; if (w !== u && this.dc[w] === d) return w }
    return -1
  }

  /** The hosts of the assignment found, or undefined when it does not pack or (with `gain`) gains nothing. */
  placement (gain = true): Int32Array | undefined {
    const out = Int32Array.from(this.start)
    for (let d = 0; d < this.nDc; d++) {
      const p = this.pack(d)
      if (p === undefined) return undefined
      for (const [v, h] of p) out[v] = h
    }
    const before = evaluate(this.model, this.start).total
    return !gain || evaluate(this.model, out).total < before - EPS * Math.max(1e-300, before) ? out : undefined
  }
}
