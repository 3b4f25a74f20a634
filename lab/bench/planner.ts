/**
 * `npm run bench:planner`: both planners on the thesis scenario at 100, 1k
 * and 10k VMs on 4 DCs and 100k VMs on 16 DCs; then, for 10k VMs, the cost
 * after k moves for both (the curve of cost against moves). Each case runs in
 * its own process. Targets for the lookahead planner on 2 cores: 10k/4 DCs
 * under 100 ms, 100k/16 DCs under 5 s.
 */
import { execFileSync } from 'node:child_process'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { compile } from '../../lib/instance.ts'
import { generate, type ScenarioKind } from '../../lib/scenario.ts'
import { bestCostAfterMoves } from './move-bound.ts'
import { startBenchReport } from './report.ts'
import { table } from './text-table.ts'

/** Writes this run into docs/benchmarks.md at the end (--no-write: not). */
const report = startBenchReport('planner')

const CASE = fileURLToPath(new URL('./planner-case.ts', import.meta.url))
const SIZES: Array<[number, number]> = [[100, 4], [1000, 4], [10000, 4], [100000, 16]]
const PLANNER_ORDER = ['thesis', 'lookahead']
const CURVE_KS = [10, 100, 1000]
const kind = process.argv[2] ?? 'thesis'

interface Result { vms: number, dcs: number, flows: number, planner: string, moves: number, initialCost: number, finalCost: number, stopped: string, ms: number, cpuMs: number, coldMs: number, peakMiB: number, baseMiB: number }

function run (vms: number, dcs: number, planner: string, maxMoves?: number): Result {
  const args = ['--expose-gc', CASE, kind, String(vms), String(dcs), planner]
  if (maxMoves !== undefined) args.push(String(maxMoves))
  return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 20 })) as Result
}


console.log(`planner benchmark: ${kind} scenario, seed 1, node ${process.version}\n`)
const rows: string[][] = []
for (const [vms, dcs] of SIZES) {
  for (const planner of PLANNER_ORDER) {
    const r = run(vms, dcs, planner)
    rows.push([String(r.vms), String(r.dcs), String(r.flows), planner, String(r.moves), (r.finalCost / r.initialCost).toFixed(4), r.ms.toFixed(1), r.cpuMs.toFixed(1), r.coldMs.toFixed(1), r.peakMiB.toFixed(0), (r.peakMiB - r.baseMiB).toFixed(0), r.stopped])
    console.error(`  done ${vms} VMs ${planner}`)
  }
}
console.log(table(['VMs', 'DCs', 'flows', 'planner', 'moves', 'final/initial', 'wall ms', 'cpu ms', 'cold ms', 'peak RSS MiB', 'over base MiB', 'stopped'], rows))
console.log(`\nwall/cpu ms: a warm call (median of 3; 1 at 100k), as an agent planning every round sees it; cold ms: the first call in a fresh process. Load average during the run: ${loadavg().map(x => x.toFixed(1)).join(' ')}`)

console.log('\ncost after k moves, 10,000 VMs on 4 DCs (each planner run with a limit of k moves):\n')
const full = Object.fromEntries(PLANNER_ORDER.map(p => [p, run(10000, 4, p)])) as Record<string, Result>
const thesisMoves = full.thesis!.moves
const ks = [...CURVE_KS, thesisMoves].sort((a, b) => a - b)
const curve: string[][] = []
for (const k of ks) {
  const cells = PLANNER_ORDER.map(p => (k >= full[p]!.moves ? full[p]! : run(10000, 4, p, k)).finalCost.toFixed(4))
  curve.push([k === thesisMoves ? `${k} (= Algorithm 1's moves)` : String(k), ...cells])
}
curve.push(['all', ...PLANNER_ORDER.map(p => `${full[p]!.finalCost.toFixed(4)} (${full[p]!.moves} moves)`)])
console.log(table(['k', ...PLANNER_ORDER], curve))
const atThesisMoves = run(10000, 4, 'lookahead', thesisMoves).finalCost
const gap = full.thesis!.finalCost - full.lookahead!.finalCost
const closed = (full.thesis!.finalCost - atThesisMoves) / gap
const bound = bestCostAfterMoves(compile(generate(kind as ScenarioKind, { vms: 10000, dcs: 4, seed: 1 })), thesisMoves)
console.log(`\nwith Algorithm 1's ${thesisMoves} moves the lookahead planner closes ${(closed * 100).toFixed(1)}% of the gap between Algorithm 1 (${full.thesis!.finalCost.toFixed(4)}) and its own unlimited re-placement (${full.lookahead!.finalCost.toFixed(4)}, ${full.lookahead!.moves} moves = ${(full.lookahead!.moves / 10000 * 100).toFixed(0)}% of VMs).`)
console.log(`no plan of ${thesisMoves} moves can end below ${bound.toFixed(4)} here (each move removes at most its own VM's cost): at most ${(Math.max(0, full.thesis!.finalCost - bound) / gap * 100).toFixed(1)}% of that gap can be closed with that many moves.`)
await report.done()
