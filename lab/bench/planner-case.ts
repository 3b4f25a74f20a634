/**
 * One planner benchmark case in its own process, so wall time and peak
 * memory belong to this case alone. Prints one JSON line.
 * Usage: tsx lab/bench/planner-case.ts KIND VMS DCS PLANNER [MAX_MOVES]
 */
import { compile } from '../../lib/instance.ts'
import { PLANNERS } from '../../lib/planners/index.ts'
import { generate, type ScenarioKind } from '../../lib/scenario.ts'

const [kind, vms, dcs, planner, maxMoves] = process.argv.slice(2)
const snap = generate(kind as ScenarioKind, { vms: Number(vms), dcs: Number(dcs), seed: 1 })
const inst = compile(snap)
global.gc?.()
const rssBefore = process.memoryUsage().rss
const started = performance.now()
const plan = PLANNERS[planner!]!(inst, maxMoves === undefined ? {} : { maxMoves: Number(maxMoves) })
const ms = performance.now() - started
const peakMiB = process.resourceUsage().maxRSS / 1024
process.stdout.write(JSON.stringify({
  vms: inst.nVm,
  dcs: inst.nDc,
  flows: snap.flows.length,
  planner,
  moves: plan.moves.length,
  initialCost: plan.initialCost,
  finalCost: plan.finalCost,
  stopped: plan.stopped,
  ms,
  peakMiB,
  baseMiB: rssBefore / 1024 / 1024
}) + '\n')
