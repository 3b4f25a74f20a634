/** `heliotrope lab model`: the dissemination model of docs/design.md §9 at sizes no lab can run. */
import { UsageError } from '../../agent/cli/errors.ts'
import { type Command, numberOption } from '../../agent/cli/run.ts'
import { DEFAULT_ROUND_PERIOD_MS } from '../../lib/rounds.ts'
import { ATTACKS, type Attack } from '../model/audit.ts'
import { calibrationTable, relayCalibrationTable } from '../model/calibration.ts'
import { modelReport } from '../model/report.ts'
import { PROTOCOLS, type Protocol } from '../model/run.ts'
import { definedOnly } from '../../lib/defined.ts'

export const DEFAULT_MODEL_HOSTS = [1000, 10000]
export const DEFAULT_MODEL_DCS = 16
export const DEFAULT_MODEL_VMS_PER_HOST = 20
export const DEFAULT_MODEL_ROUNDS = 3
export const DEFAULT_CHANGE_RATE = 0.1

export const modelCommand: Command = {
  name: 'model',
  summary: 'simulate dissemination (today\'s flooding, the tiered design, the tiered agents as built) at thousands of hosts: messages, bytes, CPU per role, round time, takeovers',
  usage: `Usage: heliotrope lab model [--hosts 1000,10000] [--dcs 16] [--vms-per-host 20] [--rounds R]
                            [--seed S] [--protocol today|tiered|relay|all] [--period MS]
                            [--crash-rate p] [--loss p] [--change-rate c]
                            [--kill-aggregator] [--kill-planner] [--attack KIND] [--calibrate]

A discrete-event model of one round's messages over a simulated network
(per-DC-pair latency, loss, per-message CPU from measured constants,
crashes), running the real ranking, round timing and planner
(docs/design.md §9.7). Prints per size and protocol a table per role (host,
aggregator, planner: messages, frames, KB and CPU per round, p50/p99/max),
the time for the plan to reach every host, the share of hosts agreeing on
it, and takeovers and detected aggregator misbehaviour.

Options:
  --hosts LIST        host counts, comma-separated (default ${DEFAULT_MODEL_HOSTS.join(',')})
  --dcs D             data centers (default ${DEFAULT_MODEL_DCS})
  --vms-per-host V    (default ${DEFAULT_MODEL_VMS_PER_HOST})
  --rounds R          (default ${DEFAULT_MODEL_ROUNDS})
  --seed S            world and fault seed (default 1)
  --protocol P        ${PROTOCOLS.join(' | ')} | all (default all): today is flooding,
                      tiered the §9.1-9.5 design, relay the tiered agents as built (§9.8)
  --period MS         round period (default ${DEFAULT_ROUND_PERIOD_MS})
  --crash-rate p      each host's chance to crash in a round (default 0)
  --loss p            chance a frame is lost on its way (resent; default 0)
  --change-rate c     share of hosts whose digest changed in a round (default ${DEFAULT_CHANGE_RATE})
  --kill-aggregator   kill the first DC's aggregator mid-collection in round 2
  --kill-planner      kill round 2's planner just before it plans
  --attack KIND       the first DC's aggregator cheats in round 2: ${ATTACKS.join(', ')}
  --calibrate         only compare the model with the measured agents: \`today\` with
                      flooding agents (8-100), \`relay\` with tiered agents (16-64)
`,
  options: {
    hosts: { type: 'string' },
    dcs: { type: 'string' },
    'vms-per-host': { type: 'string' },
    rounds: { type: 'string' },
    seed: { type: 'string' },
    protocol: { type: 'string' },
    period: { type: 'string' },
    'crash-rate': { type: 'string' },
    loss: { type: 'string' },
    'change-rate': { type: 'string' },
    'kill-aggregator': { type: 'boolean' },
    'kill-planner': { type: 'boolean' },
    attack: { type: 'string' },
    calibrate: { type: 'boolean' }
  },
  run (args) {
    const seed = numberOption(args, 'seed', 1, { integer: true })
    if (args.values.calibrate === true) { process.stdout.write(`today beside flooding agents:\n\n${calibrationTable(seed)}\n\nrelay beside tiered agents:\n\n${relayCalibrationTable(seed)}\n`); return 0 }
    const hostsText = (args.values.hosts as string | undefined) ?? DEFAULT_MODEL_HOSTS.join(',')
    const hosts = hostsText.split(',').map(Number)
    if (hosts.some(h => !Number.isInteger(h) || h < 2)) throw new UsageError(`--hosts: integers >= 2, comma-separated; got ${JSON.stringify(hostsText)}`)
    const protocol = (args.values.protocol as string | undefined) ?? 'all'
    if (protocol !== 'all' && !(PROTOCOLS as readonly string[]).includes(protocol)) throw new UsageError(`--protocol is one of ${PROTOCOLS.join(', ')}, all; got ${JSON.stringify(protocol)}`)
    const attack = args.values.attack as string | undefined
    if (attack !== undefined && !(ATTACKS as readonly string[]).includes(attack)) throw new UsageError(`--attack is one of ${ATTACKS.join(', ')}; got ${JSON.stringify(attack)}`)
    const share = (name: string, fallback: number): number => {
      const v = numberOption(args, name, fallback, { min: 0 })
      if (v > 1) throw new UsageError(`--${name} is a share between 0 and 1, got ${v}`)
      return v
    }
    process.stdout.write(modelReport({
      hosts,
      protocols: protocol === 'all' ? [...PROTOCOLS] : [protocol as Protocol],
      dcs: numberOption(args, 'dcs', DEFAULT_MODEL_DCS, { integer: true, min: 1 }),
      vmsPerHost: numberOption(args, 'vms-per-host', DEFAULT_MODEL_VMS_PER_HOST, { integer: true, min: 1 }),
      rounds: numberOption(args, 'rounds', DEFAULT_MODEL_ROUNDS, { integer: true, min: 1 }),
      seed,
      periodMs: numberOption(args, 'period', DEFAULT_ROUND_PERIOD_MS, { integer: true, min: 500 }),
      crashRate: share('crash-rate', 0),
      loss: share('loss', 0),
      changeRate: share('change-rate', DEFAULT_CHANGE_RATE),
      killAggregator: args.values['kill-aggregator'] === true,
      killPlanner: args.values['kill-planner'] === true,
      ...definedOnly({ attack: attack as Attack | undefined })
    }))
    return 0
  }
}
