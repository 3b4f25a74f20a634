/**
 * From an optimal DC per VM to concrete hosts. The cost is already fixed by
 * the DCs; among the host assignments that fit we want the one that moves
 * the fewest VMs (so the optimum is compared with the planners' moves
 * fairly, and its reachability is not spoiled by needless shuffles). An
 * assignment built from the pattern counts always exists and is the
 * fallback when the small move-minimising ILP runs out of time.
 */
import type { Instance } from '../../../lib/instance.ts'
import { solveMip } from './glpk.ts'
import { LpModel, type Term } from './lp.ts'
import type { Packing } from './patterns.ts'

/** Hosts from pattern counts: `uses[c][p]` hosts of class c take pattern p. */
export function hostsFromPatterns (inst: Instance, pack: Packing, dcOf: Int32Array, uses: number[][]): Int32Array {
  const hostOf = Int32Array.from(inst.vmHost)
  // Waiting VMs per (DC, type), those already on a host first taken by that host.
  const waiting = new Map<string, Set<number>>()
  for (let v = 0; v < inst.nVm; v++) {
    const t = pack.typeOf[v]!
    if (t < 0) continue
    const k = `${dcOf[v]}/${t}`
    if (!waiting.has(k)) waiting.set(k, new Set())
    waiting.get(k)!.add(v)
  }
  pack.classes.forEach((c, ci) => {
    let next = 0
    uses[ci]!.forEach((n, p) => {
      for (let i = 0; i < n; i++) {
        const h = c.hosts[next++]!
        c.patterns[p]!.forEach((count, t) => {
          const pool = waiting.get(`${c.dc}/${t}`)
          if (pool === undefined) return
          const mine = [...pool].filter(v => inst.vmHost[v] === h)
          const order = [...mine, ...[...pool].filter(v => inst.vmHost[v] !== h)]
          for (const v of order.slice(0, count)) { hostOf[v] = h; pool.delete(v) }
        })
      }
    })
  })
  for (const [k, pool] of waiting) if (pool.size > 0) throw new Error(`hosts: patterns leave ${pool.size} VMs of ${k} without a host`)
  return hostOf
}

/** The assignment to hosts in the given DCs that moves the fewest VMs; undefined if not found in time. */
export async function fewestMoves (inst: Instance, dcOf: Int32Array, timeLimit: number): Promise<Int32Array | undefined> {
  const { nVm, nHost, dcHosts, vmHost, vmPinned, vmMemory, vmVcpus, hostMemory, hostVcpus } = inst
  const lp = new LpModel()
  const x: Array<Array<readonly [number, number]>> = []
  const mem: Term[][] = Array.from({ length: nHost }, () => []); const cpu: Term[][] = Array.from({ length: nHost }, () => [])
  for (let v = 0; v < nVm; v++) {
    const hosts = vmPinned[v] === 1 ? [vmHost[v]!] : [...dcHosts[dcOf[v]!]!].filter(h => vmMemory[v]! <= hostMemory[h]! && vmVcpus[v]! <= hostVcpus[h]!)
    x.push(hosts.map(h => {
      const j = lp.variable(`x${v}_${h}`, { kind: 'binary' })
      if (h !== vmHost[v]) lp.cost(j, 1)
      mem[h]!.push([vmMemory[v]!, j]); cpu[h]!.push([vmVcpus[v]!, j])
      return [h, j] as const
    }))
    lp.constraint(`one${v}`, x[v]!.map(([, j]) => [1, j] as const), '=', 1)
  }
  for (let h = 0; h < nHost; h++) {
    if (mem[h]!.length > 0) lp.constraint(`mem${h}`, mem[h]!, '<=', hostMemory[h]!)
    if (cpu[h]!.length > 0) lp.constraint(`cpu${h}`, cpu[h]!, '<=', hostVcpus[h]!)
  }
  const r = await solveMip(lp, { timeLimit })
  if (r.status !== 'optimal' && r.status !== 'feasible') return undefined
  return Int32Array.from(x, xs => xs.find(([, j]) => r.values[j]! > 0.5)![0])
}
