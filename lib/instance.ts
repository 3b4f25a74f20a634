/**
 * A snapshot compiled into indexed arrays: DCs, links, hosts and VMs become
 * numbers, routes between DCs are resolved once, and each VM's traffic is an
 * adjacency list. Planners work on this, never on the JSON records.
 */
import type { Snapshot } from './model.ts'
import { type CompiledRules, compileRules } from './rule-counts.ts'

export interface Instance {
  readonly snapshot: Snapshot
  readonly dcIds: string[]
  readonly hostIds: string[]
  readonly vmIds: string[]
  readonly prefixIds: string[]
  readonly linkIds: string[]
  readonly nDc: number
  readonly nLink: number
  readonly nHost: number
  readonly nVm: number
  readonly linkFrom: Int32Array
  readonly linkTo: Int32Array
  readonly linkCapacity: Float64Array
  readonly linkLatencyMs: Float64Array
  readonly linkPricePerGB: Float64Array
  /** route[a * nDc + b]: the link indices traffic from DC a to DC b crosses. */
  readonly route: Int32Array[]
  readonly hostDc: Int32Array
  readonly hostMemory: Float64Array
  readonly hostVcpus: Float64Array
  readonly dcHosts: Int32Array[]
  readonly dcMemory: Float64Array
  readonly vmMemory: Float64Array
  readonly vmVcpus: Float64Array
  readonly vmPinned: Uint8Array
  /** Where each VM runs in the snapshot. */
  readonly vmHost: Int32Array
  /**
   * Traffic as adjacency: the neighbours of VM u are adjNode[adjStart[u] ..
   * adjStart[u+1]). A neighbour index below nVm is a VM; at or above it is the
   * external prefix (index - nVm), which stays at its DC (prefixDc).
   * adjOut is u -> neighbour in bit/s, adjIn neighbour -> u.
   */
  readonly adjStart: Int32Array
  readonly adjNode: Int32Array
  readonly adjOut: Float64Array
  readonly adjIn: Float64Array
  readonly prefixDc: Int32Array
  readonly totalBps: number
  /** Placement rules (rule-counts.ts); undefined when there are none. */
  readonly rules: CompiledRules | undefined
}

