/** `heliotrope plan SNAPSHOT`: runs a planner offline and prints its moves. */
import { DEFAULT_PLANNER, PLANNER_NAMES, PLANNERS, type PlannerConfig, type PlannerFn } from '../../lib/planners/index.ts'
import { parseSnapshot } from '../../lib/snapshot.ts'
import type { Plan } from '../../lib/model.ts'
import { UsageError } from '../../agent/cli/errors.ts'
import { type Command, numberOption, type ParsedArgs } from '../../agent/cli/run.ts'
import { readConfigFile } from '../../agent/config-file.ts'
import { DEFAULT_ROLLOUT_ROUNDS } from '../../agent/config.ts'
import { DEFAULT_COOLDOWN_ROUNDS, DEFAULT_MIN_IMPROVEMENT } from '../../lib/planners/limits.ts'
import { NOTHING_HELD, roundPlan } from '../../agent/policy/round-plan.ts'
import { readJson } from './input.ts'
import { writePlanReport } from '../report/plan-report.ts'

export const planCommand: Command = {
  name: 'plan',
  summary: 'run a planner on a snapshot file and print the moves',
  usage: `Usage: heliotrope plan SNAPSHOT.json|- [--planner NAME] [--json] [--report DIR]
                      [--max-moves N] [--max-moves-per-host N] [--min-gain X] [--payback S]
                      [--rollout-rounds R]
       heliotrope plan SNAPSHOT.json|- --config AGENT.json [--json] [--report DIR]

Runs a planner on a snapshot (see docs/planner.md, "Snapshot format") and prints the
moves with the cost after each one. Placement rules in the snapshot (and, with
--config, the config's planner.rules) are never broken, and a broken one is mended
by the first moves.

With --config, plans exactly what the agent with that config would in a round
where nothing is on the move or cooling down: its planner section and its
safety limits (migrations in flight, minimum improvement), through the same
code the agent runs. The planner options below cannot be mixed with it.
Where the cluster sets the rules (heliotrope cluster set rules FILE), the
agent plans with those: put the same list in the config's planner.rules.

Options:
  --config FILE           an agent config (heliotrope config check FILE)
  --planner NAME          ${PLANNER_NAMES.join(' | ')} (default ${DEFAULT_PLANNER})
  --json                  print one JSON object: planner, initialCost, finalCost,
                          moves [{vm, from, to, cost}] (hosts), steps (moves
                          per step, when a step holds several), mends (how many
                          first moves mend placement rules), ms
  --report DIR            also write DIR/moves.csv and DIR/cost.svg
  --max-moves N           at most N migrations (default: no limit)
  --max-moves-per-host N  at most N migrations in or out of one host
  --min-gain X            a move must lower the cost by more than X (default 0)
  --payback S             count each move's memory copy: a move is made only if
                          the traffic it saves outweighs the copy within S seconds
                          (the agents' default is 3600; without it moving is
                          free, as in the thesis)
  --rollout-rounds R      under a budget of up to 16 moves on up to 40 VMs, play
                          each candidate round forward up to R rounds and take
                          the one whose rounds end lowest, played as the default
                          agents run them (cooldown ${DEFAULT_COOLDOWN_ROUNDS} rounds, minimum improvement
                          ${DEFAULT_MIN_IMPROVEMENT * 100}%) (default ${DEFAULT_ROLLOUT_ROUNDS}, as agents with rounds of 30 s
                          or more; 0: off, a plan in tenths of a second instead of
                          seconds; docs/planner.md)
`,
  options: {
    config: { type: 'string' },
    planner: { type: 'string' },
    json: { type: 'boolean' },
    report: { type: 'string' },
    'max-moves': { type: 'string' },
    'max-moves-per-host': { type: 'string' },
    'min-gain': { type: 'string' },
    payback: { type: 'string' },
    'rollout-rounds': { type: 'string' }
  },
  async run (args) {
    const file = args.positionals[0]
    if (file === undefined) throw new UsageError('which snapshot? give a file, or - for standard input')
    const agentConfig = args.values.config
    const plannerOptions = PLANNER_OPTIONS.filter(o => args.values[o] !== undefined)
    if (typeof agentConfig === 'string' && plannerOptions.length > 0) throw new UsageError(`--config takes the planner from the agent's config; drop --${plannerOptions.join(', --')}`)
    const chosen = typeof agentConfig === 'string' ? undefined : chosenPlanner(args)
    const snapshot = parseSnapshot(await readJson(file))
    const agent = typeof agentConfig === 'string' ? await readConfigFile(agentConfig) : undefined
    const started = performance.now()
    const result = agent === undefined ? { plan: chosen!.planner(snapshot, chosen!.config), verdict: undefined, ignoredRules: [] } : roundPlan(snapshot, agent.planner, agent.safety, NOTHING_HELD, agent.roundPeriodMs)
    const ms = performance.now() - started
    if (result.verdict !== undefined && args.values.json !== true) process.stderr.write(`the agent's controls: ${result.verdict}\n`)
    // Rules from the config that this snapshot cannot apply: the agent plans on without them too.
    for (const why of result.ignoredRules ?? []) process.stderr.write(`rule left out: ${why}\n`)
    const plan = result.plan
    if (typeof args.values.report === 'string') await writePlanReport(args.values.report, [plan])
    if (args.values.json === true) {
      process.stdout.write(JSON.stringify(toJson(plan, ms)) + '\n')
    } else {
      process.stdout.write(formatPlan(plan, ms))
    }
    return 0
  }
}

