/** `lab model`'s tables: per role, percentiles of what a host handles per round; then the round's timing and safety. */
import { ROLE_NAMES } from './round.ts'
import type { ModelResult, RoleSample } from './run.ts'

export function percentile (values: number[], q: number): number {
  if (values.length === 0) return NaN
  const s = [...values].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!
}

const fmt = (x: number, digits = 0): string => Number.isNaN(x) ? '-' : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
const three = (xs: number[], digits = 0, scale = 1): string => [0.5, 0.99, 1].map(q => fmt(percentile(xs, q) / scale, digits)).join(' / ')

export function roleTable (r: ModelResult): string {
  const header = ['role', 'samples', 'msgs in p50/p99/max', 'frames in p50/p99/max', 'msgs out p50/p99/max', 'KB in p50/p99/max', 'KB out p99', 'CPU ms p50/p99/max', '% core p99']
  const rows = [header]
  for (const role of ROLE_NAMES) {
    const s: RoleSample[] = r.samples[role]
    if (s.length === 0) continue
    const cpu = s.map(x => x.cpuMs)
    rows.push([role, String(s.length), three(s.map(x => x.msgsIn)), three(s.map(x => x.framesIn)), three(s.map(x => x.msgsOut)), three(s.map(x => x.bytesIn), 1, 1024), fmt(percentile(s.map(x => x.bytesOut), 0.99) / 1024, 1), three(cpu), fmt(percentile(cpu, 0.99) / r.timing.periodMs * 100, 2)])
  }
  return align(rows)
}

export function roundsSummary (r: ModelResult): string {
  const lines: string[] = []
  const reach = r.planReachMs.filter(x => !Number.isNaN(x))
  const agree = r.rounds.map(o => o.live === 0 ? 0 : o.agreeing / o.live)
  lines.push(`plan accepted by the last host (from round start): ${reach.length === 0 ? 'never' : `p50 ${fmt(percentile(reach, 0.5) / 1000, 2)} s, max ${fmt(Math.max(...reach) / 1000, 2)} s`} (period ${r.timing.periodMs / 1000} s; rounds with a plan ${reach.length}/${r.rounds.length})`)
  lines.push(`hosts agreeing on the round's plan (accepted it and saw its majority before the next planning time): min ${fmt(Math.min(...agree) * 100, 1)}%, per round ${agree.map(a => fmt(a * 100, 1) + '%').join(' ')}`)
  lines.push(`planners (rank): ${r.rounds.map(o => o.planner === undefined ? 'none' : `${o.planner} (${o.plannerRank})`).join(', ')}; moves ${r.rounds.map(o => o.moves).join(' ')}`)
  for (const o of r.rounds) {
    for (const t of o.takeovers) lines.push(`round ${o.round}: ${t.role} ${t.killed} killed at +${fmt((t.killedAt % r.timing.periodMs) / 1000, 2)} s; ${t.by === undefined ? 'not taken over' : `taken over by ${t.by}, its work done ${fmt((t.doneAt! - t.killedAt) / 1000, 2)} s later (+${fmt((t.doneAt! % r.timing.periodMs) / 1000, 2)} s into the round)`}`)
    const kinds = new Map<string, number>()
    for (const a of o.accusations) kinds.set(`${a.kind} by ${a.by}, seen by ${a.detectedBy}`, (kinds.get(`${a.kind} by ${a.by}, seen by ${a.detectedBy}`) ?? 0) + 1)
    for (const [k, c] of kinds) lines.push(`round ${o.round}: detected ${k} (${c}x)`)
  }
  return lines.join('\n')
}

export function align (rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map(r => (r[c] ?? '').length)))
  const line = (r: string[]): string => r.map((cell, c) => c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)).join('  ')
  return [line(rows[0]!), widths.map(w => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n')
}
