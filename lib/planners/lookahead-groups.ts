/**
 * The lookahead's whole-group steps (step 4 in lookahead.ts): applications
 * found from the traffic (lib/communities.ts) are moved to another DC, or
 * exchanged with a group living there, as one step. Group steps move many
 * VMs at once in no feasible order of their own, so only the first search,
 * whose result is sequenced, takes them.
 */
import type { SearchState } from './lookahead-state.ts'

/** Passes of whole-group moves and exchanges (see regroup()). */
export const REGROUP_PASSES = 4
/** Whole-group steps are tried on instances up to this many VMs: they cost groups x DCs x hosts per pass. */
export const REGROUP_MAX_VMS = 5000
/** Group exchanges are tried on instances up to this many VMs (they cost groups^2). */
export const EXCHANGE_MAX_VMS = 2000
/** Exchange partners tried per group and target DC. */
export const EXCHANGE_PARTNERS = 6

const EPS = 1e-12

/**
 * Whole-group steps: each group tries every DC, alone or in exchange with
 * a group living there; the best step that lowers the cost (by minGain per
 * VM moved) is kept. True if any was.
 */
export function regroup (search: SearchState, groups: number[][]): boolean {
  if (groups.length === 0) return false
  const exchanges = search.inst.nVm <= EXCHANGE_MAX_VMS
  const memory = groups.map(h => h.reduce((s, v) => s + search.inst.vmMemory[v]!, 0))
  // Where each group lives, as of this pass (kept current as groups move).
  const homes = groups.map(h => homeOf(search, h))
  let improved = false
  for (let gi = 0; gi < groups.length; gi++) {
    const g = groups[gi]!
    const home = homes[gi]!
    let best: { gain: number, moves: Array<[number, number]> } | undefined
    const consider = (moves: Array<[number, number]>): void => {
      const mark = search.trail.length
      const before = search.state.cost
      if (!relocate(search, moves)) return
      const gain = before - search.state.cost
      const moved = search.trail.length - mark
      search.undoTo(mark)
      if (gain > search.minGain * moved + EPS && (best === undefined || gain > best.gain + EPS)) best = { gain, moves }
    }
    for (let dc = 0; dc < search.inst.nDc; dc++) {
      const toDc = g.map(v => [v, dc] as [number, number])
      consider(toDc)
      if (!exchanges || dc === home) continue
      const size = memory[gi]!
      const partners = groups
        .map((h, i) => ({ h, i }))
        .filter(({ i }) => i !== gi && homes[i] === dc)
        .sort((a, b) => Math.abs(memory[a.i]! - size) - Math.abs(memory[b.i]! - size) || a.i - b.i)
        .slice(0, EXCHANGE_PARTNERS)
      for (const { h } of partners) consider([...toDc, ...h.map(v => [v, home] as [number, number])])
    }
    if (best !== undefined && relocate(search, (best as { moves: Array<[number, number]> }).moves)) {
      improved = true
      homes[gi] = homeOf(search, g)
      for (const [vm] of (best as { moves: Array<[number, number]> }).moves) {
        const j = groups.findIndex(h => h.includes(vm))
        if (j >= 0 && j !== gi) homes[j] = homeOf(search, groups[j]!)
      }
    }
  }
  return improved
}

/**
 * Moves `moves` (VM -> DC) as one step: hosts are chosen first-fit
 * decreasing over the room each target host will have once the movers
 * have left, so a set that only fits together (an exchange between full
 * DCs) is placed too. False, with nothing changed, when it does not fit or
 * breaks a move limit or a placement rule.
 */
function relocate (search: SearchState, moves: Array<[number, number]>): boolean {
  const { hostMemory, hostVcpus, vmMemory, vmVcpus, dcHosts } = search.inst
  const s = search.state
  const movers = moves.filter(([vm, dc]) => s.dcOf(vm) !== dc && search.movable(vm))
  if (movers.length === 0) return false
  const freeMem = new Map<number, number>(); const freeCpu = new Map<number, number>()
  const free = (h: number): void => {
    if (!freeMem.has(h)) { freeMem.set(h, hostMemory[h]! - s.memUsed[h]!); freeCpu.set(h, hostVcpus[h]! - s.cpuUsed[h]!) }
  }
  for (const [vm] of movers) {
    const h = s.hostOf[vm]!
    free(h)
    freeMem.set(h, freeMem.get(h)! + vmMemory[vm]!); freeCpu.set(h, freeCpu.get(h)! + vmVcpus[vm]!)
  }
  const order = [...movers].sort((a, b) => vmMemory[b[0]]! - vmMemory[a[0]]! || a[0] - b[0])
  const placed: Array<[number, number]> = []
  for (const [vm, dc] of order) {
    let best = -1; let bestFree = -Infinity
    for (const h of dcHosts[dc]!) {
      free(h)
      const m = freeMem.get(h)!; const c = freeCpu.get(h)!
      if (m >= vmMemory[vm]! && c >= vmVcpus[vm]! && m > bestFree) { best = h; bestFree = m }
    }
    if (best < 0) return false
    freeMem.set(best, freeMem.get(best)! - vmMemory[vm]!); freeCpu.set(best, freeCpu.get(best)! - vmVcpus[vm]!)
    placed.push([vm, best])
  }
  const mark = search.trail.length
  let kept = true
  for (const [vm, host] of placed) {
    // Placement rules hold move by move, as a plan carries the step out.
    if (!s.allowed(vm, search.inst.hostDc[host]!)) { kept = false; break }
    search.move(vm, host)
  }
  if (!kept || search.overLimits()) {
    search.undoTo(mark)
    return false
  }
  return true
}

/** The DC holding most of `members`' memory (ties: lower index). */
function homeOf (search: SearchState, members: number[]): number {
  const mem = new Float64Array(search.inst.nDc)
  for (const v of members) mem[search.state.dcOf(v)]! += search.inst.vmMemory[v]!
  let best = 0
  for (let d = 1; d < mem.length; d++) if (mem[d]! > mem[best]!) best = d
  return best
}