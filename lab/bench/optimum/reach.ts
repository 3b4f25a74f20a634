/**
 * Can the optimum be reached the way the planners work: one VM at a time,
 * each VM moving at most once, straight into its optimal DC (any host there
 * with room), every intermediate placement within host capacity? The cost
 * depends only on DCs, so any such end state is optimal. If no order works,
 * getting there needs a swap or a VM parked on a detour, which a plan of
 * single moves cannot express.
 *
 * Two depth-first searches over move orders, memoised and node-bounded:
 * first with each DC's hosts pooled into one (a relaxation: if even that is
 * stuck, the answer is a proven no), then with real hosts (a found order is
 * a proven yes). Anything else is 'unknown'.
 */
import type { Instance } from '../../../lib/instance.ts'

export interface Reach {
  verdict: 'direct' | 'blocked' | 'unknown'
  /** VMs whose DC differs between the start and the optimum. */
  moves: number
}

const NODE_BUDGET = 100_000

export function reach (inst: Instance, from: Int32Array, targetDc: Int32Array): Reach {
  const pending: number[] = []
  from.forEach((h, v) => { if (inst.hostDc[h] !== targetDc[v]) pending.push(v) })
  const pooled = search(inst, from, targetDc, pending, true)
  if (pooled === 'no') return { verdict: 'blocked', moves: pending.length }
  const hosts = search(inst, from, targetDc, pending, false)
  return { verdict: hosts === 'yes' ? 'direct' : hosts === 'no' ? 'blocked' : 'unknown', moves: pending.length }
}

/**
 * True when no plan of single moves, each VM at most once, can end with
 * every VM in targetDc, even with each DC's hosts pooled into one: a proof
 * (within the node budget; false means not proven).
 */
export function pooledBlocked (inst: Instance, from: Int32Array, targetDc: Int32Array): boolean {
  const pending: number[] = []
  from.forEach((h, v) => { if (inst.hostDc[h] !== targetDc[v]) pending.push(v) })
  return search(inst, from, targetDc, pending, true) === 'no'
}

/** Bins are hosts, or (pooled) whole DCs: bin b of VM v's current place. */
function search (inst: Instance, from: Int32Array, targetDc: Int32Array, pending: number[], pooled: boolean): 'yes' | 'no' | 'budget' {
  const { nHost, nDc, hostDc, dcHosts, vmMemory, vmVcpus, hostMemory, hostVcpus } = inst
  const nBin = pooled ? nDc : nHost
  const capMem = new Float64Array(nBin); const capCpu = new Float64Array(nBin)
  for (let h = 0; h < nHost; h++) { const b = pooled ? hostDc[h]! : h; capMem[b]! += hostMemory[h]!; capCpu[b]! += hostVcpus[h]! }
  const mem = new Float64Array(nBin); const cpu = new Float64Array(nBin)
  const bin = Int32Array.from(from, h => pooled ? hostDc[h]! : h)
  bin.forEach((b, v) => { mem[b]! += vmMemory[v]!; cpu[b]! += vmVcpus[v]! })
  const targets = (v: number): number[] => pooled ? [targetDc[v]!] : [...dcHosts[targetDc[v]!]!]
  const at = new Int32Array(pending.length).fill(-1)
  const seen = new Set<string>()
  let nodes = 0
  const put = (v: number, a: number, b: number): void => {
    mem[a]! -= vmMemory[v]!; cpu[a]! -= vmVcpus[v]!; mem[b]! += vmMemory[v]!; cpu[b]! += vmVcpus[v]!
  }
  const dfs = (left: number): boolean => {
    if (left === 0) return true
    const key = at.join(',')
    if (seen.has(key) || ++nodes > NODE_BUDGET) return false
    seen.add(key)
    for (let i = 0; i < pending.length; i++) {
      if (at[i]! >= 0) continue
      const v = pending[i]!
      // Roomiest host first, as the planners choose.
      const ts = targets(v).filter(b => mem[b]! + vmMemory[v]! <= capMem[b]! && cpu[b]! + vmVcpus[v]! <= capCpu[b]!)
        .sort((a, b) => (capMem[b]! - mem[b]!) - (capMem[a]! - mem[a]!) || a - b)
      for (const b of ts) {
        at[i] = b; put(v, bin[v]!, b)
        const ok = dfs(left - 1)
        at[i] = -1; put(v, b, bin[v]!)
        if (ok) return true
      }
    }
    return false
  }
  if (dfs(pending.length)) return 'yes'
  return nodes > NODE_BUDGET ? 'budget' : 'no'
}
