/**
 * A placement being planned: where each VM is, what each host has left, and
 * each VM's traffic summed per DC. Moving a VM touches only its own edges:
 * O(degree + DCs) to apply, O(DCs) to price a move once the VM's per-DC
 * traffic is known. The running cost is kept by deltas and can be checked
 * against `evaluate` at any time.
 */
import { type CostModel, evaluate } from './cost.ts'
import type { Instance } from './instance.ts'
import { RuleCounts } from './rule-counts.ts'

export class Placement {
  readonly inst: Instance
  readonly model: CostModel
  readonly hostOf: Int32Array
  readonly memUsed: Float64Array
  readonly cpuUsed: Float64Array
  readonly dcMemUsed: Float64Array
  /** out[u * nDc + d]: bit/s VM u sends to nodes in DC d (in: receives). */
  readonly out: Float64Array
  readonly in: Float64Array
  /** Link loads in bit/s, kept current unless made without them (the `linkLoad` getter). */
  private readonly loads: Float64Array | undefined
  cost: number
  /** Placement rules' counts; undefined when the instance has no rules. */
  readonly rules: RuleCounts | undefined
  private readonly talkBuf: Int32Array

  /**
   * With `links` false the link loads are not kept: the cost is priced by
   * DC pairs and never reads them, and a search that moves VMs millions of
   * times (annealing, the lookahead search) skips their upkeep per move.
   */
  constructor (model: CostModel, hostOf?: Int32Array, links = true) {
    const inst = model.instance
    this.inst = inst
    this.model = model
    this.hostOf = Int32Array.from(hostOf ?? inst.vmHost)
    const { nDc, nVm, nHost } = inst
    this.memUsed = new Float64Array(nHost)
    this.cpuUsed = new Float64Array(nHost)
    this.dcMemUsed = new Float64Array(nDc)
    for (let u = 0; u < nVm; u++) {
      const h = this.hostOf[u]!
      this.memUsed[h]! += inst.vmMemory[u]!
      this.cpuUsed[h]! += inst.vmVcpus[u]!
      this.dcMemUsed[inst.hostDc[h]!]! += inst.vmMemory[u]!
    }
    this.out = new Float64Array(nVm * nDc)
    this.in = new Float64Array(nVm * nDc)
    for (let u = 0; u < nVm; u++) {
      for (let k = inst.adjStart[u]!; k < inst.adjStart[u + 1]!; k++) {
        const d = this.dcOfNode(inst.adjNode[k]!)
        this.out[u * nDc + d]! += inst.adjOut[k]!
        this.in[u * nDc + d]! += inst.adjIn[k]!
      }
    }
    this.talkBuf = new Int32Array(nDc)
    this.rules = inst.rules === undefined ? undefined : new RuleCounts(inst.rules, nDc, v => this.dcOf(v))
    const full = evaluate(model, this.hostOf)
    this.loads = links ? full.linkLoad : undefined
    this.cost = full.total
  }

  /** Link loads in bit/s, for planners that look at links and the move recorder. */
  get linkLoad (): Float64Array {
    if (this.loads === undefined) throw new Error('this placement does not keep link loads (made with links = false)')
    return this.loads
  }

  dcOf (vm: number): number {
    return this.inst.hostDc[this.hostOf[vm]!]!
  }

  dcOfNode (node: number): number {
    const { nVm, hostDc, prefixDc } = this.inst
    return node < nVm ? hostDc[this.hostOf[node]!]! : prefixDc[node - nVm]!
  }

  /**
   * True when `host` has memory and vCPUs left for `vm` and moving it there
   * makes no placement rule worse: every planner asks this before a move,
   * so this is where rules are kept.
   */
  fits (vm: number, host: number): boolean {
    const { vmMemory, vmVcpus, hostMemory, hostVcpus, hostDc } = this.inst
    return this.memUsed[host]! + vmMemory[vm]! <= hostMemory[host]! &&
      this.cpuUsed[host]! + vmVcpus[vm]! <= hostVcpus[host]! &&
      (this.rules === undefined || this.rules.allows(vm, this.dcOf(vm), hostDc[host]!))
  }

  /** True when moving `vm` to DC `dc` makes no placement rule worse. */
  allowed (vm: number, dc: number): boolean {
    return this.rules === undefined || this.rules.allows(vm, this.dcOf(vm), dc)
  }

  /**
   * The host in `dc` that takes `vm` with the most memory left over (spreads
   * load, keeps room for later moves); ties go to the lower index. -1 if none.
   */
  roomIn (vm: number, dc: number, exclude = -1): number {
    let best = -1; let bestFree = -Infinity
    for (const h of this.inst.dcHosts[dc]!) {
      if (h === exclude || h === this.hostOf[vm] || !this.fits(vm, h)) continue
      const free = this.inst.hostMemory[h]! - this.memUsed[h]!
      if (free > bestFree) { best = h; bestFree = free }
    }
    return best
  }

