/**
 * `npm run bench:planner`: both planners on the thesis scenario at 100, 1k
 * and 10k VMs on 4 DCs and 100k VMs on 16 DCs, and the lookahead under an
 * agent's budget of 5 moves; each case in its own process. Then the cost
 * after k moves (k = 1%, 10% of the VMs, Algorithm 1's count) for Algorithm
 * 1, a plain greedy, the agents' planner and a bound, at 1k and 10k VMs on
 * 4 and 16 DCs, thesis and clustered. Targets for the lookahead planner on
 * 2 cores: 10k/4 DCs under 100 ms, 100k/16 DCs under 5 s.
 */
import { execFileSync } from 'node:child_process'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { DEFAULT_MAX_MOVES } from '../../agent/config.ts'
import { CostModel, evaluate } from '../../lib/cost.ts'
import { compile } from '../../lib/instance.ts'
import { planBestFirst } from '../../lib/planners/best-first.ts'
import { planLookahead } from '../../lib/planners/lookahead.ts'
import { planThesis } from '../../lib/planners/thesis.ts'
import { generate, type ScenarioKind } from '../../lib/scenario.ts'
import { metisPlacement } from './metis-baseline.ts'
import { bestCostAfterMoves } from './move-bound.ts'
import { startBenchReport } from './report.ts'
import { table } from './text-table.ts'

/** Writes this run into docs/benchmarks.md at the end (--no-write: not). */
const report = startBenchReport('planner')

const CASE = fileURLToPath(new URL('./planner-case.ts', import.meta.url))
const SIZES: Array<[number, number]> = [[100, 4], [1000, 4], [10000, 4], [100000, 16]]
const PLANNER_ORDER = ['thesis', 'lookahead']
/** The agents' default move budget per round (agent/config.ts). */
const AGENT_BUDGET = DEFAULT_MAX_MOVES
const CURVE_KINDS: ScenarioKind[] = ['thesis', 'clustered']
const CURVE_SIZES: Array<[number, number]> = [[1000, 4], [1000, 16], [10000, 4], [10000, 16]]
const kind = process.argv[2] ?? 'thesis'

interface Result { vms: number, dcs: number, flows: number, planner: string, moves: number, initialCost: number, finalCost: number, stopped: string, ms: number, cpuMs: number, coldMs: number, peakMiB: number, baseMiB: number }

/** a / b, or how it compares when b is 0 (both 0: equal). */
function ratio (a: number, b: number): string {
  if (b > 0) return `${(a / b).toFixed(2)}x`
  return a > 0 ? 'METIS+LS at 0' : '1.00x (both 0)'
}

function run (vms: number, dcs: number, planner: string, maxMoves?: number): Result {
  const args = ['--expose-gc', CASE, kind, String(vms), String(dcs), planner]
  if (maxMoves !== undefined) args.push(String(maxMoves))
  return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 20 })) as Result
}


console.log(`planner benchmark: ${kind} scenario, seed 1, node ${process.version}\n`)
const rows: string[][] = []
for (const [vms, dcs] of SIZES) {
  for (const [planner, budget] of [...PLANNER_ORDER.map(p => [p, undefined] as const), ['lookahead', AGENT_BUDGET] as const]) {
    const r = run(vms, dcs, planner, budget)
    rows.push([String(r.vms), String(r.dcs), String(r.flows), budget === undefined ? planner : `${planner}, ${budget} moves (an agent's round)`, String(r.moves), (r.finalCost / r.initialCost).toFixed(4), r.ms.toFixed(1), r.cpuMs.toFixed(1), r.coldMs.toFixed(1), r.peakMiB.toFixed(0), (r.peakMiB - r.baseMiB).toFixed(0), r.stopped])
    console.error(`  done ${vms} VMs ${planner} ${budget ?? ''}`)
  }
}
console.log(table(['VMs', 'DCs', 'flows', 'planner', 'moves', 'final/initial', 'wall ms', 'cpu ms', 'cold ms', 'peak RSS MiB', 'over base MiB', 'stopped'], rows))
console.log(`\nwall/cpu ms: a warm call (median of 3; 1 at 100k), as an agent planning every round sees it; cold ms: the first call in a fresh process. Load average during the run: ${loadavg().map(x => x.toFixed(1)).join(' ')}`)

console.log('\ncost after k moves, as a fraction of the start (k: 1% and 10% of the VMs, and Algorithm 1\'s own count; each planner given a budget of k):\n')
const curveRows: string[][] = []
const metisRows: string[][] = []
for (const curveKind of CURVE_KINDS) {
  for (const [vms, dcs] of CURVE_SIZES) {
    const inst = compile(generate(curveKind, { vms, dcs, seed: 1 }))
    const model = new CostModel(inst)
    const start = evaluate(model, inst.vmHost).total
    const thesisAll = planThesis(inst)
    const ks = [...new Set([Math.round(vms / 100), Math.round(vms / 10), thesisAll.moves.length])].sort((a, b) => a - b)
    for (const k of ks) {
      const t0 = performance.now()
      const agents = planLookahead(inst, { maxMoves: k })
      const agentMs = performance.now() - t0
      const cells = [planThesis(inst, { maxMoves: k }).finalCost, planBestFirst(model, { maxMoves: k }, 'best-first').finalCost, agents.finalCost, bestCostAfterMoves(inst, k)]
      const label = k === thesisAll.moves.length ? `${k} (Algorithm 1's)` : `${k} (${(100 * k / vms).toFixed(0)}%)`
      curveRows.push([`${curveKind} ${vms}/${dcs}`, label, ...cells.map(c => (c / start).toFixed(4)), agentMs.toFixed(0)])
    }
    const t1 = performance.now()
    const all = planLookahead(inst)
    const allMs = performance.now() - t1
    curveRows.push([`${curveKind} ${vms}/${dcs}`, 'unlimited', (thesisAll.finalCost / start).toFixed(4), '', `${(all.finalCost / start).toFixed(4)} (${all.moves.length} moves)`, '', ''])
    const metis = metisPlacement(model)
    metisRows.push([`${curveKind} ${vms}/${dcs}`, (all.finalCost / start).toExponential(2), String(all.moves.length), allMs.toFixed(0), (metis.cost / start).toExponential(2), String(metis.moves), metis.ms.toFixed(0), ratio(all.finalCost, metis.cost)])
    console.error(`  done curve ${curveKind} ${vms}/${dcs}`)
  }
}
console.log(table(['instance', 'k', 'Algorithm 1', 'plain greedy', 'agents\' planner (lookahead)', 'bound', 'lookahead ms'], curveRows))
console.log('\nplain greedy: best single move first, each VM once (lib/planners/best-first.ts; the lookahead under a budget takes it as one of its candidates, so it never ends above it). bound: no plan of k moves ends lower (each move removes at most its own VM\'s cost; lab/bench/move-bound.ts). The agents\' planner is the lookahead with a budget of k (an agent plans 5 a round).')
console.log('\nunlimited: the lookahead without a budget against METIS + local search (lab/bench/metis-baseline.ts: gpmetis parts sized for the DCs, mapped to DCs, packed, then single-VM descent; a placement, not a plan), costs as a fraction of the start:\n')
console.log(table(['instance', 'lookahead', 'moves', 'ms', 'METIS+LS', 'moves', 'ms', 'lookahead / METIS+LS'], metisRows))
await report.done()
