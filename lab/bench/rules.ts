/**
 * `npm run bench:rules`: what placement rules cost the planners.
 *
 *   node lab/bench/rules.ts [--seeds S] [--sizes 200x4,1000x4] [--kinds thesis,clustered] [--no-write]
 *
 * On generated instances, each planner's final cost (a fraction of the
 * start's) and moves with three rule sets: none; "kept", random rules the
 * start keeps, as tight as it allows (lab/model/kept-rules.ts: spread at
 * the start's own most-per-DC or DC count, together for groups in one DC,
 * avoid for DCs a VM is not in), on a fifth of the groups; and "half", no
 * more than half of a group in one DC for every fourth group of 4 or more
 * (replicas kept apart; the start may break it, and mending then counts).
 * Also the rules broken after the plan (must be 0, or what no single move
 * can mend) and the plan's time. The cost is the thesis's (moving free).
 */
import { parseArgs } from 'node:util'
import { compile } from '../../lib/instance.ts'
import type { PlacementRule, Snapshot } from '../../lib/model.ts'
import { PLANNERS } from '../../lib/planners/index.ts'
import type { PlannerConfig } from '../../lib/planners/config.ts'
import { brokenRules } from '../../lib/rules.ts'
import { generate, SCENARIO_KINDS, type ScenarioKind } from '../../lib/scenario.ts'
import { keptRules, startDcs } from '../model/kept-rules.ts'
import { startBenchReport } from './report.ts'
import { table } from './text-table.ts'

const report = startBenchReport('rules')

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '2' },
    sizes: { type: 'string', default: '200x4,1000x4' },
    kinds: { type: 'string', default: 'thesis,clustered' }
  }
})

const AGENT: PlannerConfig = { maxMoves: 5, maxMovesPerHost: 2, minGain: 0.001 }
const RUNS: Array<[string, string, PlannerConfig]> = [
  ['lookahead', 'unlimited', {}],
  ['lookahead', '100 moves', { maxMoves: 100 }],
  ['lookahead', 'agent round', AGENT],
  ['thesis', 'unlimited', {}]
]

function half (s: Snapshot): PlacementRule[] {
  const size = new Map<string, number>()
  for (const v of s.vms) if (v.group !== undefined) size.set(v.group, (size.get(v.group) ?? 0) + 1)
  return [...size].filter(([, n]) => n >= 4).filter((_, i) => i % 4 === 0).map(([group, n]) => ({ kind: 'spread', group, maxPerDc: Math.ceil(n / 2) }))
}

function groups (s: Snapshot): number {
  return new Set(s.vms.map(v => v.group)).size
}

const rows: string[][] = []
for (const kind of values.kinds.split(',') as ScenarioKind[]) {
  if (!SCENARIO_KINDS.includes(kind)) throw new Error(`unknown kind ${kind}`)
  for (const size of values.sizes.split(',')) {
    const [vms, dcs] = size.split('x').map(Number) as [number, number]
    for (let seed = 1; seed <= Number(values.seeds); seed++) {
      const base = generate(kind, { vms, dcs, seed })
      const sets: Array<[string, PlacementRule[]]> = [['none', []], ['kept', keptRules(base, seed, Math.max(1, Math.round(groups(base) / 5)))], ['half', half(base)]]
      for (const [planner, budget, config] of RUNS) {
        const row = [`${kind} ${vms}x${dcs} s${seed}`, `${planner} ${budget}`]
        for (const [, rules] of sets) {
          const s: Snapshot = rules.length === 0 ? base : { ...base, rules }
          const inst = compile(s)
          const t0 = performance.now()
          const plan = PLANNERS[planner]!(inst, config)
          const ms = performance.now() - t0
          const dcOf = startDcs(s)
          for (const m of plan.moves) dcOf.set(m.vm, m.toDc)
          const broken = brokenRules(s, dcOf).length
          const before = brokenRules(s, startDcs(s)).length
          row.push(`${(plan.finalCost / plan.initialCost).toFixed(4)} ${plan.moves.length}m ${Math.round(ms)}ms${rules.length === 0 ? '' : ` ${rules.length}r ${before}->${broken}b`}`)
        }
        rows.push(row)
        process.stderr.write('.')
      }
    }
  }
}
process.stderr.write('\n')
process.stdout.write('final cost / start cost, moves, plan time; with rules: rules given, rules broken at the start -> after the plan\n\n')
process.stdout.write(table(['instance', 'planner', 'no rules', 'kept (tight)', 'half per DC'], rows) + '\n')
await report.done()
