/** `heliotrope lab sim`: many real agents in one process on a simulated world. */
import { UsageError } from '../../agent/cli/errors.ts'
import { DISSEMINATIONS, type Dissemination } from '../../agent/config.ts'
import { type Command, numberOption } from '../../agent/cli/run.ts'
import { DEFAULT_PLANNER, PLANNER_NAMES } from '../../lib/planners/index.ts'
import { SCENARIO_KINDS, type ScenarioKind } from '../../lib/scenario.ts'
import type { SimTransport } from '../sim/cluster.ts'
import { DEFAULT_PERIOD_MS_PER_AGENT_SQUARED, DEFAULT_SIM_ROUNDS, DEFAULT_SIM_TRANSPORT, DEFAULT_VMS_PER_AGENT, MIN_DEFAULT_PERIOD_MS, defaultPeriodMs, runSim } from '../sim/run.ts'
import { DEFAULT_SIM_DCS, DEFAULT_SIM_KIND, DEFAULT_SIM_SEED } from '../sim/scenario-world.ts'
import { simTable } from '../sim/summary.ts'

const TRANSPORTS: readonly SimTransport[] = ['memory', 'tcp']
/** The agent config's own lower bound on the round period. */
const MIN_PERIOD_MS = 500

export const simCommand: Command = {
  name: 'sim',
  summary: 'run N real agents on a simulated world (in this process or several) and time their rounds',
  usage: `Usage: heliotrope lab sim --agents N [--rounds R] [--period MS] [--vms V]
                          [--transport memory|tcp] [--dcs D] [--seed S] [--kind KIND]
                          [--planner NAME] [--processes P] [--dissemination flood|tiered]
                          [--dht-servers-per-dc K]

Starts N real agents (libp2p with PSK, noise, yamux, gossipsub, kad-dht; the
sim hypervisor and traffic source) on a scenario world whose hosts are the
agents, in this process or spread over P child processes, lets them run R
rounds, and prints a line per round
(planner, cost before -> after, moves, messages per agent) and a summary:
start time, round time (round start to the plan accepted by every agent,
p50/p99), messages per agent per round, memory and CPU.

Options:
  --agents N       number of agents (required)
  --rounds R       rounds to watch once every agent sees every other (default ${DEFAULT_SIM_ROUNDS})
  --period MS      round period (default ${DEFAULT_PERIOD_MS_PER_AGENT_SQUARED} ms x agents squared, at least
                   ${MIN_DEFAULT_PERIOD_MS}: the work per round grows with the square)
  --vms V          VMs in the world (default ${DEFAULT_VMS_PER_AGENT} per agent)
  --transport T    memory (in-process) or tcp on [::1] (default ${DEFAULT_SIM_TRANSPORT})
  --dcs D          data centers (default ${DEFAULT_SIM_DCS})
  --seed S         scenario seed (default ${DEFAULT_SIM_SEED})
  --kind KIND      ${SCENARIO_KINDS.join(' | ')} (default ${DEFAULT_SIM_KIND})
  --planner NAME   ${PLANNER_NAMES.join(' | ')} (default ${DEFAULT_PLANNER}, as on a real
                   agent; agents in one process share its one thread, so a slow
                   planner stalls all of them while it runs)
  --processes P    spread the agents over P child processes, TCP between them
                   (default 0: all in this process, on one core)
  --dissemination flood | tiered
                   how messages travel: flooded on gossipsub (default) or
                   through per-DC aggregators (docs/design.md §9.8)
  --dht-servers-per-dc K
                   only K agents per DC serve the DHT, the rest are clients;
                   every member's address goes in the member list (default:
                   every agent serves)
`,
  options: {
    agents: { type: 'string' },
    rounds: { type: 'string' },
    period: { type: 'string' },
    vms: { type: 'string' },
    transport: { type: 'string' },
    dcs: { type: 'string' },
    seed: { type: 'string' },
    kind: { type: 'string' },
    planner: { type: 'string' },
    processes: { type: 'string' },
    dissemination: { type: 'string' },
    'dht-servers-per-dc': { type: 'string' }
  },
  async run (args) {
    if (args.values.agents === undefined) throw new UsageError('how many agents? give --agents N')
    const agents = numberOption(args, 'agents', 0, { integer: true, min: 1 })
    const transport = (args.values.transport as string | undefined) ?? DEFAULT_SIM_TRANSPORT
    if (!(TRANSPORTS as readonly string[]).includes(transport)) throw new UsageError(`--transport is one of ${TRANSPORTS.join(', ')}, got ${JSON.stringify(transport)}`)
    const kind = (args.values.kind as string | undefined) ?? DEFAULT_SIM_KIND
    if (!(SCENARIO_KINDS as readonly string[]).includes(kind)) throw new UsageError(`--kind is one of ${SCENARIO_KINDS.join(', ')}, got ${JSON.stringify(kind)}`)
    const dissemination = (args.values.dissemination as string | undefined) ?? 'flood'
    if (!(DISSEMINATIONS as readonly string[]).includes(dissemination)) throw new UsageError(`--dissemination is one of ${DISSEMINATIONS.join(', ')}, got ${JSON.stringify(dissemination)}`)
    const planner = (args.values.planner as string | undefined) ?? DEFAULT_PLANNER
    if (!PLANNER_NAMES.includes(planner)) throw new UsageError(`--planner is one of ${PLANNER_NAMES.join(', ')}, got ${JSON.stringify(planner)}`)
    // Ctrl-C (or a timeout's SIGTERM) stops the run but still prints what was measured.
    const stop = new AbortController()
    const onSignal = (): void => { process.stderr.write('stopping: the summary follows\n'); stop.abort() }
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    const result = await runSim({
      agents,
      rounds: numberOption(args, 'rounds', DEFAULT_SIM_ROUNDS, { integer: true, min: 1 }),
      periodMs: numberOption(args, 'period', defaultPeriodMs(agents), { integer: true, min: MIN_PERIOD_MS }),
      vms: numberOption(args, 'vms', agents * DEFAULT_VMS_PER_AGENT, { integer: true, min: 1 }),
      transport: transport as SimTransport,
      dcs: numberOption(args, 'dcs', DEFAULT_SIM_DCS, { integer: true, min: 1 }),
      seed: numberOption(args, 'seed', DEFAULT_SIM_SEED, { integer: true }),
      kind: kind as ScenarioKind,
      planner: { name: planner },
      processes: numberOption(args, 'processes', 0, { integer: true, min: 0 }),
      dissemination: dissemination as Dissemination,
      ...(args.values['dht-servers-per-dc'] === undefined ? {} : { dhtServersPerDc: numberOption(args, 'dht-servers-per-dc', 0, { integer: true, min: 1 }) }),
      signal: stop.signal,
      onResult: r => { process.stdout.write('\n' + simTable([r])) }
    }).finally(() => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    })
    const code = result.rounds.length > 0 && result.rounds.every(r => r.agreed) ? 0 : 1
    // Agents still starting when the run was stopped keep the event loop alive: leave now.
    if (stop.signal.aborted) process.exit(code)
    return code
  }
}
