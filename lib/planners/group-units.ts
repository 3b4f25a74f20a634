/**
 * The units group-assign.ts moves between DCs, and how the units it puts
 * in a DC land on that DC's hosts. A unit is a group of VMs that talk to
 * each other (lib/communities.ts), cut into pieces where it is too large to
 * live whole in any DC, or one VM outside every group.
 */
import type { Instance } from '../instance.ts'

/** A unit takes at most this share of the smallest DC's memory. */
export const MAX_UNIT_SHARE = 0.5

export interface Units {
  /** Each unit's VMs. */
  units: number[][]
  /** Each VM's unit, -1 for a VM that may not move. */
  unitOf: Int32Array
}

/** The units of `groups` (and of each movable VM in none), over the VMs `free` lets move. */
export function formUnits (inst: Instance, groups: readonly number[][], free: (v: number) => boolean): Units {
  const units: number[][] = []
  const unitOf = new Int32Array(inst.nVm).fill(-1)
  // A group too large for half a DC cannot live whole anywhere: it goes in pieces.
  let smallest = Infinity
  for (const hosts of inst.dcHosts) smallest = Math.min(smallest, hosts.reduce((a, h) => a + inst.hostMemory[h]!, 0))
  for (const members of groups) {
    const m = members.filter(v => free(v) && unitOf[v] === -1)
    for (const piece of pieces(inst, m, smallest * MAX_UNIT_SHARE)) {
      for (const v of piece) unitOf[v] = units.length
      units.push(piece)
    }
  }
  for (let v = 0; v < inst.nVm; v++) if (free(v) && unitOf[v] === -1) { unitOf[v] = units.length; units.push([v]) }
  return { units, unitOf }
}

/**
 * Hosts in DC d for `vms` (the movable VMs of the units placed there), the
 * VMs that may not move staying where `start` has them. With `stay`, each
 * first on its starting host if that is in d and has room, the rest
 * largest first onto the roomiest host; without, all largest first onto
 * the host they fill best (tighter, for DCs that are nearly full).
 * Undefined if they do not fit.
 */
export function packOntoDc (inst: Instance, start: Int32Array, unitOf: Int32Array, vms: readonly number[], d: number, stay: boolean): Array<[number, number]> | undefined {
  const { dcHosts, hostMemory, hostVcpus, vmMemory, vmVcpus, nVm, hostDc } = inst
  const hosts = dcHosts[d]!
  const mem = Float64Array.from(hostMemory); const cpu = Float64Array.from(hostVcpus)
  for (let v = 0; v < nVm; v++) {
    const h = start[v]!
    if (unitOf[v] === -1 && hostDc[h] === d) { mem[h]! -= vmMemory[v]!; cpu[h]! -= vmVcpus[v]! }
  }
  const order = [...vms].sort((a, b) => vmMemory[b]! - vmMemory[a]! || vmVcpus[b]! - vmVcpus[a]! || a - b)
  const out: Array<[number, number]> = []
  const rest: number[] = []
  const fits = (v: number, h: number): boolean => mem[h]! >= vmMemory[v]! && cpu[h]! >= vmVcpus[v]!
  const put = (v: number, h: number): void => { mem[h]! -= vmMemory[v]!; cpu[h]! -= vmVcpus[v]!; out.push([v, h]) }
  for (const v of order) {
    const h = start[v]!
    if (stay && hostDc[h] === d && fits(v, h)) put(v, h); else rest.push(v)
  }
  for (const v of rest) {
    let best = -1
    for (const h of hosts) {
      if (!fits(v, h)) continue
      if (best < 0 || (stay ? mem[h]! > mem[best]! : mem[h]! < mem[best]!)) best = h
    }
    if (best < 0) return undefined
    put(v, best)
  }
  return out
}

/**
 * Members in breadth-first order over their traffic among themselves (so
 * VMs that talk stay together), cut into pieces of at most `limit` memory.
 */
function pieces (inst: Instance, members: number[], limit: number): number[][] {
  const { vmMemory, adjStart, adjNode } = inst
  const inGroup = new Set(members)
  const seen = new Set<number>()
  const order: number[] = []
  for (const root of members) {
    if (seen.has(root)) continue
    seen.add(root)
    for (let q = order.push(root) - 1; q < order.length; q++) {
      const v = order[q]!
      for (let k = adjStart[v]!; k < adjStart[v + 1]!; k++) {
        const w = adjNode[k]!
        if (inGroup.has(w) && !seen.has(w)) { seen.add(w); order.push(w) }
      }
    }
  }
  const out: number[][] = []
  let cur: number[] = []; let mem = 0
  for (const v of order) {
    if (cur.length > 0 && mem + vmMemory[v]! > limit) { out.push(cur); cur = []; mem = 0 }
    cur.push(v); mem += vmMemory[v]!
  }
  if (cur.length > 0) out.push(cur)
  return out
}
