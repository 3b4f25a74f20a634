/**
 * Host packing by patterns, the aggregation that makes the exact model
 * small. Which host a VM lands on never changes the cost (only its DC does),
 * and VMs come in a few sizes, so instead of one binary per VM and host
 * (with every permutation of identical hosts an equivalent solution for the
 * solver to wade through) we count, per DC, how many hosts use each packing
 * pattern: a maximal multiset of VM sizes that fits one host. A DC can take
 * a set of VMs exactly when some choice of patterns for its hosts covers the
 * VMs' sizes, so the model stays exact.
 */
import type { Instance } from '../../../lib/instance.ts'

/** A VM size: the VMs of one type are interchangeable for packing. */
export interface VmType { memory: number, vcpus: number }

/** Hosts of one DC with the same free capacity (after pinned VMs). */
export interface HostClass {
  dc: number
  hosts: number[]
  memory: number
  vcpus: number
  /** Maximal patterns: counts per type. */
  patterns: number[][]
}

export interface Packing {
  types: VmType[]
  /** typeOf[v]: the type of a movable VM, -1 for pinned ones. */
  typeOf: Int32Array
  classes: HostClass[]
}

export function packing (inst: Instance): Packing {
  const { nVm, nHost, vmMemory, vmVcpus, vmPinned, vmHost, hostMemory, hostVcpus, hostDc } = inst
  const types: VmType[] = []
  const key = new Map<string, number>()
  const typeOf = new Int32Array(nVm).fill(-1)
  const supply: number[] = []
  for (let v = 0; v < nVm; v++) {
    if (vmPinned[v] === 1) continue
    const k = `${vmMemory[v]}/${vmVcpus[v]}`
    if (!key.has(k)) { key.set(k, types.length); types.push({ memory: vmMemory[v]!, vcpus: vmVcpus[v]! }); supply.push(0) }
    typeOf[v] = key.get(k)!
    supply[typeOf[v]!]!++
  }
  // Pinned VMs stay, so their host offers only what is left.
  const freeMem = Float64Array.from(hostMemory); const freeCpu = Float64Array.from(hostVcpus)
  for (let v = 0; v < nVm; v++) {
    if (vmPinned[v] === 1) { freeMem[vmHost[v]!]! -= vmMemory[v]!; freeCpu[vmHost[v]!]! -= vmVcpus[v]! }
  }
  const byKey = new Map<string, HostClass>()
  for (let h = 0; h < nHost; h++) {
    const k = `${hostDc[h]}/${freeMem[h]}/${freeCpu[h]}`
    let c = byKey.get(k)
    if (c === undefined) {
      c = { dc: hostDc[h]!, hosts: [], memory: freeMem[h]!, vcpus: freeCpu[h]!, patterns: maximalPatterns(types, supply, freeMem[h]!, freeCpu[h]!) }
      byKey.set(k, c)
    }
    c.hosts.push(h)
  }
  return { types, typeOf, classes: [...byKey.values()].filter(c => c.patterns.length > 0) }
}

/** Every multiset of types that fits (memory, vcpus) and takes no more of any type; only maximal ones. */
export function maximalPatterns (types: VmType[], supply: number[], memory: number, vcpus: number): number[][] {
  const out: number[][] = []
  const counts = new Array<number>(types.length).fill(0)
  const walk = (t: number, mem: number, cpu: number): void => {
    if (t === types.length) {
      const maximal = types.every((ty, i) => counts[i]! >= supply[i]! || ty.memory > mem || ty.vcpus > cpu)
      if (maximal && counts.some(c => c > 0)) out.push([...counts])
      return
    }
    const ty = types[t]!
    for (let k = 0; k <= supply[t]! && k * ty.memory <= mem && k * ty.vcpus <= cpu; k++) {
      counts[t] = k
      walk(t + 1, mem - k * ty.memory, cpu - k * ty.vcpus)
    }
    counts[t] = 0
  }
  walk(0, memory, vcpus)
  return out
}
