/**
 * Hosts for VMs whose DCs are chosen: pinned VMs where they are, then VMs
 * that stay in their own DC on their own host when it has room, then the
 * rest largest first onto the roomiest host of their DC. A placement found
 * DC by DC becomes one host by host, moving as few VMs as it can.
 */
import type { Instance } from '../instance.ts'

/**
 * The host of each VM given `dcOf`; undefined if some VM fits nowhere in its
 * DC, unless `spill`, when it goes to the roomiest host anywhere (undefined
 * only if none has room).
 */
export function packOntoHosts (inst: Instance, dcOf: Int32Array, spill = false): Int32Array | undefined {
  const { nVm, nHost, hostDc, hostMemory, hostVcpus, vmMemory, vmVcpus, vmHost, vmPinned, dcHosts } = inst
  const mem = new Float64Array(nHost); const cpu = new Float64Array(nHost)
  const hostOf = new Int32Array(nVm).fill(-1)
  const put = (v: number, h: number): void => { hostOf[v] = h; mem[h]! += vmMemory[v]!; cpu[h]! += vmVcpus[v]! }
  const fits = (v: number, h: number): boolean => mem[h]! + vmMemory[v]! <= hostMemory[h]! && cpu[h]! + vmVcpus[v]! <= hostVcpus[h]!
  const roomiest = (v: number, hosts: Iterable<number>): number => {
    let best = -1
    for (const h of hosts) if (fits(v, h) && (best < 0 || hostMemory[h]! - mem[h]! > hostMemory[best]! - mem[best]!)) best = h
    return best
  }
  for (let v = 0; v < nVm; v++) if (vmPinned[v] === 1) put(v, vmHost[v]!)
  const stays = (v: number): boolean => hostDc[vmHost[v]!] === dcOf[v]
  const order = Array.from({ length: nVm }, (_, v) => v).filter(v => vmPinned[v] === 0)
  order.sort((a, b) => Number(stays(b)) - Number(stays(a)) || vmMemory[b]! - vmMemory[a]! || a - b)
  const left: number[] = []
  for (const v of order) {
    const h = stays(v) && fits(v, vmHost[v]!) ? vmHost[v]! : roomiest(v, dcHosts[dcOf[v]!]!)
    if (h >= 0) put(v, h); else left.push(v)
  }
  if (left.length > 0 && !spill) return undefined
  const all = Array.from({ length: nHost }, (_, h) => h)
  for (const v of left) {
    const h = roomiest(v, all)
    if (h < 0) return undefined
    put(v, h)
  }
  return hostOf
}
