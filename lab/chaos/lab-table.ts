/** The lab chaos figures as a table (lab/README.md quotes it), one row per run and a total. */
import { LAB_FAULT_KINDS } from './lab-faults.ts'
import type { LabChaosReport } from './lab-chaos-run.ts'

export function labChaosTable (runs: Array<{ name: string, report: LabChaosReport }>): string {
  const head = ['run', 'minutes', 'rounds', ...LAB_FAULT_KINDS, 'restart', 'moves', 'failed', 'violations', 'split rounds', 'ping-pong', 'reconciled']
  const rows = runs.map(({ name, report: r }) => [
    name, (r.ranSec / 60).toFixed(1), String(r.rounds), ...LAB_FAULT_KINDS.map(k => String(r.faults[k])), String(r.restarts),
    String(r.moves), String(r.failedMoves), String(r.violations.length), String(r.splitRounds.length), String(r.pingPongs),
    `${r.reconciliations.filter(x => x.ok).length}/${r.reconciliations.length}`
  ])
  if (rows.length > 1) {
    const sum = (i: number): string => String(rows.reduce((s, row) => s + Number(row[i]), 0))
    const rec = runs.reduce((s, { report: r }) => [s[0]! + r.reconciliations.filter(x => x.ok).length, s[1]! + r.reconciliations.length], [0, 0])
    rows.push(['all', rows.reduce((s, row) => s + Number(row[1]), 0).toFixed(1), ...head.slice(2, -1).map((_, k) => sum(k + 2)), `${rec[0]}/${rec[1]}`])
  }
  const w = head.map((h, i) => Math.max(h.length, ...rows.map(r => r[i]!.length)))
  const line = (r: string[]): string => '| ' + r.map((c, i) => i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!)).join(' | ') + ' |'
  return [line(head), '|' + w.map((n, i) => i === 0 ? '-'.repeat(n + 2) : '-'.repeat(n + 1) + ':').join('|') + '|', ...rows.map(line)].join('\n')
}

/** The run's story: faults, heals, reconciliations, skips, crashes and violations, one line each. */
export function labChaosLog (r: LabChaosReport): string[] {
  return [
    ...r.log.filter(l => l.kind !== 'phase').map(l => `${l.t.toFixed(1).padStart(6)}s  ${l.kind}: ${l.what}`),
    ...r.crashes.map(c => `CRASH ${c}`),
    ...r.violations.map(v => `VIOLATION (invariant ${v.invariant}): ${v.detail}`),
    ...r.splitDetails.map(d => `SPLIT ${d}`),
    ...r.pingPongDetails.map(d => `ping-pong ${d}`)
  ]
}