const PLANNER_OPTIONS = ['planner', 'max-moves', 'max-moves-per-host', 'min-gain', 'payback', 'rollout-rounds']

function chosenPlanner (args: ParsedArgs): { planner: PlannerFn, config: PlannerConfig } {
  const name = (args.values.planner as string | undefined) ?? DEFAULT_PLANNER
  const planner = PLANNERS[name]
  if (planner === undefined) throw new UsageError(`unknown planner ${JSON.stringify(name)}; one of ${PLANNER_NAMES.join(', ')}`)
  const config = {
    maxMoves: numberOption(args, 'max-moves', Infinity, { integer: true, min: 0 }),
    maxMovesPerHost: numberOption(args, 'max-moves-per-host', Infinity, { integer: true, min: 1 }),
    minGain: numberOption(args, 'min-gain', 0, { min: 0 }),
    rolloutRounds: numberOption(args, 'rollout-rounds', DEFAULT_ROLLOUT_ROUNDS, { integer: true, min: 0 }),
    // Played forward as the default agents' loop runs rounds (with --config, as that config's).
    loop: { cooldownRounds: DEFAULT_COOLDOWN_ROUNDS, minImprovement: DEFAULT_MIN_IMPROVEMENT }
  }
  const payback = numberOption(args, 'payback', 0, { min: 1 })
  return { planner, config: payback > 0 ? { ...config, weights: { migration: 1 }, amortizeSeconds: payback } : config }
}

function toJson (plan: Plan, ms: number): object {
  return {
    planner: plan.planner,
    initialCost: plan.initialCost,
    finalCost: plan.finalCost,
    moves: plan.moves.map(m => ({ vm: m.vm, from: m.from, to: m.to, cost: m.cost })),
    // Moves per step, where a step holds several (a round carries each out whole; lib/model.ts Plan.steps).
    ...(plan.steps === undefined ? {} : { steps: plan.steps }),
    // How many moves lead the plan to mend broken placement rules (lib/model.ts Plan.mends).
    ...(plan.mends === undefined ? {} : { mends: plan.mends }),
    ms: Math.round(ms * 1000) / 1000
  }
}

function formatPlan (plan: Plan, ms: number): string {
  const lines = [`planner ${plan.planner}: cost ${fmt(plan.initialCost)} -> ${fmt(plan.finalCost)} in ${plan.moves.length} moves (${ms.toFixed(1)} ms, stopped: ${plan.stopped})`]
  plan.moves.forEach((m, i) => {
    const why = i < (plan.mends ?? 0) ? '  mends a placement rule' : m.relieves !== undefined ? `  relieves ${m.relieves}` : ''
    lines.push(`${String(i + 1).padStart(5)}  ${m.vm.padEnd(12)} ${m.from} (${m.fromDc}) -> ${m.to} (${m.toDc})  cost ${fmt(m.cost)}${why}`)
  })
  return lines.join('\n') + '\n'
}

function fmt (x: number): string {
  return x.toFixed(4)
}