  /** Cost change if `vm` moved to DC `to` (any host there): O(DCs). */
  delta (vm: number, to: number): number {
    const { nDc, vmHost, hostDc, vmMemory } = this.inst
    const from = this.dcOf(vm)
    if (from === to) return 0
    const pair = this.model.pair
    const base = vm * nDc
    let d = 0
    for (let b = 0; b < nDc; b++) {
      const o = this.out[base + b]!; const i = this.in[base + b]!
      if (o !== 0) d += o * (pair[to * nDc + b]! - pair[from * nDc + b]!)
      if (i !== 0) d += i * (pair[b * nDc + to]! - pair[b * nDc + from]!)
    }
    const origin = hostDc[vmHost[vm]!]!
    d += this.model.migration(vm, origin, to) - this.model.migration(vm, origin, from)
    if (this.model.weights.dcLoad !== 0) {
      const m = vmMemory[vm]!
      const before = this.model.dcLoad(this.dcMemUsed)
      this.dcMemUsed[from]! -= m; this.dcMemUsed[to]! += m
      const after = this.model.dcLoad(this.dcMemUsed)
      this.dcMemUsed[from]! += m; this.dcMemUsed[to]! -= m
      d += after - before
    }
    return d
  }

  /**
   * Cost change if `vm` moved to each DC, into `into` (own DC: 0). One pass
   * over the DCs it talks with per target: O(DCs x DCs talked to), which is
   * what makes pricing every VM against every DC cheap.
   */
  deltas (vm: number, into: Float64Array): Float64Array {
    const { nDc, vmHost, hostDc, vmMemory } = this.inst
    const pair = this.model.pair
    const base = vm * nDc
    const from = this.dcOf(vm)
    const talk = this.talkBuf
    let n = 0
    for (let b = 0; b < nDc; b++) if (this.out[base + b] !== 0 || this.in[base + b] !== 0) talk[n++] = b
    for (let d = 0; d < nDc; d++) {
      let c = 0
      for (let k = 0; k < n; k++) {
        const b = talk[k]!
        c += this.out[base + b]! * pair[d * nDc + b]! + this.in[base + b]! * pair[b * nDc + d]!
      }
      into[d] = c
    }
    const here = into[from]!
    const origin = hostDc[vmHost[vm]!]!
    const migHere = this.model.migration(vm, origin, from)
    const dcLoadOn = this.model.weights.dcLoad !== 0
    const before = dcLoadOn ? this.model.dcLoad(this.dcMemUsed) : 0
    for (let d = 0; d < nDc; d++) {
      if (d === from) { into[d] = 0; continue }
      let delta = into[d]! - here + this.model.migration(vm, origin, d) - migHere
      if (dcLoadOn) {
        const m = vmMemory[vm]!
        this.dcMemUsed[from]! -= m; this.dcMemUsed[d]! += m
        delta += this.model.dcLoad(this.dcMemUsed) - before
        this.dcMemUsed[from]! += m; this.dcMemUsed[d]! -= m
      }
      into[d] = delta
    }
    return into
  }

  /** Moves `vm` to `host`, updating loads, neighbours' sums and the cost. */
  apply (vm: number, host: number): void {
    const inst = this.inst
    const { nDc, hostDc, route, adjStart, adjNode, adjOut, adjIn, vmMemory, vmVcpus, nVm } = inst
    const fromHost = this.hostOf[vm]!
    const from = hostDc[fromHost]!
    const to = hostDc[host]!
    this.cost += this.delta(vm, to)
    this.memUsed[fromHost]! -= vmMemory[vm]!; this.cpuUsed[fromHost]! -= vmVcpus[vm]!
    this.memUsed[host]! += vmMemory[vm]!; this.cpuUsed[host]! += vmVcpus[vm]!
    this.hostOf[vm] = host
    if (from === to) return
    this.rules?.moved(vm, from, to)
    this.dcMemUsed[from]! -= vmMemory[vm]!; this.dcMemUsed[to]! += vmMemory[vm]!
    const loads = this.loads
    const base = vm * nDc
    if (loads !== undefined) {
      for (let b = 0; b < nDc; b++) {
        const o = this.out[base + b]!; const i = this.in[base + b]!
        if (o !== 0) { shift(loads, route[from * nDc + b]!, -o); shift(loads, route[to * nDc + b]!, o) }
        if (i !== 0) { shift(loads, route[b * nDc + from]!, -i); shift(loads, route[b * nDc + to]!, i) }
      }
    }
    for (let k = adjStart[vm]!; k < adjStart[vm + 1]!; k++) {
      const v = adjNode[k]!
      if (v >= nVm) continue
      // Neighbour v sends adjIn[k] to vm and receives adjOut[k] from it.
      this.out[v * nDc + from]! -= adjIn[k]!; this.out[v * nDc + to]! += adjIn[k]!
      this.in[v * nDc + from]! -= adjOut[k]!; this.in[v * nDc + to]! += adjOut[k]!
    }
  }
}

function shift (load: Float64Array, links: Int32Array, bps: number): void {
  for (const l of links) load[l]! += bps
}
