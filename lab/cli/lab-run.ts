/** `heliotrope lab run SCENARIO`: a scenario on real namespaces with real agents, and its report. */
import { resolve } from 'node:path'
import { UsageError } from '../../agent/cli/errors.ts'
import { numberOption, type Command } from '../../agent/cli/run.ts'
import { labDown } from '../net/down.ts'
import { DEFAULT_LAB_PREFIX } from '../net/names.ts'
import { writeLabReport } from '../report/lab-report.ts'
import { runScenario, type RunResult } from '../run/runner.ts'
import { loadScenario } from '../run/scenario.ts'

export const labRunCommand: Command = {
  name: 'run',
  summary: 'run a scenario with real agents in the lab and write a report',
  usage: `Usage: heliotrope lab run SCENARIO.json [--out DIR] [--prefix P] [--dir DIR] [--duration S]

Builds the scenario's topology (lab up), puts its VMs on their hosts,
starts one real agent per host inside the host's namespace (nftables
collector on the bridge hook, lab hypervisor), starts the VMs' traffic,
plays the scenario's phases and chaos events, prints progress (rounds,
planners, cost, migrations, the WAN load measured at the router), then
writes DIR/index.html (SVG plots) and CSV files and takes the lab down,
also on errors and on Ctrl-C (a second Ctrl-C tears it down at once).
Scenarios: lab/scenarios/. Needs root.

Options:
  --out DIR      report directory (default reports/lab/<scenario name>)
  --prefix P     namespace name prefix (default ${DEFAULT_LAB_PREFIX})
  --dir DIR      the lab's state directory: configs, keys, logs (default /tmp/heliotrope-lab/P)
  --duration S   seconds of traffic (default: the scenario's)
`,
  options: { out: { type: 'string' }, prefix: { type: 'string' }, dir: { type: 'string' }, duration: { type: 'string' } },
  async run (args) {
    const file = args.positionals[0]
    if (file === undefined) throw new UsageError('which scenario? give a file such as lab/scenarios/thesis-star.json')
    const scenario = await loadScenario(file)
    const prefix = (args.values.prefix as string | undefined) ?? DEFAULT_LAB_PREFIX
    const out = resolve((args.values.out as string | undefined) ?? `reports/lab/${scenario.name}`)
    const r = await runWithInterrupts(async (signal) => runScenario(scenario, {
      prefix,
      ...(typeof args.values.dir === 'string' ? { dir: args.values.dir } : {}),
      ...(args.values.duration !== undefined ? { durationSec: numberOption(args, 'duration', scenario.durationSec, { min: 1 }) } : {}),
      print: (line) => process.stdout.write(line + '\n'),
      signal
    }), prefix)
    const index = await writeLabReport(out, r)
    process.stdout.write(summaryLines(r).join('\n') + `\nreport: ${index}\n`)
    return r.final.ok ? 0 : 1
  }
}

/**
 * Runs `work` with Ctrl-C wired to its abort signal; a second Ctrl-C (or
 * SIGTERM) takes the lab down at once and exits.
 */
export async function runWithInterrupts<T> (work: (signal: AbortSignal) => Promise<T>, prefix: string): Promise<T> {
  const ac = new AbortController()
  let hard = false
  const onSignal = (): void => {
    if (!ac.signal.aborted) {
      process.stderr.write('\nstopping: taking the lab down (Ctrl-C again to force)\n')
      ac.abort()
      return
    }
    if (hard) return
    hard = true
    labDown(prefix).finally(() => process.exit(130))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    return await work(ac.signal)
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

export function summaryLines (r: RunResult): string[] {
  const lines: string[] = []
  for (const p of r.phases) {
    lines.push(`${p.name}: WAN offered ${(p.before.offeredBps / 1e6).toFixed(2)} -> ${(p.after.offeredBps / 1e6).toFixed(2)} Mbit/s, carried ${(p.before.carriedBps / 1e6).toFixed(2)} -> ${(p.after.carriedBps / 1e6).toFixed(2)} Mbit/s, measured cost ${p.before.cost.toFixed(3)} -> ${p.after.cost.toFixed(3)}, ${p.migrations} migrations`)
  }
  const ok = r.migrations.filter(m => m.ok)
  const downs = ok.map(m => m.downtimeMs).filter((d): d is number => d !== undefined).sort((a, b) => a - b)
  lines.push(`migrations: ${ok.length} done, ${r.migrations.length - ok.length} failed${downs.length > 0 ? `; downtime median ${downs[Math.floor(downs.length / 2)]} ms, max ${downs[downs.length - 1]} ms` : ''}`)
  lines.push(r.final.ok ? 'invariants: every VM on exactly one host, no host over capacity' : `invariants VIOLATED: ${r.final.problems.join('; ')}`)
  return lines
}
