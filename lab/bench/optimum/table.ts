/** The bench's printed output: one row per instance, then averages per kind. */
import type { ScenarioKind } from '../../../lib/scenario.ts'
import type { Diagnosis } from './diagnose.ts'
import type { Optimum } from './ilp.ts'
import type { Leftover } from './leftover.ts'
import type { Reach } from './reach.ts'
import type { Replayed, Rounds } from './replay.ts'

export interface Row {
  kind: ScenarioKind
  seed: number
  vms: number
  dcs: number
  hostsPerDc: number
  slack: number
  initial: number
  opt: Optimum
  thesis: Replayed
  look: Replayed
  /** The lookahead re-run round after round until it stops moving. */
  lookRounds: Rounds
  /** The lookahead under the agents' move budget, round after round until it stops moving. */
  agentRounds: Rounds
  /** Can the optimum be reached by single direct moves (the planners' way)? */
  reach: Reach
  diag: Diagnosis
  /** What the lookahead left on the table. */
  left: Leftover
}

/** A planner's cost over the optimum (1 when both are 0). */
export function ratio (cost: number, opt: number): number {
  if (opt > 0) return cost / opt
  return cost > 0 ? Infinity : 1
}

const WITHIN = 1.1

/** Share of the possible cost reduction a planner achieved. */
function closed (r: Row, cost: number): string {
  const possible = r.initial - r.opt.cost
  return possible > 0 ? `${(100 * (r.initial - cost) / possible).toFixed(1)}%` : '-'
}

export function table (rows: Row[]): string {
  const head = ['kind', 'seed', 'VMs', 'DCs', 'h/DC', 'slack', 'initial', 'optimum', 'thesis', 'lookahead', 'th/opt', 'la/opt', 'la closed', 'la rounds/opt', 'agents/opt', 'agents plan s', 'la mv', 'opt mv', 'reach', 'glpsol s']
  const body = rows.map(r => [
    r.kind, String(r.seed), String(r.vms), String(r.dcs), String(r.hostsPerDc), r.slack.toFixed(2),
    r.initial.toPrecision(4), r.opt.cost.toPrecision(4) + (r.opt.status === 'optimal' ? '' : '*'),
    r.thesis.cost.toPrecision(4), r.look.cost.toPrecision(4),
    fmt(ratio(r.thesis.cost, r.opt.cost)), fmt(ratio(r.look.cost, r.opt.cost)), closed(r, r.look.cost),
    `${fmt(ratio(r.lookRounds.cost, r.opt.cost))} (${r.lookRounds.rounds})`,
    `${fmt(ratio(r.agentRounds.cost, r.opt.cost))} (${r.agentRounds.rounds})`, planTimes(r.agentRounds.planMs),
    String(r.look.plan.moves.length), String(r.reach.moves), r.reach.verdict, r.opt.seconds.toFixed(1)
  ])
  return columns([head, ...body])
}

export function summary (rows: Row[]): string {
  const kinds = [...new Set(rows.map(r => r.kind))]
  const head = ['kind', 'n', 'th/opt gm', 'th <=1.1', 'la/opt gm', 'la <=1.1', 'la worst', 'rounds gm', 'rounds <=1.1', 'agents gm', 'agents <=1.1', 'agents worst', 'unproven', 'la>1.1', 'of which: opt blocked', 'move left', 'swap left']
  const line = (kind: string, rs: Row[]): string[] => {
    const th = rs.map(r => ratio(r.thesis.cost, r.opt.cost)); const la = rs.map(r => ratio(r.look.cost, r.opt.cost))
    const lr = rs.map(r => ratio(r.lookRounds.cost, r.opt.cost))
    const ag = rs.map(r => ratio(r.agentRounds.cost, r.opt.cost))
    const gaps = rs.filter(r => ratio(r.look.cost, r.opt.cost) > WITHIN)
    return [kind, String(rs.length), fmt(geomean(th)), share(th), fmt(geomean(la)), share(la), fmt(Math.max(...la)), fmt(geomean(lr)), share(lr), fmt(geomean(ag)), share(ag), fmt(Math.max(...ag)),
      String(rs.filter(r => r.opt.status !== 'optimal').length), String(gaps.length),
      String(gaps.filter(r => r.reach.verdict === 'blocked').length),
      String(gaps.filter(r => r.left.single > 0).length), String(gaps.filter(r => r.left.swap > 0).length)]
  }
  return columns([head, ...kinds.map(k => line(k, rows.filter(r => r.kind === k))), line('all', rows)])
}

/** The worst lookahead instances, group by group: where the optimum put things. */
export function details (rows: Row[], n: number): string {
  const worst = [...rows].sort((a, b) => ratio(b.look.cost, b.opt.cost) - ratio(a.look.cost, a.opt.cost)).slice(0, n)
  const out: string[] = []
  for (const r of worst) {
    const d = r.diag
    out.push(`${r.kind} seed ${r.seed} (${r.vms} VMs, ${r.dcs} DCs x ${r.hostsPerDc} hosts, slack ${r.slack.toFixed(2)}): la/opt ${fmt(ratio(r.look.cost, r.opt.cost))}, ` +
      `lookahead ${r.look.plan.moves.length} moves (${r.look.plan.stopped}), optimum ${r.reach.moves} moves, reach ${r.reach.verdict}` +
      `; ${d.offDc} VMs in another DC than the optimum, ${d.splitVsWhole} groups split that the optimum keeps whole, ${d.wholeElsewhere} whole but elsewhere` +
      `; left: best single move ${gapShare(r, r.left.single)} of the gap${r.left.single > 0 ? (r.left.singleMoved ? ' (its VM already moved)' : ' (VM unmoved)') : ''}, best swap ${gapShare(r, r.left.swap)}`)
    const rowsG = d.groups.filter(g => g.found !== g.opt).map(g => [`  ${g.group}(${g.size})`, `init ${g.init}`, `lookahead ${g.found}`, `opt ${g.opt}`])
    if (rowsG.length > 0) out.push(columns(rowsG, true))
  }
  return out.join('\n')
}

/** A round's plan time in the agents' loop, median/max in seconds. */
function planTimes (ms: number[] | undefined): string {
  if (ms === undefined || ms.length === 0) return '-'
  const sorted = [...ms].sort((a, b) => a - b)
  return `${(sorted[(sorted.length - 1) >> 1]! / 1000).toFixed(2)}/${(sorted.at(-1)! / 1000).toFixed(1)}`
}

function gapShare (r: Row, gain: number): string {
  const gap = r.look.cost - r.opt.cost
  return gap > 0 ? `${(100 * gain / gap).toFixed(0)}%` : '-'
}

function geomean (xs: number[]): number {
  const f = xs.filter(Number.isFinite)
  return f.length === 0 ? NaN : Math.exp(f.reduce((s, x) => s + Math.log(x), 0) / f.length)
}

function share (xs: number[]): string {
  return `${Math.round(100 * xs.filter(x => x <= WITHIN).length / xs.length)}%`
}

function fmt (x: number): string {
  return !Number.isFinite(x) ? String(x) : x < 10 ? x.toFixed(3) : x < 1000 ? x.toFixed(1) : x.toExponential(2)
}

/** Aligned columns: text left, numbers right (or all left). */
function columns (rows: string[][], left = false): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map(r => (r[i] ?? '').length)))
  return rows.map(r => r.map((c, i) => i === 0 || left ? c.padEnd(w[i]!) : c.padStart(w[i]!)).join('  ').trimEnd()).join('\n')
}
