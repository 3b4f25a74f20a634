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
import { RuleCounts } from '../rule-counts.ts'

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

/**
 * carryOut for a placement whose hosts do not matter, only its DCs (the
 * cost sees DCs only): a VM already in its target DC stays where it is, a
 * VM bound elsewhere takes its hinted host if that has room, else the host
 * of its target DC it fills best. When nothing can move, one VM staying in
 * a DC is moved aside to another host there (once), if that lets a waiting
 * VM in: full hosts are often only fragmented, not full.
 */
export function carryOutToDcs (state: Placement, hint: Int32Array, priority: number[]): Sequenced {
  const inst = state.inst
  const { hostDc, dcHosts, hostMemory, vmMemory } = inst
  let pending = priority.filter(v => hostDc[hint[v]!] !== state.dcOf(v))
  const steps: Step[] = []
  const place = (v: number, h: number): void => { state.apply(v, h); steps.push({ vm: v, host: h }) }
  /** The hinted host if it fits, else the host of the DC left with least memory after v arrives. */
  const hostFor = (v: number, dc: number): number => {
    if (hostDc[hint[v]!] === dc && state.fits(v, hint[v]!)) return hint[v]!
    let best = -1; let left = Infinity
    for (const h of dcHosts[dc]!) {
      if (!state.fits(v, h)) continue
      const l = hostMemory[h]! - state.memUsed[h]! - vmMemory[v]!
      if (l < left) { best = h; left = l }
    }
    return best
  }
  while (pending.length > 0) {
    let progressed = false
    const waiting: number[] = []
    for (const v of pending) {
      const h = hostFor(v, hostDc[hint[v]!]!)
      if (h >= 0) { place(v, h); progressed = true } else waiting.push(v)
    }
    pending = waiting
    if (progressed) continue
    if (!makeRoom(state, pending, hint, place)) break
  }
  return { steps, dropped: pending }
}

/**
 * Moves one settled VM aside within its DC so that a waiting VM fits where
 * it left; false if none does. Only VMs still on their snapshot host may
 * go: a VM moves once per plan.
 */
function makeRoom (state: Placement, pending: number[], hint: Int32Array, place: (v: number, h: number) => void): boolean {
  const inst = state.inst
  const { hostDc, dcHosts, vmMemory, vmVcpus, hostMemory, hostVcpus, vmPinned, vmHost } = inst
  const isPending = new Uint8Array(inst.nVm)
  for (const v of pending) isPending[v] = 1
  // The VMs that may step aside, by host, in index order: gathered once,
  // not by a scan of every VM per host tried (with the application
  // assignment tried at 100,000 VMs, that scan was 390 s of a 451 s plan).
  const settled: Array<number[] | undefined> = new Array(inst.nHost)
  for (let u = 0; u < inst.nVm; u++) {
    const h = state.hostOf[u]!
    if (vmHost[u] !== h || isPending[u] === 1 || vmPinned[u] === 1) continue
    (settled[h] ??= []).push(u)
  }
  for (const v of pending) {
    const dc = hostDc[hint[v]!]!
    for (const h of dcHosts[dc]!) {
      const needMem = state.memUsed[h]! + vmMemory[v]! - hostMemory[h]!
      const needCpu = state.cpuUsed[h]! + vmVcpus[v]! - hostVcpus[h]!
      for (const u of settled[h] ?? []) {
        if (vmMemory[u]! < needMem || vmVcpus[u]! < needCpu) continue
        for (const h2 of dcHosts[dc]!) {
          if (h2 !== h && state.fits(u, h2)) { place(u, h2); return true }
        }
      }
    }
  }
  return false
}

/**
 * An order for all of a placement's moves by depth-first search (DCs
 * count, hosts are a hint): each VM bound for another DC tries its hinted
 * host, then the others there roomiest first, backtracking when the rest
 * cannot follow. If no order exists that way, the search runs again letting
 * VMs that stay in their DC step aside once to another host there, to make
 * room (only VMs still on their snapshot host: a VM moves once per plan).
 * Memoised on which VM went where, each search bounded by `budget` VMs
 * examined over all nodes; undefined when no order was found within it
 * (greedy orders then carry out what they can).
 */
