/**
 * Writes what plans did as files: moves.csv (one row per move per planner)
 * and cost.svg (cost per iteration, one line per planner, like the thesis's
 * Figures 5.3-5.5).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Plan } from '../../lib/model.ts'
import { lineChart } from './svg-chart.ts'

export async function writePlanReport (dir: string, plans: Plan[], title = 'Cost per iteration'): Promise<void> {
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'moves.csv'), planCsv(plans))
  await writeFile(join(dir, 'cost.svg'), costChart(plans, title))
}

export function planCsv (plans: Plan[]): string {
  const rows = ['planner,iteration,vm,from,to,from_dc,to_dc,cost,gain,relieves']
  for (const p of plans) {
    rows.push(`${p.planner},0,,,,,,${p.initialCost},,`)
    p.moves.forEach((m, i) => rows.push([p.planner, i + 1, m.vm, m.from, m.to, m.fromDc, m.toDc, m.cost, m.gain, m.relieves ?? ''].map(csvField).join(',')))
  }
  return rows.join('\n') + '\n'
}

export function costChart (plans: Plan[], title: string): string {
  return lineChart(plans.map(p => ({
    name: `${p.planner} (${p.moves.length} moves)`,
    points: [[0, p.initialCost] as [number, number], ...p.moves.map((m, i) => [i + 1, m.cost] as [number, number])]
  })), { title, xLabel: 'iteration (moves)', yLabel: 'cost (average link loading factor)' })
}

function csvField (v: string | number): string {
  const s = String(v)
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}
