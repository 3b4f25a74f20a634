/**
 * How close the planners get to the exact optimum.
 *
 *   node lab/bench/optimum.ts [--count N] [--vms LO-HI] [--time-limit S] [--jobs J] [--details K] [--one-move-cuts C] [--reach-states S]
 *
 * Seeded instances of the generator's kinds on small hosts (see
 * optimum/instances.ts) are solved exactly with glpsol (optimum/ilp.ts) and
 * planned with the thesis and lookahead planners (default config: no
 * limits). Prints one row per instance, averages per kind, and the worst
 * lookahead instances group by group. An optimum marked * was not proven
 * within the time limit (its cost is then only an upper bound). With
 * --one-move-cuts, instances where the lookahead is more than 10% above the
 * optimum also get the best cost a plan moving each VM at most once can
 * reach: exactly where all DC assignments can be enumerated
 * (optimum/one-move-exact.ts), else a lower bound (optimum/one-move.ts),
 * so the share of the gap that such plans cannot close is bounded.
 * Instances above 1.5x the optimum (lookahead or agents) get the best any
 * plan of single moves can reach, detours included: every placement such
 * moves lead to, enumerated up to S placements (optimum/reachable.ts).
 */
import { execFileSync } from 'node:child_process'
import { parseArgs } from 'node:util'
import { DEFAULT_MAX_MOVES, DEFAULT_MAX_MOVES_PER_HOST, DEFAULT_MIN_GAIN, defaultRolloutRounds } from '../../agent/config.ts'
import { DEFAULT_SAFETY } from '../../agent/policy/config.ts'
import { DEFAULT_ROUND_PERIOD_MS } from '../../lib/rounds.ts'
import { CostModel } from '../../lib/cost.ts'
import { planLookahead } from '../../lib/planners/lookahead.ts'
import { planThesis } from '../../lib/planners/thesis.ts'
import { Random } from '../../lib/random.ts'
import { SCENARIO_KINDS, type ScenarioKind } from '../../lib/scenario.ts'
import { diagnose } from './optimum/diagnose.ts'
import { solveOptimum } from './optimum/ilp.ts'
import { type BenchCase, benchCase } from './optimum/instances.ts'
import { leftover } from './optimum/leftover.ts'
import { oneMoveBound } from './optimum/one-move.ts'
import { oneMoveExact } from './optimum/one-move-exact.ts'
import { reach } from './optimum/reach.ts'
import { bestReachable } from './optimum/reachable.ts'
import { agentLoop, replay, untilFixpoint } from './optimum/replay.ts'
import { details, ratio, type Row, summary, table } from './optimum/table.ts'
import { startBenchReport } from './report.ts'

/** Writes this run into docs/benchmarks.md at the end (--no-write: not). */
const report = startBenchReport('optimum')

const SLACKS = [1.1, 1.2, 1.3]
/**
 * The agents' planner section at its defaults (agent/config.ts), in the
 * thesis's cost the optimum is solved for (the payback term off): planned
 * round after round, as the agents do, until a round moves nothing. With
 * the default round period the candidate rounds are played forward
 * (rolloutRounds, lib/planners/rollout.ts).
 */
const AGENT_LOOP = {
  limits: { maxInFlight: DEFAULT_SAFETY.maxInFlight, maxInFlightPerHost: DEFAULT_SAFETY.maxInFlightPerHost, minImprovement: DEFAULT_SAFETY.minImprovement },
  cooldownRounds: DEFAULT_SAFETY.cooldownRounds
}
const AGENT_PLANNER = {
  maxMoves: DEFAULT_MAX_MOVES,
  maxMovesPerHost: DEFAULT_MAX_MOVES_PER_HOST,
  minGain: DEFAULT_MIN_GAIN,
  rolloutRounds: defaultRolloutRounds(DEFAULT_ROUND_PERIOD_MS),
  loop: { cooldownRounds: AGENT_LOOP.cooldownRounds, minImprovement: AGENT_LOOP.limits.minImprovement }
}
/** Enough 5-move rounds to move every VM of the largest instance several times over. */
const AGENT_MAX_ROUNDS = 100
/** The reach table's instances: every one ended above this (the issue asks a proof above 1.5x; 1.1x shows the rest too). */
const REACH_ABOVE = 1.1
/** One-move optima are enumerated exactly (branch and bound) up to this many nodes. */
const EXACT_VISITS = 2e8

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '30' },
    vms: { type: 'string', default: '12-40' },
    'time-limit': { type: 'string', default: '40' },
    jobs: { type: 'string', default: '2' },
    details: { type: 'string', default: '4' },
    'one-move-cuts': { type: 'string', default: '0' },
    'reach-states': { type: 'string', default: '100000000' }
  }
})
const count = positive('count', values.count)
const [lo, hi] = values.vms.split('-').map(Number) as [number, number]
if (!(lo >= 2 && hi >= lo)) throw new Error(`--vms: expected LO-HI, got ${values.vms}`)
const timeLimit = positive('time-limit', values['time-limit'])
const jobs = positive('jobs', values.jobs)

