/**
 * `npm run bench:rounds`: the agents' path against one offline plan.
 *
 *   node lab/bench/rounds.ts [--rounds R] [--seeds S] [--sizes 200x4,1000x4] [--kinds thesis,clustered] [--no-write]
 *
 * An agent plans a few moves a round, carries them out and plans again on
 * the placement that results. Here that loop runs with the agents' own
 * defaults: `planSafely` (the limits, cooldown and minimum improvement
 * around the planner, as agent/policy/controls.ts calls it) with the
 * agent's planner config. Assumed: every move of a round lands within it
 * (nothing is still on the move at the next round) and the traffic does
 * not change. The cost is the thesis's (the payback term off, as in the
 * lab), so the loop and the offline plans are judged alike.
 *
 * After rounds 1, 5, 10, 20 and R it prints the cost (as a fraction of the
 * start) and the moves made so far, against offline plans allowed the same
 * number of moves: the lookahead planner, and Algorithm 1 (thesis), each
 * given the whole budget at once. Last, the unlimited lookahead plan (its
 * cost and moves) shows where the path is heading.
 */
import { parseArgs } from 'node:util'
import { DEFAULT_MAX_MOVES, DEFAULT_MAX_MOVES_PER_HOST, DEFAULT_MIN_GAIN } from '../../agent/config.ts'
import { compile } from '../../lib/instance.ts'
import type { Snapshot } from '../../lib/model.ts'
import { DEFAULT_COOLDOWN_ROUNDS, DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_IN_FLIGHT_PER_HOST, DEFAULT_MIN_IMPROVEMENT } from '../../lib/planners/limits.ts'
import { planLookahead } from '../../lib/planners/lookahead.ts'
import { planThesis } from '../../lib/planners/thesis.ts'
import { generate, SCENARIO_KINDS, type ScenarioKind } from '../../lib/scenario.ts'
import { runAgentLoop } from './agent-loop.ts'
import { startBenchReport } from './report.ts'
import { table } from './text-table.ts'

const report = startBenchReport('rounds')

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '40' },
    seeds: { type: 'string', default: '3' },
    sizes: { type: 'string', default: '200x4,1000x4' },
    kinds: { type: 'string', default: 'thesis,clustered' }
  }
})
const rounds = whole('rounds', values.rounds)
const seeds = whole('seeds', values.seeds)
const sizes = values.sizes.split(',').map(s => {
  const [vms, dcs] = s.split('x').map(Number)
  if (!(Number.isInteger(vms) && Number.isInteger(dcs) && vms! > 0 && dcs! > 1)) throw new Error(`--sizes: expected VMSxDCS,..., got ${s}`)
  return { vms: vms!, dcs: dcs! }
})
const kinds = values.kinds.split(',').map(k => {
  if (!(SCENARIO_KINDS as readonly string[]).includes(k)) throw new Error(`--kinds: ${k} is not one of ${SCENARIO_KINDS.join(', ')}`)
  return k as ScenarioKind
})
const CHECKPOINTS = [...new Set([1, 5, 10, 20, rounds].filter(r => r <= rounds))]

/** The agent's planner section and safety limits at their defaults (agent/config.ts, agent/policy/config.ts), the payback term aside. */
const AGENT_CONFIG = { maxMoves: DEFAULT_MAX_MOVES, maxMovesPerHost: DEFAULT_MAX_MOVES_PER_HOST, minGain: DEFAULT_MIN_GAIN }
const AGENT_LIMITS = { maxInFlight: DEFAULT_MAX_IN_FLIGHT, maxInFlightPerHost: DEFAULT_MAX_IN_FLIGHT_PER_HOST, minImprovement: DEFAULT_MIN_IMPROVEMENT }

interface Point { round: number, moves: number, cost: number, ms: number }

/** The agents' loop (agent-loop.ts) over `rounds` rounds, its cost and moves at the checkpoints. */
function agentPath (start: Snapshot): { start: number, points: Point[] } {
  const points: Point[] = []
  let moves = 0; let ms = 0; let startCost = NaN
  runAgentLoop(start, { planner: planLookahead, config: AGENT_CONFIG, limits: AGENT_LIMITS, cooldownRounds: DEFAULT_COOLDOWN_ROUNDS }, rounds, r => {
    ms += r.ms
    if (r.round === 1) startCost = r.plan.initialCost
    moves += r.plan.moves.length
    const cost = r.plan.moves.length > 0 ? r.plan.finalCost : r.plan.initialCost
    if (CHECKPOINTS.includes(r.round)) points.push({ round: r.round, moves, cost, ms: ms / r.round })
  })
  return { start: startCost, points }
}

const rows: string[][] = []
const sums = new Map<number, { agent: number, look: number, thesis: number, n: number }>()
for (const { vms, dcs } of sizes) {
  for (const kind of kinds) {
    for (let seed = 1; seed <= seeds; seed++) {
      const snap = generate(kind, { vms, dcs, seed })
      const inst = compile(snap)
      const path = agentPath(snap)
      const unlimited = planLookahead(inst)
      for (const p of path.points) {
        const look = p.moves === 0 ? path.start : planLookahead(inst, { maxMoves: p.moves }).finalCost
        const thesis = p.moves === 0 ? path.start : planThesis(inst, { maxMoves: p.moves }).finalCost
        const s = sums.get(p.round) ?? { agent: 0, look: 0, thesis: 0, n: 0 }
        s.agent += p.cost / path.start; s.look += look / path.start; s.thesis += thesis / path.start; s.n++
        sums.set(p.round, s)
        rows.push([`${kind} ${vms}/${dcs} s${seed}`, String(p.round), String(p.moves), ratio(p.cost, path.start), ratio(look, path.start), ratio(thesis, path.start),
          p === path.points.at(-1) ? `${ratio(unlimited.finalCost, path.start)} (${unlimited.moves.length})` : '', p.ms.toFixed(0)])
      }
      process.stderr.write(`  done ${kind} ${vms}/${dcs} seed ${seed}\n`)
    }
  }
}
console.log(`bench:rounds: the agents' loop (planSafely with the agent defaults: ${AGENT_CONFIG.maxMoves} moves, ${AGENT_CONFIG.maxMovesPerHost} per host, cooldown ${DEFAULT_COOLDOWN_ROUNDS} rounds, min improvement ${DEFAULT_MIN_IMPROVEMENT * 100}%; the thesis's cost, moves free) over ${rounds} rounds, node ${process.version}\n`)
console.log(table(['instance', 'round', 'moves so far', 'agents cost/start', 'offline lookahead, same moves', 'offline Algorithm 1, same moves', 'unlimited lookahead (moves)', 'plan ms/round'], rows))
console.log('\nmean cost/start over the instances:\n')
console.log(table(['round', 'agents', 'offline lookahead', 'offline Algorithm 1', 'agents / offline lookahead'],
  [...sums].map(([r, s]) => [String(r), (s.agent / s.n).toFixed(4), (s.look / s.n).toFixed(4), (s.thesis / s.n).toFixed(4), (s.agent / s.look).toFixed(3)])))
await report.done()

function ratio (a: number, b: number): string {
  return b > 0 ? (a / b).toFixed(4) : '-'
}

function whole (name: string, v: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected a whole number of at least 1, got ${v}`)
  return n
}

