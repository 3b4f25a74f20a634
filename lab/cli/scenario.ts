/** `heliotrope scenario KIND`: prints a seeded snapshot as JSON. */
import { generate, SCENARIO_KINDS, type ScenarioKind } from '../../lib/scenario.ts'
import { UsageError } from '../../agent/cli/errors.ts'
import { type Command, numberOption } from '../../agent/cli/run.ts'
import { definedOnly } from '../../lib/defined.ts'

export const scenarioCommand: Command = {
  name: 'scenario',
  summary: 'generate a seeded snapshot (thesis, clustered, web)',
  usage: `Usage: heliotrope scenario KIND [--vms N] [--dcs D] [--seed S] [--slack X] > snapshot.json

Kinds:
  thesis     the thesis's setup: small applications scattered over DCs whose
             WAN links their traffic dominates (section 5.1.1)
  clustered  larger groups talking among themselves, little spare capacity
  web        web tiers serving clients behind per-DC external prefixes

Options:
  --vms N     number of VMs (default 1000)
  --dcs D     number of data centers, fully meshed (default 4)
  --seed S    random seed (default 1)
  --slack X   host memory as a multiple of the VMs' memory (default 1.25; clustered 1.1)
`,
  options: { vms: { type: 'string' }, dcs: { type: 'string' }, seed: { type: 'string' }, slack: { type: 'string' } },
  run (args) {
    const kind = args.positionals[0]
    if (kind === undefined) throw new UsageError('which scenario? one of ' + SCENARIO_KINDS.join(', '))
    if (!(SCENARIO_KINDS as readonly string[]).includes(kind)) throw new UsageError(`unknown scenario ${JSON.stringify(kind)}; one of ${SCENARIO_KINDS.join(', ')}`)
    const vms = numberOption(args, 'vms', 1000, { integer: true, min: 1 })
    const dcs = numberOption(args, 'dcs', 4, { integer: true, min: 1 })
    const seed = numberOption(args, 'seed', 1, { integer: true })
    const slack = args.values.slack === undefined ? undefined : numberOption(args, 'slack', 1.25, { min: 1 })
    const snap = generate(kind as ScenarioKind, { vms, dcs, seed, ...definedOnly({ slack }) })
    process.stdout.write(JSON.stringify(snap) + '\n')
    return 0
  }
}
