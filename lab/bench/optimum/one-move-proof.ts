/**
 * Proves a DC assignment unreachable by any plan of heliotrope's kind: each
 * VM moves at most once, one at a time, every host within capacity at every
 * step. A VM bound for another DC moves once, to any host there; a VM staying
 * in its DC may move once to another host there (to make room) or not at
 * all. Exhaustive depth-first search over the states (where each VM is),
 * memoised; 'unknown' when the node budget runs out first.
 */
import type { Instance } from '../../../lib/instance.ts'

export function provenUnreachable (inst: Instance, targetDc: Int32Array, budget: number): 'unreachable' | 'reachable' | 'unknown' {
  const { nVm, hostDc, dcHosts, vmMemory, vmVcpus, hostMemory, hostVcpus, vmHost, vmPinned } = inst
  // Candidates: VMs that must move, and VMs that may step aside in their DC (movable, DC with 2+ hosts).
  const must: number[] = []; const may: number[] = []
  for (let v = 0; v < nVm; v++) {
    if (hostDc[vmHost[v]!] !== targetDc[v]) { if (vmPinned[v] === 1) return 'unreachable'; must.push(v) } else if (vmPinned[v] === 0 && dcHosts[targetDc[v]!]!.length > 1) may.push(v)
  }
  const vms = [...must, ...may]
  const mem = new Float64Array(inst.nHost); const cpu = new Float64Array(inst.nHost)
  for (let v = 0; v < nVm; v++) { mem[vmHost[v]!]! += vmMemory[v]!; cpu[vmHost[v]!]! += vmVcpus[v]! }
  const at = new Int32Array(vms.length).fill(-1)
  const seen = new Set<string>()
  let nodes = 0; let left = must.length
  const dfs = (): boolean => {
    if (left === 0) return true
    const key = at.join(',')
    if (seen.has(key)) return false
    if (++nodes > budget) throw new Error('budget')
    seen.add(key)
    for (let i = 0; i < vms.length; i++) {
      if (at[i]! >= 0) continue
      const v = vms[i]!; const from = vmHost[v]!
      for (const h of dcHosts[targetDc[v]!]!) {
        if (h === from || mem[h]! + vmMemory[v]! > hostMemory[h]! || cpu[h]! + vmVcpus[v]! > hostVcpus[h]!) continue
        at[i] = h; mem[from]! -= vmMemory[v]!; cpu[from]! -= vmVcpus[v]!; mem[h]! += vmMemory[v]!; cpu[h]! += vmVcpus[v]!
        if (i < must.length) left--
        const ok = dfs()
        if (i < must.length) left++
        at[i] = -1; mem[from]! += vmMemory[v]!; cpu[from]! += vmVcpus[v]!; mem[h]! -= vmMemory[v]!; cpu[h]! -= vmVcpus[v]!
        if (ok) return true
      }
    }
    return false
  }
  try {
    return dfs() ? 'reachable' : 'unreachable'
  } catch {
    return 'unknown'
  }
}