/** The instance of `seed` and `kind`: size, DCs and slack drawn from the seed. */
function caseOf (seed: number, kind: ScenarioKind): BenchCase {
  const rng = new Random(seed)
  return benchCase(kind, rng.int(lo, hi), rng.int(3, 4), seed, rng.pick(SLACKS))
}

/** Instance i: kinds in turn. */
async function runOne (i: number): Promise<Row> {
  const seed = i + 1
  const kind = SCENARIO_KINDS[i % SCENARIO_KINDS.length]!
  const c = caseOf(seed, kind)
  const thesis = replay(c.inst, planThesis)
  const look = replay(c.inst, planLookahead)
  const lookRounds = untilFixpoint(c.inst, planLookahead, 10)
  const agentRounds = agentLoop(c.inst, planLookahead, AGENT_PLANNER, AGENT_LOOP, AGENT_MAX_ROUNDS)
  // The best planner placement bounds the optimum: glpsol prunes above it, so depth-first suits it.
  const best = [thesis, look, lookRounds].reduce((a, b) => b.cost < a.cost ? b : a)
  const opt = await solveOptimum(c.inst, { timeLimit, args: ['--pcost', '--dfs'], hostTimeLimit: Math.min(5, timeLimit), incumbent: best.hostOf })
  const row: Row = {
    kind, seed, vms: c.vms, dcs: c.dcs, hostsPerDc: c.hostsPerDc, slack: c.slack,
    initial: thesis.plan.initialCost, opt, thesis, look, lookRounds, agentRounds,
    reach: reach(c.inst, c.inst.vmHost, Int32Array.from(opt.hostOf, h => c.inst.hostDc[h]!)),
    diag: diagnose(c.inst, c.inst.vmHost, look.hostOf, opt.hostOf),
    left: leftover(new CostModel(c.inst), look.hostOf, look.plan)
  }
  process.stderr.write(`${kind} seed ${seed}: ${opt.status} in ${opt.seconds.toFixed(1)} s\n`)
  return row
}

const started = performance.now()
console.log(`planners at ${revision()}; lookahead with its default config (no limits)`)
const rows: Row[] = new Array(count)
let next = 0
await Promise.all(Array.from({ length: Math.min(jobs, count) }, async () => {
  while (next < count) { const i = next++; rows[i] = await runOne(i) }
}))
const glpsol = rows.map(r => r.opt.seconds)
console.log(table(rows))
console.log()
console.log(summary(rows))
console.log()
console.log(`glpsol: median ${median(glpsol).toFixed(2)} s, max ${Math.max(...glpsol).toFixed(1)} s, total ${glpsol.reduce((a, b) => a + b, 0).toFixed(0)} s; ` +
  `bench ${((performance.now() - started) / 1000).toFixed(0)} s with ${jobs} jobs, time limit ${timeLimit} s`)
