/**
 * Turns a target placement into an ordered list of migrations that a cluster
 * can carry out one by one: each VM moves once, straight to its target, and
 * every host has room for each arrival at the moment it arrives.
 *
 * Moves go in priority order (the planner's best first) whenever their host
 * has room. A move whose host is still full may take another host in the same
 * DC (the cost only sees DCs). Moves left waiting on each other in a cycle
 * (full hosts swapping VMs) are dropped: carrying them out would need a VM
 * to stop twice, which the one-move-per-round invariant forbids.
 */
import type { Instance } from '../instance.ts'
import type { Placement } from '../placement.ts'

export interface Step {
  vm: number
  host: number
}

export interface Sequenced {
  steps: Step[]
  /** VMs whose move had to be dropped (they stay where they are). */
  dropped: number[]
}

export function sequenceMoves (inst: Instance, from: Int32Array, to: Int32Array, priority: number[]): Sequenced {
  const mem = new Float64Array(inst.nHost); const cpu = new Float64Array(inst.nHost)
  from.forEach((h, v) => { mem[h]! += inst.vmMemory[v]!; cpu[h]! += inst.vmVcpus[v]! })
  const fits = (v: number, h: number): boolean =>
    mem[h]! + inst.vmMemory[v]! <= inst.hostMemory[h]! && cpu[h]! + inst.vmVcpus[v]! <= inst.hostVcpus[h]!
  let pending = priority.filter(v => from[v] !== to[v])
  const steps: Step[] = []
  const place = (v: number, h: number): void => {
    const f = from[v]!
    mem[f]! -= inst.vmMemory[v]!; cpu[f]! -= inst.vmVcpus[v]!
    mem[h]! += inst.vmMemory[v]!; cpu[h]! += inst.vmVcpus[v]!
    steps.push({ vm: v, host: h })
  }
  while (pending.length > 0) {
    let progressed = false
    const waiting: number[] = []
    for (const v of pending) {
      if (fits(v, to[v]!)) { place(v, to[v]!); progressed = true } else waiting.push(v)
    }
    pending = waiting
    if (progressed) continue
    // Nothing fits where it was meant to go: try another host in the same DC.
    const v = pending.findIndex(v => sibling(inst, v, from[v]!, to[v]!, fits) >= 0)
    if (v < 0) break
    const vm = pending[v]!
    place(vm, sibling(inst, vm, from[vm]!, to[vm]!, fits))
    pending.splice(v, 1)
  }
  return { steps, dropped: pending }
}

function sibling (inst: Instance, v: number, origin: number, target: number, fits: (v: number, h: number) => boolean): number {
  let best = -1
  for (const h of inst.dcHosts[inst.hostDc[target]!]!) {
    if (h !== origin && h !== target && fits(v, h) && (best < 0 || h < best)) best = h
  }
  return best
}

/**
 * sequenceMoves on a live placement: steps are applied to `state` as they
 * go, so its cost is the cost of carrying the plan out.
 */
export function carryOut (state: Placement, to: Int32Array, priority: number[]): Sequenced {
  const inst = state.inst
  const from = Int32Array.from(state.hostOf)
  let pending = priority.filter(v => from[v] !== to[v])
  const steps: Step[] = []
  const place = (v: number, h: number): void => { state.apply(v, h); steps.push({ vm: v, host: h }) }
  while (pending.length > 0) {
    let progressed = false
    const waiting: number[] = []
    for (const v of pending) {
      if (state.fits(v, to[v]!)) { place(v, to[v]!); progressed = true } else waiting.push(v)
    }
    pending = waiting
    if (progressed) continue
    const i = pending.findIndex(v => sibling(inst, v, from[v]!, to[v]!, (x, h) => state.fits(x, h)) >= 0)
    if (i >= 0) {
      const vm = pending[i]!
      place(vm, sibling(inst, vm, from[vm]!, to[vm]!, (x, h) => state.fits(x, h)))
      pending.splice(i, 1)
      continue
    }
    break
  }
  return { steps, dropped: pending }
}
