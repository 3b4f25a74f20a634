/**
 * The offline part of the demo: the thesis scenario (100, 1,000 and 10,000
 * VMs on 4 DCs) through the thesis's Algorithm 1 and the lookahead planner,
 * with the cost-per-iteration plots of the thesis's Figures 5.3-5.5. Takes
 * seconds; no agents, no network.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { compile } from '../../lib/instance.ts'
import { planLookahead } from '../../lib/planners/lookahead.ts'
import { planThesis } from '../../lib/planners/thesis.ts'
import { generate } from '../../lib/scenario.ts'
import { costChart, planCsv } from './plan-report.ts'

export const DEMO_SIZES = [100, 1000, 10000]

/** Writes DIR/index.html and one SVG and CSV per size; returns the index's path. */
export async function writePlannerDemo (dir: string, print: (line: string) => void): Promise<string> {
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
    print(line)
    sections.push(`<h2>${vms.toLocaleString('en')} VMs</h2><p>${line}</p><img src="${name}.svg" alt="cost per iteration, ${vms} VMs"><p><a href="${name}.csv">${name}.csv</a></p>`)
  }
  const index = join(dir, 'index.html')
  await writeFile(index, `<!doctype html><meta charset="utf-8"><title>heliotrope demo: planners</title><h1>heliotrope: the thesis scenario, planners offline</h1>${sections.join('\n')}\n`)
  return index
}
