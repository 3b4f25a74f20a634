/** The chaos figures as tables (the README quotes them). */
import type { ChaosReport } from './sim-chaos.ts'
import { FAULT_KINDS } from './faults.ts'

export function chaosTable (runs: Array<{ seed: number, report: ChaosReport }>): string {
  const head = ['seed', 'rounds', ...FAULT_KINDS, 'lost msgs', 'moves', 'violations', 'split rounds', 'ping-pong']
  const rows = runs.map(({ seed, report: r }) => [String(seed), String(r.rounds), ...FAULT_KINDS.map(k => String(r.faults[k])), String(r.lostMessages), String(r.moves), String(r.violations.length), String(r.splitRounds.length), String(r.pingPongs)])
  const total = ['all', ...head.slice(1).map((_, i) => String(rows.reduce((s, row) => s + Number(row[i + 1]), 0)))]
  const all = [...rows, total]
  const w = head.map((h, i) => Math.max(h.length, ...all.map(r => r[i]!.length)))
  const line = (r: string[]): string => r.map((c, i) => c.padStart(w[i]!)).join('  ')
  return [line(head), w.map(n => '-'.repeat(n)).join('  '), ...all.map(line)].join('\n')
}

/**
 * What the agents dropped and refused, by reason, summed over agents: one
 * column per reason seen in any run (the rest are 0), so the table stays narrow.
 */
export function dropsTable (runs: Array<{ seed: number, report: ChaosReport }>): string {
  // Every report lists every reason (zeros too), in the agents' order.
  const reasons = Object.keys(runs[0]?.report.drops ?? {}).filter(k => runs.some(r => (r.report.drops[k] ?? 0) > 0))
  if (reasons.length === 0) return 'dropped or refused: nothing'
  const head = ['seed', ...reasons]
  const rows = runs.map(({ seed, report: r }) => [String(seed), ...reasons.map(k => String(r.drops[k] ?? 0))])
  const all = [...rows, ['all', ...reasons.map((_, i) => String(rows.reduce((s, row) => s + Number(row[i + 1]), 0)))]]
  const w = head.map((h, i) => Math.max(h.length, ...all.map(r => r[i]!.length)))
  const line = (r: string[]): string => r.map((c, i) => c.padStart(w[i]!)).join('  ')
  return [line(head), w.map(n => '-'.repeat(n)).join('  '), ...all.map(line)].join('\n')
}
