/** `heliotrope lab chaos-run [SCENARIO]`: chaos against real agents in the lab, the invariants checked every round (also `npm run soak`). */
import { mkdir, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { join, resolve } from 'node:path'
import { UsageError } from '../../agent/cli/errors.ts'
import { numberOption, type Command } from '../../agent/cli/run.ts'
import { AGREE_AFTER_HEAL_ROUNDS, DEFAULT_GAP_ROUNDS, DEFAULT_HOLD_ROUNDS, DEFAULT_SPLIT_HOLD_ROUNDS, runLabChaos } from '../chaos/lab-chaos-run.ts'
import { LAB_FAULT_KINDS, type LabFaultKind } from '../chaos/lab-faults.ts'
import { labChaosLog, labChaosTable } from '../chaos/lab-table.ts'
import { loadScenario } from '../run/scenario.ts'
import { runWithInterrupts } from './lab-run.ts'

/** Its own prefix, so a chaos run never takes down a lab that `lab up` or `lab run` left under the default one. */
export const DEFAULT_CHAOS_PREFIX = 'hc'
export const DEFAULT_CHAOS_SCENARIO = fileURLToPath(new URL('../scenarios/follow-the-sun.json', import.meta.url))
export const DEFAULT_CHAOS_MINUTES = 10
/** Bounded: a soak stops by itself. */
export const MAX_CHAOS_MINUTES = 24 * 60

export const labChaosCommand: Command = {
  name: 'chaos-run',
  summary: 'chaos against real agents in the lab (kill -9, planner killed, migrations cut short, a DC\'s WAN down); invariants every round',
  usage: `Usage: heliotrope lab chaos-run [SCENARIO.json] [--minutes M] [--once] [--faults K,K] [--seed S]
                                [--phase SEC] [--hold R] [--gap R] [--prefix P] [--out DIR]

Builds the scenario's lab (default: follow-the-sun) with one real agent per
host namespace, loops its traffic phases (the VMs keep moving), and injects
one fault at a time, in order, until M minutes are up:
  kill          kill -9 an agent
  kill-planner  kill -9 the round's planner right after it is elected
  kill-source   kill -9 a migration's source as the migration starts
  kill-target   kill -9 its target likewise
  wan-down      drop a DC's WAN traffic at the router (gossip too)
and, only when --faults names them (4 DCs or more; held ${DEFAULT_SPLIT_HOLD_ROUNDS} rounds):
  split-2-2     partition the DCs two against two at the router
  split-3-1     three against one
A side without a strict majority of the members must neither plan (once
it noticed, two rounds in) nor act, and after the heal every agent must
accept one plan within ${AGREE_AFTER_HEAL_ROUNDS} rounds.
Each fault holds R rounds, then the agent is started again (it must
reconcile with its hypervisor: every VM on exactly one host and wired
there, the VM of a migration cut short placed there by every agent) or the
WAN restored, then R quiet rounds. After every round: where each VM is (the kernel), what each
agent did (its API and log), and the invariants of lib/invariants.ts.
Prints rounds, faults by kind, violations (must be 0), split rounds (must
be 0), ping-pongs, reconciliations. Exit 1 on a violation, a split round,
a failed reconciliation or an agent exiting by itself. Needs root.

Options:
  --minutes M   chaos time after the agents are up (default ${DEFAULT_CHAOS_MINUTES}; at most ${MAX_CHAOS_MINUTES})
  --once        inject each fault of the list once, then stop (M is then a cap)
  --faults LIST comma-separated kinds (default: the first five, in the order above)
  --seed S      seeds the choices of victims, DCs and kill delays (default 1)
  --phase SEC   move on to the next traffic phase this often (default: the scenario's spacing)
  --hold R      rounds a fault lasts (default ${DEFAULT_HOLD_ROUNDS})    --gap R   quiet rounds between faults (default ${DEFAULT_GAP_ROUNDS})
  --prefix P    namespace prefix (default ${DEFAULT_CHAOS_PREFIX})   --dir DIR   state, configs, logs (default /tmp/heliotrope-lab/P)
  --out DIR     also write report.json and table.md there
`,
  options: {
    minutes: { type: 'string' }, once: { type: 'boolean' }, faults: { type: 'string' }, seed: { type: 'string' }, phase: { type: 'string' },
    hold: { type: 'string' }, gap: { type: 'string' }, prefix: { type: 'string' }, dir: { type: 'string' }, out: { type: 'string' }
  },
  async run (args) {
    if (args.positionals.length > 1) throw new UsageError('one scenario at most')
    const scenario = await loadScenario(args.positionals[0] ?? DEFAULT_CHAOS_SCENARIO)
    const minutes = numberOption(args, 'minutes', DEFAULT_CHAOS_MINUTES, { min: 0.1 })
    if (minutes > MAX_CHAOS_MINUTES) throw new UsageError(`--minutes: at most ${MAX_CHAOS_MINUTES}`)
    const faults = readFaults(args.values.faults)
    const prefix = typeof args.values.prefix === 'string' ? args.values.prefix : DEFAULT_CHAOS_PREFIX
    const print = (line: string): void => { process.stdout.write(line + '\n') }
    const report = await runWithInterrupts(async (signal) => runLabChaos({
      scenario,
      durationSec: minutes * 60,
      faults,
      once: args.values.once === true,
      seed: numberOption(args, 'seed', 1, { integer: true, min: 0 }),
      holdRounds: numberOption(args, 'hold', DEFAULT_HOLD_ROUNDS, { integer: true, min: 1 }),
      gapRounds: numberOption(args, 'gap', DEFAULT_GAP_ROUNDS, { integer: true, min: 1 }),
      ...(args.values.phase !== undefined ? { phaseSec: numberOption(args, 'phase', 0, { min: 1 }) } : {}),
      prefix,
      ...(typeof args.values.dir === 'string' ? { dir: args.values.dir } : {}),
      print,
      signal
    }), prefix)
    const table = labChaosTable([{ name: scenario.name, report }])
    print('')
    for (const l of labChaosLog(report)) print(l)
    print('')
    print(table)
    const skipped = LAB_FAULT_KINDS.filter(k => report.skipped[k] > 0).map(k => `${k} ${report.skipped[k]}`)
    print(`${report.roundsWithPlan}/${report.rounds} rounds planned, ${report.phaseChanges} traffic phase changes${skipped.length > 0 ? `; not injected in time: ${skipped.join(', ')}` : ''}`)
    if (typeof args.values.out === 'string') {
      const out = resolve(args.values.out)
      await mkdir(out, { recursive: true })
      await writeFile(join(out, 'report.json'), JSON.stringify(report, null, 2) + '\n')
      await writeFile(join(out, 'table.md'), table + '\n')
      print(`report: ${join(out, 'report.json')}`)
    }
    const partitionFailed = report.partitions.some(p => p.minorityPlans.length > 0 || p.minorityActs.length > 0 || p.agreedAfterRounds === undefined)
    const failed = report.violations.length > 0 || report.splitRounds.length > 0 || report.reconciliations.some(r => !r.ok) || report.crashes.length > 0 || partitionFailed
    return failed ? 1 : 0
  }
}

function readFaults (raw: string | boolean | undefined): LabFaultKind[] | undefined {
  if (typeof raw !== 'string') return undefined
  const list = raw.split(',').map(s => s.trim()).filter(s => s !== '')
  const bad = list.filter(k => !(LAB_FAULT_KINDS as readonly string[]).includes(k))
  if (list.length === 0 || bad.length > 0) throw new UsageError(`--faults: expected some of ${LAB_FAULT_KINDS.join(', ')}${bad.length > 0 ? `; unknown ${bad.join(', ')}` : ''}`)
  return list as LabFaultKind[]
}