console.log('opt mv: VMs the optimum puts in another DC. reach: can the optimum be reached by single moves, each VM at most once straight into its optimal DC, each fitting (the planners\' way)? blocked = no (it needs a swap or a detour); unknown = search budget spent.')
console.log(`agents/opt: the agents' loop at its defaults: the lookahead with the planner section (${AGENT_PLANNER.maxMoves} moves, ${AGENT_PLANNER.maxMovesPerHost} per host, minGain ${AGENT_PLANNER.minGain}, rounds played forward ${AGENT_PLANNER.rolloutRounds}) through planSafely (at most ${AGENT_LOOP.limits.maxInFlight} in flight, ${AGENT_LOOP.limits.maxInFlightPerHost} per host; a round below ${AGENT_LOOP.limits.minImprovement * 100}% improvement stands still), a moved VM held ${AGENT_LOOP.cooldownRounds} rounds, round after round until one stands still with nothing cooling (the last round that moved in brackets, at most ${AGENT_MAX_ROUNDS}).`)
console.log("agents plan s: how long a round's plan took in that loop, median/max over its rounds (on this machine, glpsol solving another instance alongside).")
console.log('la rounds/opt: the lookahead planned again from its result, round after round, until a plan has no moves (plans run in brackets, the empty one included; at most 10).')
console.log('la closed: share of the possible cost drop (initial - optimum) the lookahead achieved. move left / swap left: at the lookahead\'s end, a feasible improving single move / a two-VM swap that only fits done at once.')
console.log('* = not proven optimal in the time limit: the real optimum is lower, so that row\'s ratios are underestimates.')
const cuts = Number(values['one-move-cuts'])
if (cuts > 0) {
  console.log()
  console.log('one move per VM: the best a plan moving each VM at most once can reach. exact: every DC assignment cheaper than the lookahead\'s enumerated and proven unreachable ' +
    `(or the cheapest reachable one found), where a branch and bound needs <= ${EXACT_VISITS.toExponential(0)} nodes; else a lower bound (no-good cuts on unreachable assignments, at most ${cuts})`)
  const rs = rows.filter(r => ratio(r.look.cost, r.opt.cost) > 1.1)
  const lines: string[][] = [['kind', 'seed', 'optimum', 'one-move best', 'how', 'lookahead', 'la/opt', 'la/one-move', 'one-move/opt']]
  let logOpt = 0; let logBound = 0
  for (const r of rows) {
    let bound = r.opt.cost
    if (rs.includes(r)) {
      const c = caseOf(r.seed, r.kind)
      let how: string
      const x = oneMoveExact(c.inst, r.look.cost, 2_000_000, EXACT_VISITS)
      if (x !== undefined) {
        bound = x.status === 'none-below' ? r.look.cost : x.cost
        how = x.status === 'none-below' ? `exact (${x.cheaper} cheaper unreachable)` : x.status === 'found' ? 'exact (reachable, lower)' : 'bound (proof budget)'
      } else {
        const b = await oneMoveBound(c.inst, { maxCuts: cuts, timeLimit, nodes: 200_000 })
        bound = Math.max(r.opt.cost, b.bound)
        how = b.settled ? `bound (${b.cuts} cuts, settled)` : `bound (${b.cuts} cuts)`
      }
      lines.push([r.kind, String(r.seed), r.opt.cost.toPrecision(4), bound.toPrecision(4), how,
        r.look.cost.toPrecision(4), ratio(r.look.cost, r.opt.cost).toFixed(3), ratio(r.look.cost, bound).toFixed(3), ratio(bound, r.opt.cost).toFixed(3)])
    }
    logOpt += Math.log(ratio(r.look.cost, r.opt.cost)); logBound += Math.log(ratio(r.look.cost, bound))
  }
  printAligned(lines, [0, 1, 4])
  console.log(`lookahead geo. mean over all ${rows.length}: ${Math.exp(logOpt / rows.length).toFixed(3)} against the optimum, at most ${Math.exp(logBound / rows.length).toFixed(3)} against the best one-move plan (exact or its lower bound)`)
}
const reachStates = positive('reach-states', values['reach-states'])
const far = rows.filter(r => Math.max(ratio(r.look.cost, r.opt.cost), ratio(r.agentRounds.cost, r.opt.cost)) > REACH_ABOVE)
if (far.length > 0) {
  console.log()
  console.log(`the best any executable plan reaches, for the instances above ${REACH_ABOVE}x the optimum (lookahead or agents): every placement single moves lead to from the start (any VM, any host with room, ` +
    `as often as needed: detours and moves aside too), never over capacity, enumerated breadth first up to ${reachStates.toLocaleString('en')} placements (optimum/reachable.ts; fixed: VMs no host ever has room for, left out; exch.: hosts of the same size in one DC, whose contents exchanged cost the same, so one placement of each such family is visited). ` +
    'complete: all of them, a proof that no plan of single moves ends lower; capped: the best seen, an upper bound on that best.')
  const lines: string[][] = [['kind', 'seed', 'fixed', 'exch.', 'placements', 'enumeration', 'best reachable/opt', 'la/best', 'agents/best']]
  for (const r of far) {
    const x = bestReachable(new CostModel(caseOf(r.seed, r.kind).inst), reachStates)
    if (x === undefined) { lines.push([r.kind, String(r.seed), '', '', '-', 'not enumerated (2^53 placements or more)', '', '', '']); continue }
    lines.push([r.kind, String(r.seed), String(x.fixed), String(x.exchangeable), x.states.toLocaleString('en'), x.complete ? 'complete' : 'capped', ratio(x.best, r.opt.cost).toFixed(3),
      ratio(r.look.cost, x.best).toFixed(3), ratio(r.agentRounds.cost, x.best).toFixed(3)])
  }
  printAligned(lines, [0, 1, 5])
}
const k = positive('details', values.details)
if (k > 0) { console.log(); console.log(details(rows, k)) }
await report.done()

/** Prints `lines` (the header first) in columns: those in `left` left-aligned, the rest right-aligned. */
function printAligned (lines: string[][], left: readonly number[]): void {
  const w = lines[0]!.map((_, i) => Math.max(...lines.map(l => l[i]!.length)))
  for (const l of lines) console.log(l.map((x, i) => left.includes(i) ? x.padEnd(w[i]!) : x.padStart(w[i]!)).join('  '))
}

function positive (name: string, s: string): number {
  const n = Number(s)
  if (!(n > 0)) throw new Error(`--${name}: expected a positive number, got ${s}`)
  return n
}

/** The commit measured, marked when lib/ has uncommitted changes (other engineers work in this tree). */
function revision (): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'lib'], { encoding: 'utf8' }).trim() !== ''
    return dirty ? `${head} + uncommitted lib/ changes` : head
  } catch { return 'unknown revision' }
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}
