/**
 * `heliotrope demo`: the thesis's experiment on this machine. The main part
 * runs the thesis's 4-DC star in the lab: real agents in host namespaces,
 * VMs sending real packets over WAN links the router throttles, the WAN
 * load measured at the router before and after the agents' rounds. The
 * offline planner comparison (Figures 5.3-5.5 at 100 to 10,000 VMs) comes
 * with it, and alone when the lab cannot run (not root).
 */
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Command } from '../../agent/cli/run.ts'
import { DEFAULT_LAB_PREFIX } from '../net/names.ts'
import { writeLabReport } from '../report/lab-report.ts'
import { DEMO_SIZES, writePlannerDemo } from '../report/planner-demo.ts'
import { runScenario } from '../run/runner.ts'
import { loadScenario } from '../run/scenario.ts'
import { runWithInterrupts, summaryLines } from './lab-run.ts'

export { DEMO_SIZES }
export const DEMO_SCENARIO = fileURLToPath(new URL('../scenarios/thesis-star.json', import.meta.url))

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the thesis scenario in the lab with real agents, and the planners offline; write a report',
  usage: `Usage: heliotrope demo [--out DIR] [--offline] [--prefix P]

Runs lab/scenarios/thesis-star.json in the lab (as \`heliotrope lab run\`:
4 DCs x 2 hosts with real agents, 16 VMs of four clustered applications
scattered over WAN links they dominate) and writes DIR/index.html with the
WAN load measured at the router, the cost per round and the migrations.
Then runs the thesis scenario offline at 100, 1,000 and 10,000 VMs through
Algorithm 1 and the lookahead planner (the thesis's Figures 5.3-5.5) into
DIR/planners/. The lab needs root; without it only the offline part runs.
Takes about two minutes. Default DIR: reports/demo.

Options:
  --out DIR     report directory (default reports/demo)
  --offline     only the offline planner comparison
  --prefix P    the lab's namespace prefix (default ${DEFAULT_LAB_PREFIX})
`,
  options: { out: { type: 'string' }, offline: { type: 'boolean' }, prefix: { type: 'string' } },
  async run (args) {
    const dir = resolve((args.values.out as string | undefined) ?? 'reports/demo')
    const print = (line: string): void => { process.stdout.write(line + '\n') }
    const lab = args.values.offline !== true && process.getuid?.() === 0
    if (args.values.offline !== true && !lab) print('demo: not root, so the lab part (namespaces, real agents) is skipped; the offline planner comparison follows')
    let index: string | undefined
    let ok = true
    if (lab) {
      const prefix = (args.values.prefix as string | undefined) ?? DEFAULT_LAB_PREFIX
      const scenario = await loadScenario(DEMO_SCENARIO)
      print(`demo: ${scenario.name} in the lab (${scenario.durationSec} s of traffic, rounds of ${scenario.roundPeriodMs / 1000} s)`)
      const r = await runWithInterrupts(async (signal) => runScenario(scenario, { prefix, print, signal }), prefix)
      index = await writeLabReport(dir, r, { appendix: '<h2>Planners offline</h2><p>The same experiment without agents or network, at 100 to 10,000 VMs: <a href="planners/index.html">planners/index.html</a>.</p>' })
      for (const line of summaryLines(r)) print(line)
      ok = r.final.ok
    }
    print('demo: the planners offline (thesis scenario, 100 to 10,000 VMs)')
    const offline = await writePlannerDemo(join(dir, 'planners'), print)
    print(`report: ${index ?? offline}`)
    if (index !== undefined) print(`offline planner report: ${offline}`)
    return ok ? 0 : 1
  }
}
