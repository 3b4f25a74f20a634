/**
 * Checks the ILP against brute force on tiny instances (every placement of
 * 7-9 VMs on 4-6 hosts), with pinned VMs and the linear extra cost terms, so
 * the aggregated model's exactness is tested, not just argued.
 *
 *   node lab/bench/optimum/selfcheck.ts
 */
import { type CostOptions, CostModel, evaluate } from '../../../lib/cost.ts'
import { compile, type Instance } from '../../../lib/instance.ts'
import { SCENARIO_KINDS } from '../../../lib/scenario.ts'
import { solveOptimum } from './ilp.ts'
import { benchCase } from './instances.ts'

function bruteForce (inst: Instance, opts: CostOptions): number {
  const model = new CostModel(inst, opts)
  const hostOf = new Int32Array(inst.nVm)
  const mem = new Float64Array(inst.nHost); const cpu = new Float64Array(inst.nHost)
  let best = Infinity
  const place = (v: number): void => {
    if (v === inst.nVm) { best = Math.min(best, evaluate(model, hostOf).total); return }
    for (let h = 0; h < inst.nHost; h++) {
      if (inst.vmPinned[v] === 1 && h !== inst.vmHost[v]) continue
      if (mem[h]! + inst.vmMemory[v]! > inst.hostMemory[h]! || cpu[h]! + inst.vmVcpus[v]! > inst.hostVcpus[h]!) continue
      mem[h]! += inst.vmMemory[v]!; cpu[h]! += inst.vmVcpus[v]!; hostOf[v] = h
      place(v + 1)
      mem[h]! -= inst.vmMemory[v]!; cpu[h]! -= inst.vmVcpus[v]!
    }
  }
  place(0)
  return best
}

let failed = 0
for (const kind of SCENARIO_KINDS) {
  for (let seed = 1; seed <= 4; seed++) {
    let inst = benchCase(kind, seed <= 2 ? 7 : 9, seed % 2 === 0 ? 2 : 3, seed, 1.1).inst
    if (seed % 2 === 1) {
      const snap = structuredClone(inst.snapshot)
      snap.vms[0]!.pinned = true; snap.vms[3]!.pinned = true
      inst = compile(snap)
    }
    const cost: CostOptions = seed >= 3 ? { weights: { migration: 0.5, latency: 0.3, price: 0.2 } } : {}
    const ilp = await solveOptimum(inst, { timeLimit: 30, args: ['--pcost'], hostTimeLimit: 5, cost })
    const brute = bruteForce(inst, cost)
    const ok = ilp.status === 'optimal' && Math.abs(ilp.cost - brute) <= 1e-9 * brute
    if (!ok) failed++
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${kind} seed ${seed}: ${inst.nVm} VMs on ${inst.nHost} hosts, ilp ${ilp.cost} (${ilp.status}), brute force ${brute}`)
  }
}
if (failed > 0) { console.error(`${failed} mismatches`); process.exit(1) }