export function carryOutBySearch (state: Placement, hint: Int32Array, priority: number[], budget: number): Sequenced | undefined {
  const order = searchOrder(state, hint, priority, budget, false) ?? searchOrder(state, hint, priority, budget, true)
  if (order === undefined) return undefined
  for (const { vm, host } of order) state.apply(vm, host)
  return { steps: order, dropped: [] }
}

function searchOrder (state: Placement, hint: Int32Array, priority: number[], budget: number, aside: boolean): Step[] | undefined {
  const inst = state.inst
  const { hostDc, dcHosts, vmMemory, vmVcpus, hostMemory, hostVcpus, vmHost, vmPinned } = inst
  const pending = priority.filter(v => hostDc[hint[v]!] !== state.dcOf(v))
  const must = pending.length
  if (aside) {
    const bound = new Uint8Array(inst.nVm)
    for (const v of pending) bound[v] = 1
    for (let v = 0; v < inst.nVm; v++) {
      if (bound[v] === 0 && vmPinned[v] === 0 && state.hostOf[v] === vmHost[v] && dcHosts[state.dcOf(v)]!.length > 1) pending.push(v)
    }
    if (pending.length === must) return undefined
  }
  const mem = Float64Array.from(state.memUsed); const cpu = Float64Array.from(state.cpuUsed)
  // Rules are checked on the search's own counts, as capacity is on its own books.
  const rules = inst.rules === undefined ? undefined : new RuleCounts(inst.rules, inst.nDc, v => state.dcOf(v))
  const at = new Int32Array(pending.length).fill(-1)
  const order: Step[] = []
  const seen = new Set<string>()
  let work = 0
  const keyOf = nodeKey(inst, pending.length)
  const shift = (v: number, a: number, b: number): void => {
    mem[a]! -= vmMemory[v]!; cpu[a]! -= vmVcpus[v]!; mem[b]! += vmMemory[v]!; cpu[b]! += vmVcpus[v]!
  }
  const dfs = (left: number): boolean => {
    if (left === 0) return true
    const key = keyOf(at)
    work += pending.length
    if (seen.has(key) || work > budget) return false
    seen.add(key)
    for (let i = 0; i < pending.length; i++) {
      if (at[i]! >= 0) continue
      const v = pending[i]!; const from = state.hostOf[v]!
      const dc = i < must ? hostDc[hint[v]!]! : hostDc[from]!
      const here = hostDc[from]!
      if (rules !== undefined && !rules.allows(v, here, dc)) continue
      const hosts: number[] = []
      for (const h of dcHosts[dc]!) if (h !== from && mem[h]! + vmMemory[v]! <= hostMemory[h]! && cpu[h]! + vmVcpus[v]! <= hostVcpus[h]!) hosts.push(h)
      hosts.sort((a, b) => Number(b === hint[v]) - Number(a === hint[v]) || (hostMemory[b]! - mem[b]!) - (hostMemory[a]! - mem[a]!) || a - b)
      for (const h of hosts) {
        at[i] = h; shift(v, from, h); order.push({ vm: v, host: h }); rules?.moved(v, here, dc)
        if (dfs(i < must ? left - 1 : left)) return true
        at[i] = -1; shift(v, h, from); order.pop(); rules?.moved(v, dc, here)
        if (work > budget) return false
      }
    }
    return false
  }
  return dfs(must) ? order : undefined
}

/**
 * The search's node as a string: one UTF-16 unit per VM (host + 1, below
 * the surrogates, so decoding is exact) where the hosts fit, decided once
 * per search so keys never mix forms; else joined. Exact like the join and
 * several times cheaper: the join was half of the search's time on 30-40
 * VMs.
 */
function nodeKey (inst: Instance, vms: number): (at: Int32Array) => string {
  if (inst.nHost >= 0xD7FF) return at => at.join(',')
  const units = new Uint16Array(vms)
  return at => {
    for (let i = 0; i < vms; i++) units[i] = at[i]! + 1
    return UTF16.decode(units)
  }
}

const UTF16 = new TextDecoder('utf-16le')
