/**
 * One planner benchmark case in its own process, so wall time and peak
 * memory belong to this case alone. Prints one JSON line.
 *
 * An agent plans every round in a long-running process, so the figure that
 * matters is a warm call: the planner first runs on a smaller instance (the
 * JIT compiles it), then the case is timed (median of `runs`). The first,
 * cold call is reported beside it.
 * Usage: node lab/bench/planner-case.ts KIND VMS DCS PLANNER [MAX_MOVES]
 */
import { compile } from '../../lib/instance.ts'
import type { Plan } from '../../lib/model.ts'
import { PLANNERS } from '../../lib/planners/index.ts'
import { generate, type ScenarioKind } from '../../lib/scenario.ts'

const WARMUP_VMS = 2000
const [kind, vms, dcs, planner, maxMoves] = process.argv.slice(2)
const plan = PLANNERS[planner!]!
const config = maxMoves === undefined ? {} : { maxMoves: Number(maxMoves) }
const snap = generate(kind as ScenarioKind, { vms: Number(vms), dcs: Number(dcs), seed: 1 })
const inst = compile(snap)
const rssBefore = process.memoryUsage().rss

const timed = (): { ms: number, cpuMs: number, result: Plan } => {
  const c0 = process.cpuUsage(); const t0 = performance.now()
  const result = plan(inst, config)
  const c = process.cpuUsage(c0)
  return { ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000, result }
}
const cold = timed()
const warm = compile(generate(kind as ScenarioKind, { vms: Math.min(WARMUP_VMS, Number(vms)), dcs: Number(dcs), seed: 2 }))
for (let i = 0; i < 3; i++) plan(warm, config)
const runs = Number(vms) >= 100_000 ? 1 : 3
const samples = Array.from({ length: runs }, timed).sort((a, b) => a.ms - b.ms)
const median = samples[Math.floor(runs / 2)]!
const result = median.result
process.stdout.write(JSON.stringify({
  vms: inst.nVm,
  dcs: inst.nDc,
  flows: snap.flows.length,
  planner,
  moves: result.moves.length,
  initialCost: result.initialCost,
  finalCost: result.finalCost,
  stopped: result.stopped,
  ms: median.ms,
  cpuMs: median.cpuMs,
  coldMs: cold.ms,
  peakMiB: process.resourceUsage().maxRSS / 1024,
  baseMiB: rssBefore / 1024 / 1024
}) + '\n')
