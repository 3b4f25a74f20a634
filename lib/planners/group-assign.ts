/**
 * Chooses a DC for every application at once. Annealing VM by VM settles
 * each application in some DC early, while the temperature still hides what
 * its DC costs against the other applications'; moving a whole application
 * later means a ridge of half-moved states and a full DC to swap with. Here
 * the units are the groups found from the traffic (lib/communities.ts), and
 * the search (annealing too) moves or exchanges whole groups between DCs,
 * each state checked to pack onto the DCs' hosts.
 *
 * VMs outside any group are units of their own; VMs that may not move are
 * fixed where they are. Deterministic: seeded by the caller.
 */
import { type CostModel, evaluate } from '../cost.ts'
import { Random } from '../random.ts'

const END_RATIO = 1e-4
const EPS = 1e-12

export interface GroupAssignOptions {
  movable: Uint8Array
  groups: number[][]
  steps: number
  seed: number
}

/** A placement with whole groups assigned to DCs and packed onto hosts; undefined if nothing better than `start` was found. */
export function assignGroups (model: CostModel, start: Int32Array, opts: GroupAssignOptions): Int32Array | undefined {
  const g = new GroupSearch(model, start, opts)
  if (g.units.length < 2) return undefined
  g.anneal(opts.steps, new Random(opts.seed))
  return g.placement()
}

class GroupSearch {
  readonly units: number[][] = []
  private readonly model: CostModel
  private readonly start: Int32Array
  private readonly unitOf: Int32Array
  private readonly dc: Int32Array
  /** Traffic of unit u with fixed nodes in DC b: extOut[u * nDc + b], extIn likewise. */
  private readonly extOut: Float64Array
  private readonly extIn: Float64Array
  /** Unit-to-unit traffic: per unit, [other unit, out, in] triples. */
  private readonly links: Array<Array<[number, number, number]>>
  private readonly mig: Float64Array
  private readonly nDc: number

  constructor (model: CostModel, start: Int32Array, opts: GroupAssignOptions) {
    const inst = model.instance
    const { nVm, nDc, hostDc, vmPinned, vmMemory, adjStart, adjNode, adjOut, adjIn, prefixDc, vmHost } = inst
    this.model = model
    this.start = start
    this.nDc = nDc
    this.unitOf = new Int32Array(nVm).fill(-1)
    const free = (v: number): boolean => opts.movable[v] === 1 && vmPinned[v] === 0
    for (const members of opts.groups) {
      const m = members.filter(v => free(v) && this.unitOf[v] === -1)
      if (m.length === 0) continue
      for (const v of m) this.unitOf[v] = this.units.length
      this.units.push(m)
    }
    for (let v = 0; v < nVm; v++) if (free(v) && this.unitOf[v] === -1) { this.unitOf[v] = this.units.length; this.units.push([v]) }
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
  }

  /** Cost of everything unit u takes part in, were it in DC d. */
  private unitCost (u: number, d: number): number {
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

  /**
   * Hosts for the movable VMs of units in DC d: first each on its starting
   * host if that is in d and has room, then largest first onto the roomiest
   * host. Undefined if some VM finds no room.
   */
  private pack (d: number): Array<[number, number]> | undefined {
    const inst = this.model.instance
    const { dcHosts, hostMemory, hostVcpus, vmMemory, vmVcpus, nVm, hostDc } = inst
    const hosts = dcHosts[d]!
    const mem = new Map<number, number>(); const cpu = new Map<number, number>()
    for (const h of hosts) { mem.set(h, hostMemory[h]!); cpu.set(h, hostVcpus[h]!) }
    for (let v = 0; v < nVm; v++) {
      const h = this.start[v]!
      if (this.unitOf[v] === -1 && hostDc[h] === d) { mem.set(h, mem.get(h)! - vmMemory[v]!); cpu.set(h, cpu.get(h)! - vmVcpus[v]!) }
    }
    const vms: number[] = []
    this.units.forEach((m, u) => { if (this.dc[u] === d) vms.push(...m) })
    vms.sort((a, b) => vmMemory[b]! - vmMemory[a]! || vmVcpus[b]! - vmVcpus[a]! || a - b)
    const out: Array<[number, number]> = []
    const rest: number[] = []
    const fits = (v: number, h: number): boolean => mem.get(h)! >= vmMemory[v]! && cpu.get(h)! >= vmVcpus[v]!
    const put = (v: number, h: number): void => { mem.set(h, mem.get(h)! - vmMemory[v]!); cpu.set(h, cpu.get(h)! - vmVcpus[v]!); out.push([v, h]) }
    for (const v of vms) {
      const h = this.start[v]!
      if (hostDc[h] === d && fits(v, h)) put(v, h); else rest.push(v)
    }
    for (const v of rest) {
      let best = -1
      for (const h of hosts) if (fits(v, h) && (best < 0 || mem.get(h)! > mem.get(best)!)) best = h
      if (best < 0) return undefined
      put(v, best)
    }
    return out
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
      const w = rng.next() < 0.5 ? this.partner(u, d, rng) : -1
      let delta = this.unitCost(u, d) - this.unitCost(u, a)
      this.dc[u] = d
      if (w >= 0) { delta += this.unitCost(w, a) - this.unitCost(w, d); this.dc[w] = a }
      const ok = (delta <= 0 || rng.next() < Math.exp(-delta / t)) && this.packs(d) && (w < 0 || this.packs(a))
      if (!ok) { this.dc[u] = a; if (w >= 0) this.dc[w] = d; continue }
      cost += delta
      if (cost < bestCost - EPS && this.allPack()) { bestCost = cost; best = Int32Array.from(this.dc) }
    }
    this.dc.set(best)
  }

  private allPack (): boolean {
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

  /** The hosts of the assignment found, or undefined when it does not pack or gains nothing. */
  placement (): Int32Array | undefined {
    const out = Int32Array.from(this.start)
    for (let d = 0; d < this.nDc; d++) {
      const p = this.pack(d)
      if (p === undefined) return undefined
      for (const [v, h] of p) out[v] = h
    }
    const before = evaluate(this.model, this.start).total
    return evaluate(this.model, out).total < before - EPS * Math.max(1e-300, before) ? out : undefined
  }
}
