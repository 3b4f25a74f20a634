/**
 * Hosts a placement search may exchange: two hosts in the same DC with the
 * same memory and vCPUs, neither holding a VM that never moves. The cost
 * depends on DCs only (lib/cost.ts), and which moves fit depends only on
 * sizes, so exchanging such hosts' contents gives a placement that costs
 * the same and leads to the same placements, exchanged alike. The reach
 * enumeration (reachable.ts) visits one placement of each such family:
 * web seed 15 (17 VMs on 4 DCs of 2 equal hosts, none fixed) has 38M of
 * them where the plain enumeration did not end within 16.8M placements.
 */
import type { Instance } from '../../../lib/instance.ts'

/** Sets of two or more exchangeable hosts; `domains` from hostDomains (a VM with one host never moves). */
export function equalHosts (inst: Instance, domains: readonly number[][]): number[][] {
  const holdsFixed = new Set(domains.flatMap(d => d.length === 1 ? [d[0]!] : []))
  const sets = new Map<string, number[]>()
  for (let h = 0; h < inst.nHost; h++) {
    if (holdsFixed.has(h)) continue
    const key = `${inst.hostDc[h]!}/${inst.hostMemory[h]!}/${inst.hostVcpus[h]!}`
    sets.set(key, [...(sets.get(key) ?? []), h])
  }
  return [...sets.values()].filter(s => s.length > 1)
}

/**
 * A function that writes `hostOf` into `into` with the hosts of each set
 * exchanged so that their contents come in one order: by the movable VMs
 * each holds (as bits of a number, the first movable VM the lowest bit),
 * largest first. Two placements that differ only by such exchanges come
 * out the same. Buffers are made once: it runs for every move tried.
 */
export function canonicalizer (sets: readonly number[][], movable: readonly number[], nHost: number): (hostOf: Int32Array, into: Int32Array) => void {
  const content = new Float64Array(nHost)
  const rename = new Int32Array(nHost)
  const bit = movable.map((_, k) => 2 ** k)
  return (hostOf, into) => {
    into.set(hostOf)
    if (sets.length === 0) return
    content.fill(0)
    movable.forEach((v, k) => { content[hostOf[v]!]! += bit[k]! })
    for (let h = 0; h < nHost; h++) rename[h] = h
    for (const set of sets) {
      const byContent = [...set].sort((a, b) => content[b]! - content[a]!)
      byContent.forEach((h, i) => { rename[h] = set[i]! })
    }
    for (const v of movable) into[v] = rename[hostOf[v]!]!
  }
}
