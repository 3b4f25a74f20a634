/**
 * The best placement any executable plan can reach: every placement that
 * single live migrations can lead to from the start (any VM but a pinned
 * one, to any host with room, as often as it likes: detours and moves
 * aside included), never over a host's memory or vCPUs, enumerated
 * breadth first, and the cheapest of them. Where the enumeration is
 * complete this is a proof: no plan of single moves ends lower, whatever
 * the integer program's optimum (which may need VMs to trade places
 * between full hosts at once). Where it is capped, the cheapest found so
 * far is only an upper bound on that best.
 *
 * A placement is coded as one number, host indices in base nHost, while
 * nHost^nVm stays below 2^53 (the benches' 12-40 VMs on up to 16 hosts
 * mostly do); a move changes the code by (to - from) * nHost^vm.
 */
import { type CostModel, evaluate } from '../../../lib/cost.ts'

export interface Reachable {
  /** Every reachable placement was seen (a proof), or the enumeration stopped at the cap. */
  complete: boolean
  /** Placements seen. */
  states: number
  /** The cheapest of them, and where. */
  best: number
  bestHostOf: Int32Array
}

/** Undefined when the placements do not fit one number (nHost^nVm at least 2^53) or the instance has placement rules (not modelled here). */
export function bestReachable (model: CostModel, maxStates: number): Reachable | undefined {
  const inst = model.instance
  const { nVm, nHost, hostMemory, hostVcpus, vmMemory, vmVcpus, vmPinned, vmHost } = inst
  if (inst.rules !== undefined || nVm * Math.log2(nHost) >= 53) return undefined
  const place = Array.from({ length: nVm }, (_, v) => nHost ** v)
  const encode = (hostOf: Int32Array): number => hostOf.reduce((c, h, v) => c + h * place[v]!, 0)
  const decode = (code: number, into: Int32Array): void => {
    for (let v = 0; v < nVm; v++) { into[v] = code % nHost; code = Math.floor(code / nHost) }
  }
  const start = encode(vmHost)
  const seen = new Set<number>([start])
  const queue: number[] = [start]
  const hostOf = new Int32Array(nVm)
  const mem = new Float64Array(nHost); const cpu = new Float64Array(nHost)
  let best = Infinity; let bestCode = start
  for (let i = 0; i < queue.length; i++) {
    const code = queue[i]!
    decode(code, hostOf)
    const cost = evaluate(model, hostOf).total
    if (cost < best) { best = cost; bestCode = code }
    if (seen.size >= maxStates) continue
    mem.fill(0); cpu.fill(0)
    hostOf.forEach((h, v) => { mem[h]! += vmMemory[v]!; cpu[h]! += vmVcpus[v]! })
    for (let v = 0; v < nVm; v++) {
      if (vmPinned[v] === 1) continue
      const from = hostOf[v]!
      for (let h = 0; h < nHost; h++) {
        if (h === from || mem[h]! + vmMemory[v]! > hostMemory[h]! || cpu[h]! + vmVcpus[v]! > hostVcpus[h]!) continue
        const next = code + (h - from) * place[v]!
        if (!seen.has(next) && seen.size < maxStates) { seen.add(next); queue.push(next) }
      }
    }
  }
  // Complete only if no placement was left out for the cap: then every one seen was expanded.
  const complete = seen.size < maxStates
  const bestHostOf = new Int32Array(nVm)
  decode(bestCode, bestHostOf)
  return { complete, states: seen.size, best, bestHostOf }
}
