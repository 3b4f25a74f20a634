/**
 * `heliotrope demo`: the main job on an embedded default. Until the lab runs
 * real agents, it runs the thesis scenario (100, 1,000 and 10,000 VMs on 4
 * DCs) through both planners and writes the report of Figures 5.3-5.5.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { generate } from '../../lib/scenario.ts'
import { compile } from '../../lib/instance.ts'
import { planThesis } from '../../lib/planners/thesis.ts'
import { planLookahead } from '../../lib/planners/lookahead.ts'
import type { Command } from '../../agent/cli/run.ts'
import { costChart, planCsv } from '../report/plan-report.ts'

export const DEMO_SIZES = [100, 1000, 10000]

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the thesis scenario through both planners and write a report',
  usage: `Usage: heliotrope demo [--out DIR]

Runs the thesis scenario (4 DCs; 100, 1,000 and 10,000 VMs dominating the WAN
links, seed 1) through the thesis's Algorithm 1 and the lookahead planner and
writes DIR/index.html with the cost-per-iteration plots (the thesis's Figures
5.3-5.5), one SVG and one CSV per size. Default DIR: reports/demo.
`,
  options: { out: { type: 'string' } },
  async run (args) {
    const dir = resolve((args.values.out as string | undefined) ?? 'reports/demo')
    await mkdir(dir, { recursive: true })
    const sections: string[] = []
    for (const vms of DEMO_SIZES) {
      const inst = compile(generate('thesis', { vms, dcs: 4, seed: 1 }))
      const thesis = planThesis(inst)
      const lookahead = planLookahead(inst)
      const name = `thesis-${vms}`
      await writeFile(join(dir, `${name}.svg`), costChart([thesis, lookahead], `Cost per iteration, ${vms.toLocaleString('en')} VMs, 4 DCs`))
      await writeFile(join(dir, `${name}.csv`), planCsv([thesis, lookahead]))
      const line = `${vms} VMs: thesis ${thesis.initialCost.toFixed(3)} -> ${thesis.finalCost.toFixed(3)} in ${thesis.moves.length} moves (${thesis.stopped}); ` +
        `lookahead -> ${lookahead.finalCost.toFixed(3)} in ${lookahead.moves.length} moves (${lookahead.stopped})`
      process.stdout.write(line + '\n')
      sections.push(`<h2>${vms.toLocaleString('en')} VMs</h2><p>${line}</p><img src="${name}.svg" alt="cost per iteration, ${vms} VMs"><p><a href="${name}.csv">${name}.csv</a></p>`)
    }
    await writeFile(join(dir, 'index.html'), `<!doctype html><meta charset="utf-8"><title>heliotrope demo</title><h1>heliotrope: the thesis scenario</h1>${sections.join('\n')}\n`)
    process.stdout.write(`report: ${join(dir, 'index.html')}\n`)
    return 0
  }
}
