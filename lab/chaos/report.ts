/** The chaos figures as tables (docs/reliability.md quotes them). */
import type { ChaosReport } from './sim-chaos-run.ts'
import { FAULT_KINDS } from './faults.ts'
import { formatTable } from '../sim/stats.ts'

type Runs = Array<{ seed: number, report: ChaosReport }>

export function chaosTable (runs: Runs): string {
  const head = ['seed', 'rounds', ...FAULT_KINDS, 'lost msgs', 'moves', 'violations', 'split rounds', 'ping-pong']
  const rows = runs.map(({ seed, report: r }) => [String(seed), String(r.rounds), ...FAULT_KINDS.map(k => String(r.faults[k])), String(r.lostMessages), String(r.moves), String(r.violations.length), String(r.splitRounds.length), String(r.pingPongs)])
  return withTotals(head, rows)
}

/**
 * What the agents dropped and refused, by reason, summed over agents: one
 * column per reason seen in any run (the rest are 0), so the table stays narrow.
 */
export function dropsTable (runs: Runs): string {
  // Every report lists every reason (zeros too), in the agents' order.
  const reasons = Object.keys(runs[0]?.report.drops ?? {}).filter(k => runs.some(r => (r.report.drops[k] ?? 0) > 0))
  if (reasons.length === 0) return 'dropped or refused: nothing'
  const head = ['seed', ...reasons]
  const rows = runs.map(({ seed, report: r }) => [String(seed), ...reasons.map(k => String(r.drops[k] ?? 0))])
  return withTotals(head, rows)
}

/** The rows under `head` and a row `all` with each column's sum (without a trailing newline: callers add their own). */
function withTotals (head: string[], rows: string[][]): string {
  const total = ['all', ...head.slice(1).map((_, i) => String(rows.reduce((s, row) => s + Number(row[i + 1]), 0)))]
  return formatTable(head, [...rows, total]).trimEnd()
}
