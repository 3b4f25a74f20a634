/**
 * The cost function (thesis 4.2.2). The default is the thesis's: the average
 * loading factor of all inter-DC links. Other terms from the thesis's list
 * join it with weights. Every term but DC load is linear in the traffic, so a
 * bit/s flowing from DC a to DC b costs the same fixed amount `pair[a][b]`
 * whatever else happens; that is what makes moves cheap to evaluate.
 *
 * Units (so weights mean something):
 * - bandwidth: mean over links of load / capacity (the thesis's cost).
 * - latency:   traffic-weighted mean one-way WAN latency, in seconds.
 * - price:     WAN transfer spend per hour at the current rates.
 * - dcLoad:    variance across DCs of memory utilisation (0..0.25).
 * - migration: a move's memory copy spread over `amortizeSeconds` and
 *              counted like traffic on the links it crosses (bandwidth units).
 */
import type { Instance } from './instance.ts'

export interface CostWeights {
  bandwidth: number
  latency: number
  price: number
  dcLoad: number
  migration: number
}

export const DEFAULT_WEIGHTS: CostWeights = { bandwidth: 1, latency: 0, price: 0, dcLoad: 0, migration: 0 }
/** The period over which a migration's one-off copy is amortised. */
export const DEFAULT_AMORTIZE_SECONDS = 3600

export interface CostOptions {
  weights?: Partial<CostWeights>
  amortizeSeconds?: number
}

const BITS_PER_MIB = 8 * 1024 * 1024

/** Per-instance constants of the cost function. */
export class CostModel {
  readonly weights: CostWeights
  /** pair[a * nDc + b]: cost of one bit/s sent from DC a to DC b. */
  readonly pair: Float64Array
  /** loadWeight[a * nDc + b]: bandwidth-term cost of one bit/s (for migration copies). */
  private readonly loadWeight: Float64Array
  private readonly amortizeSeconds: number
  readonly instance: Instance

  constructor (instance: Instance, opts: CostOptions = {}) {
    this.instance = instance
    this.weights = { ...DEFAULT_WEIGHTS, ...opts.weights }
    this.amortizeSeconds = opts.amortizeSeconds ?? DEFAULT_AMORTIZE_SECONDS
    const { nDc, nLink, route, linkCapacity, linkLatencyMs, linkPricePerGB, totalBps } = instance
    const w = this.weights
    this.pair = new Float64Array(nDc * nDc)
    this.loadWeight = new Float64Array(nDc * nDc)
    for (let i = 0; i < nDc * nDc; i++) {
      let load = 0; let latency = 0; let price = 0
      for (const l of route[i]!) {
        load += 1 / (linkCapacity[l]! * nLink)
        latency += linkLatencyMs[l]! / 1000
        price += linkPricePerGB[l]! * 3600 / 8e9
      }
      this.loadWeight[i] = load
      this.pair[i] = w.bandwidth * load + (totalBps > 0 ? w.latency * latency / totalBps : 0) + w.price * price
    }
  }

  /** The one-off cost of VM `vm` having moved from DC `from` to DC `to`. */
  migration (vm: number, from: number, to: number): number {
    if (from === to || this.weights.migration === 0) return 0
    const bps = this.instance.vmMemory[vm]! * BITS_PER_MIB / this.amortizeSeconds
    return this.weights.migration * bps * this.loadWeight[from * this.instance.nDc + to]!
  }

  /** The DC-load term from per-DC used memory. */
  dcLoad (dcMemUsed: Float64Array): number {
    if (this.weights.dcLoad === 0) return 0
    const { nDc, dcMemory } = this.instance
    let s1 = 0; let s2 = 0
    for (let d = 0; d < nDc; d++) {
      const u = dcMemory[d]! > 0 ? dcMemUsed[d]! / dcMemory[d]! : 0
      s1 += u; s2 += u * u
    }
    return this.weights.dcLoad * (s2 / nDc - (s1 / nDc) ** 2)
  }
}

export interface CostBreakdown {
  total: number
  bandwidth: number
  latency: number
  price: number
  dcLoad: number
  migration: number
  /** Load of each link in bit/s, in the instance's link order. */
  linkLoad: Float64Array
}

/**
 * Evaluates the cost of a placement from scratch: O(flows x route length).
 * `hostOf[vm]` is each VM's host index. Planners use incremental deltas; this
 * is the reference they are checked against.
 */
export function evaluate (model: CostModel, hostOf: Int32Array): CostBreakdown {
  const inst = model.instance
  const { nDc, nLink, nVm, route, hostDc, adjStart, adjNode, adjOut, adjIn, prefixDc, vmHost, linkCapacity, linkLatencyMs, linkPricePerGB, vmMemory } = inst
  const linkLoad = new Float64Array(nLink)
  const dcOfNode = (v: number): number => v < nVm ? hostDc[hostOf[v]!]! : prefixDc[v - nVm]!
  let latencyBits = 0
  const addTraffic = (a: number, b: number, bps: number): void => {
    for (const l of route[a * nDc + b]!) { linkLoad[l]! += bps; latencyBits += bps * linkLatencyMs[l]! / 1000 }
  }
  for (let u = 0; u < nVm; u++) {
    const du = hostDc[hostOf[u]!]!
    for (let k = adjStart[u]!; k < adjStart[u + 1]!; k++) {
      const v = adjNode[k]!
      const dv = dcOfNode(v)
      // Each VM-VM edge appears twice (once per end): count it from the lower
      // index only. Prefix edges appear once, at the VM.
      if (v < nVm && v < u) continue
      addTraffic(du, dv, adjOut[k]!)
      addTraffic(dv, du, adjIn[k]!)
    }
  }
  let loadSum = 0; let priceSum = 0
  for (let l = 0; l < nLink; l++) {
    loadSum += linkLoad[l]! / linkCapacity[l]!
    priceSum += linkLoad[l]! * linkPricePerGB[l]! * 3600 / 8e9
  }
  const w = model.weights
  const bandwidth = nLink > 0 ? loadSum / nLink : 0
  const latency = inst.totalBps > 0 ? latencyBits / inst.totalBps : 0
  const dcMemUsed = new Float64Array(nDc)
  let migration = 0
  for (let u = 0; u < nVm; u++) {
    const d = hostDc[hostOf[u]!]!
    dcMemUsed[d]! += vmMemory[u]!
    migration += model.migration(u, hostDc[vmHost[u]!]!, d)
  }
  const dcLoad = model.dcLoad(dcMemUsed)
  return {
    total: w.bandwidth * bandwidth + w.latency * latency + w.price * priceSum + dcLoad + migration,
    bandwidth,
    latency,
    price: priceSum,
    dcLoad: w.dcLoad === 0 ? 0 : dcLoad / w.dcLoad,
    migration,
    linkLoad
  }
}