export function compile (snapshot: Snapshot): Instance {
  const dcIds = snapshot.dcs.map(d => d.id)
  const dcIndex = indexOf(dcIds)
  const nDc = dcIds.length
  const links = snapshot.links
  const linkFrom = Int32Array.from(links, l => dcIndex.get(l.from)!)
  const linkTo = Int32Array.from(links, l => dcIndex.get(l.to)!)
  const hostIds = snapshot.hosts.map(h => h.id)
  const hostIndex = indexOf(hostIds)
  const hostDc = Int32Array.from(snapshot.hosts, h => dcIndex.get(h.dc)!)
  const hostMemory = Float64Array.from(snapshot.hosts, h => h.memoryMiB)
  const dcHostLists: number[][] = dcIds.map(() => [])
  hostDc.forEach((d, h) => dcHostLists[d]!.push(h))
  const dcMemory = new Float64Array(nDc)
  hostDc.forEach((d, h) => { dcMemory[d]! += hostMemory[h]! })

  const vmIds = snapshot.vms.map(v => v.id)
  const prefixIds = snapshot.prefixes.map(p => p.id)
  const nVm = vmIds.length
  const nodeIndex = new Map<string, number>()
  vmIds.forEach((id, i) => nodeIndex.set(id, i))
  const rules = compileRules(snapshot, dcIndex, nodeIndex)
  prefixIds.forEach((id, i) => nodeIndex.set(id, nVm + i))

  // Merge flows into one undirected edge per unordered pair, keeping both
  // directions' rates, then lay them out per VM (CSR).
  const edges: Array<Map<number, { out: number, in: number }>> = Array.from({ length: nVm }, () => new Map())
  let totalBps = 0
  for (const f of snapshot.flows) {
    const s = nodeIndex.get(f.src)!
    const d = nodeIndex.get(f.dst)!
    totalBps += f.bps
    if (s < nVm) bump(edges[s]!, d, f.bps, 0)
    if (d < nVm) bump(edges[d]!, s, 0, f.bps)
  }
  const adjStart = new Int32Array(nVm + 1)
  for (let u = 0; u < nVm; u++) adjStart[u + 1] = adjStart[u]! + edges[u]!.size
  const m = adjStart[nVm]!
  const adjNode = new Int32Array(m)
  const adjOut = new Float64Array(m)
  const adjIn = new Float64Array(m)
  for (let u = 0; u < nVm; u++) {
    let k = adjStart[u]!
    for (const [v, r] of [...edges[u]!].sort((x, y) => x[0] - y[0])) {
      adjNode[k] = v; adjOut[k] = r.out; adjIn[k] = r.in; k++
    }
  }

  return {
    snapshot,
    dcIds,
    hostIds,
    vmIds,
    prefixIds,
    linkIds: links.map(l => `${l.from}->${l.to}`),
    nDc,
    nLink: links.length,
    nHost: hostIds.length,
    nVm,
    linkFrom,
    linkTo,
    linkCapacity: Float64Array.from(links, l => l.capacityBps),
    linkLatencyMs: Float64Array.from(links, l => l.latencyMs ?? 0),
    linkPricePerGB: Float64Array.from(links, l => l.pricePerGB ?? 0),
    route: routes(nDc, linkFrom, linkTo),
    hostDc,
    hostMemory,
    hostVcpus: Float64Array.from(snapshot.hosts, h => h.vcpus),
    dcHosts: dcHostLists.map(l => Int32Array.from(l)),
    dcMemory,
    vmMemory: Float64Array.from(snapshot.vms, v => v.memoryMiB),
    vmVcpus: Float64Array.from(snapshot.vms, v => v.vcpus),
    vmPinned: Uint8Array.from(snapshot.vms, v => v.pinned === true ? 1 : 0),
    vmHost: Int32Array.from(snapshot.vms, v => hostIndex.get(v.host)!),
    adjStart,
    adjNode,
    adjOut,
    adjIn,
    prefixDc: Int32Array.from(snapshot.prefixes, p => dcIndex.get(p.dc)!),
    totalBps,
    rules
  }
}

function indexOf (ids: string[]): Map<string, number> {
  return new Map(ids.map((id, i) => [id, i]))
}

function bump (m: Map<number, { out: number, in: number }>, k: number, out: number, inb: number): void {
  const e = m.get(k)
  if (e === undefined) m.set(k, { out, in: inb })
  else { e.out += out; e.in += inb }
}

/**
 * Fewest-hop routes between every ordered pair of DCs (breadth-first; ties
 * go to the link listed first, so routes are deterministic). A direct link
 * is always the route when it exists.
 */
function routes (nDc: number, from: Int32Array, to: Int32Array): Int32Array[] {
  const out: Int32Array[] = new Array(nDc * nDc)
  for (let a = 0; a < nDc; a++) {
    const via = new Int32Array(nDc).fill(-1)
    const seen = new Uint8Array(nDc)
    seen[a] = 1
    const queue = [a]
    for (let qi = 0; qi < queue.length; qi++) {
      const x = queue[qi]!
      for (let l = 0; l < from.length; l++) {
        if (from[l] === x && seen[to[l]!] === 0) { seen[to[l]!] = 1; via[to[l]!] = l; queue.push(to[l]!) }
      }
    }
    for (let b = 0; b < nDc; b++) {
      const path: number[] = []
      for (let x = b; x !== a && via[x]! >= 0; x = from[via[x]!]!) path.unshift(via[x]!)
      out[a * nDc + b] = Int32Array.from(a === b ? [] : path)
    }
  }
  return out
}
