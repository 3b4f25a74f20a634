/**
 * The report of a lab run: index.html with SVG plots (cost per round as the
 * planners saw it and as the router measured it, the WAN load in total and
 * per link from the router's own counters, the migrations on a timeline)
 * and CSV files with every number behind them.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { RunResult } from '../run/runner.ts'
import { lineChart, type Series } from './svg-chart.ts'
import { timelineSvg } from './timeline.ts'

export interface LabReportOptions {
  /** Extra HTML appended to the page (the demo links its offline report). */
  appendix?: string
}

const mbit = (bps: number): number => Math.round(bps / 1e3) / 1e3

export async function writeLabReport (out: string, r: RunResult, opts: LabReportOptions = {}): Promise<string> {
  await mkdir(out, { recursive: true })
  const files: Record<string, string> = {
    'cost.svg': costSvg(r),
    'wan-total.svg': totalSvg(r),
    'links-carried.svg': linksSvg(r, 'carried'),
    'links-offered.svg': linksSvg(r, 'offered'),
    'migrations.svg': migrationsSvg(r),
    'load.csv': loadCsv(r),
    'plans.csv': plansCsv(r),
    'migrations.csv': migrationsCsv(r),
    'events.csv': csv(['t_s', 'event'], r.events.map(e => [e.t.toFixed(2), e.what])),
    'placement.csv': placementCsv(r),
    'summary.json': JSON.stringify(summaryJson(r), null, 2) + '\n'
  }
  for (const [name, text] of Object.entries(files)) await writeFile(join(out, name), text)
  const index = join(out, 'index.html')
  await writeFile(index, html(r, opts))
  return index
}

function costSvg (r: RunResult): string {
  const series: Series[] = [
    { name: 'measured at the router', points: r.series.map(p => [round(p.t), p.cost]) },
    { name: 'planner: before its plan', points: r.plans.filter(p => p.t >= 0).map(p => [round(p.t), p.costBefore]) },
    { name: 'planner: after its plan', points: r.plans.filter(p => p.t >= 0).map(p => [round(p.t), p.costAfter]) }
  ]
  return lineChart(series, { title: 'Cost (mean loading factor of the WAN links)', xLabel: 'seconds since the traffic started', yLabel: 'cost' })
}

function totalSvg (r: RunResult): string {
  return lineChart([
    { name: 'offered (nft counters)', points: r.series.map(p => [round(p.t), mbit(p.offeredTotal)]) },
    { name: 'carried (htb classes)', points: r.series.map(p => [round(p.t), mbit(p.carriedTotal)]) }
  ], { title: 'WAN traffic at the router, all links', xLabel: 'seconds since the traffic started', yLabel: 'Mbit/s' })
}

function linksSvg (r: RunResult, which: 'carried' | 'offered'): string {
  const series: Series[] = r.links.map((l, k) => ({
    name: `${l.name} (${mbit(l.capacityBps)})`,
    points: r.series.map(p => [round(p.t), mbit((which === 'carried' ? p.carriedBps : p.offeredBps)[k] ?? 0)] as [number, number])
  }))
  const title = which === 'carried' ? 'Load per WAN link, carried (router\'s htb class counters)' : 'Load per WAN link, offered (router\'s nft counters, before shaping)'
  return lineChart(series, { title, xLabel: 'seconds since the traffic started', yLabel: 'Mbit/s (capacity in the legend)', height: 520 })
}

function migrationsSvg (r: RunResult): string {
  const startDc = Object.fromEntries(Object.entries(r.initial).map(([vm, h]) => [vm, r.hostDc[h] ?? '']))
  return timelineSvg({
    title: `Migrations (${r.migrations.filter(m => m.ok).length} done, ${r.migrations.filter(m => !m.ok).length} failed)`,
    vms: r.scenario.vms.map(v => v.id),
    startDc,
    dcs: r.scenario.topology.dcs.map(d => d.id),
    moves: r.migrations.map(m => ({ t: m.t, vm: m.vm, toDc: m.toDc, ok: m.ok, label: `${m.vm} ${m.from} -> ${m.to} at ${m.t.toFixed(1)} s${m.downtimeMs !== undefined ? `, downtime ${m.downtimeMs} ms` : ''}${m.error !== undefined ? `: ${m.error}` : ''}` })),
    marks: r.events.map(e => ({ t: e.t, label: e.what })),
    endSec: Math.max(1, Math.ceil(r.ranSec))
  })
}

function loadCsv (r: RunResult): string {
  const rows: Array<Array<string | number>> = []
  for (const p of r.series) {
    r.links.forEach((l, k) => rows.push([p.t.toFixed(2), l.name, l.capacityBps, Math.round(p.offeredBps[k]!), Math.round(p.carriedBps[k]!)]))
  }
  return csv(['t_s', 'link', 'capacity_bps', 'offered_bps', 'carried_bps'], rows)
}

function plansCsv (r: RunResult): string {
  return csv(['t_s', 'round', 'planner_host', 'rank', 'algorithm', 'cost_before', 'cost_after', 'accepted_by', 'moves'],
    r.plans.map(p => [p.t.toFixed(2), p.round, p.planner, p.rank, p.algorithm, p.costBefore, p.costAfter, p.acceptedBy, p.moves.join(' ')]))
}

function migrationsCsv (r: RunResult): string {
  return csv(['t_s', 'vm', 'from', 'to', 'from_dc', 'to_dc', 'ok', 'total_ms', 'downtime_ms', 'error'],
    r.migrations.map(m => [m.t.toFixed(2), m.vm, m.from, m.to, m.fromDc, m.toDc, String(m.ok), Math.round(m.totalMs), m.downtimeMs ?? '', m.error ?? '']))
}

function placementCsv (r: RunResult): string {
  const phases = r.placements.map(p => p.phase)
  return csv(['vm', 'initial', ...phases.map(p => `end of ${p}`)], r.scenario.vms.map(v => [v.id, r.initial[v.id] ?? '', ...r.placements.map(p => p.hostOf[v.id] ?? '')]))
}

export interface RunSummary {
  scenario: string
  startedAt: string
  ranSec: number
  aborted: boolean
  phases: Array<{ name: string, startSec: number, endSec: number, migrations: number, before: LoadSummary, after: LoadSummary }>
  migrations: { done: number, failed: number, downtimeMs: { min: number, median: number, max: number } | null }
  rounds: number
  takeovers: number
  invariants: { ok: boolean, problems: string[] }
  agentErrors: string[]
}

interface LoadSummary { offeredMbps: number, carriedMbps: number, cost: number }

export function summaryJson (r: RunResult): RunSummary {
  const ok = r.migrations.filter(m => m.ok)
  const downs = ok.map(m => m.downtimeMs).filter((d): d is number => d !== undefined).sort((a, b) => a - b)
  return {
    scenario: r.scenario.name,
    startedAt: r.startedAt,
    ranSec: round(r.ranSec),
    aborted: r.aborted,
    phases: r.phases.map(p => ({ name: p.name, startSec: p.startSec, endSec: round(p.endSec), migrations: p.migrations, before: { offeredMbps: mbit(p.before.offeredBps), carriedMbps: mbit(p.before.carriedBps), cost: round3(p.before.cost) }, after: { offeredMbps: mbit(p.after.offeredBps), carriedMbps: mbit(p.after.carriedBps), cost: round3(p.after.cost) } })),
    migrations: { done: ok.length, failed: r.migrations.length - ok.length, downtimeMs: downs.length === 0 ? null : { min: downs[0]!, median: downs[Math.floor(downs.length / 2)]!, max: downs[downs.length - 1]! } },
    rounds: r.plans.length,
    takeovers: r.plans.filter(p => p.rank > 0).length,
    invariants: { ok: r.final.ok, problems: r.final.problems },
    agentErrors: r.agentErrors
  }
}

function html (r: RunResult, opts: LabReportOptions): string {
  const s = summaryJson(r)
  const rows = r.phases.map(p => `<tr><td>${esc(p.name)}</td><td>${p.startSec}-${Math.round(p.endSec)} s</td><td>${mbit(p.before.offeredBps)}</td><td>${mbit(p.after.offeredBps)}</td><td>${mbit(p.before.carriedBps)}</td><td>${mbit(p.after.carriedBps)}</td><td>${round3(p.before.cost)}</td><td>${round3(p.after.cost)}</td><td>${p.migrations}</td></tr>`).join('\n')
  const d = s.migrations.downtimeMs
  const invariants = r.final.ok ? 'every VM on exactly one host, no host over capacity (checked against the kernel at the end)' : `<b>violated</b>: ${esc(r.final.problems.join('; '))}`
  const events = r.events.map(e => `<li>${e.t.toFixed(1)} s: ${esc(e.what)}</li>`).join('\n')
  return `<!doctype html><meta charset="utf-8"><title>heliotrope lab: ${esc(r.scenario.name)}</title>
<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}img{max-width:100%;margin:1em 0}</style>
<h1>heliotrope lab: ${esc(r.scenario.name)}</h1>
<p>${esc(r.scenario.description)}</p>
<p>${r.scenario.topology.dcs.length} DCs, ${Object.keys(r.hostDc).length} hosts with real agents (nftables collector on the bridge hook, lab hypervisor), ${r.scenario.vms.length} VMs sending real UDP, rounds of ${r.scenario.roundPeriodMs / 1000} s, ${round(r.ranSec)} s of traffic${r.aborted ? ' (aborted early)' : ''}, started ${esc(r.startedAt)}.</p>
<h2>WAN load at the router</h2>
<p>Offered: bytes entering each WAN direction before shaping (router nft counters); carried: what its htb class sent. "Before": the start of the phase, before its first migration; "after": the phase's last three rounds.</p>
<table><tr><th>phase</th><th>time</th><th>offered before, Mbit/s</th><th>offered after</th><th>carried before</th><th>carried after</th><th>cost before</th><th>cost after</th><th>migrations</th></tr>
${rows}</table>
<p>Migrations: ${s.migrations.done} done, ${s.migrations.failed} failed; downtime ${d === null ? 'not measured' : `min ${d.min} ms, median ${d.median} ms, max ${d.max} ms`} (gap between echoes of a 2 ms UDP probe through the router). Rounds with a plan: ${s.rounds}, of which takeovers: ${s.takeovers}.</p>
<p>Invariants: ${invariants}.</p>
${r.agentErrors.length > 0 ? `<p>Agent errors: ${esc(r.agentErrors.slice(0, 10).join('; '))}</p>` : ''}
<img src="wan-total.svg" alt="WAN traffic in total">
<img src="links-carried.svg" alt="load per link, carried">
<img src="links-offered.svg" alt="load per link, offered">
<img src="cost.svg" alt="cost per round">
<img src="migrations.svg" alt="migrations on a timeline">
<h2>Events</h2><ul>${events}</ul>
<p>Data: <a href="load.csv">load.csv</a>, <a href="plans.csv">plans.csv</a>, <a href="migrations.csv">migrations.csv</a>, <a href="events.csv">events.csv</a>, <a href="placement.csv">placement.csv</a>, <a href="summary.json">summary.json</a>.</p>
${opts.appendix ?? ''}
`
}

function csv (header: string[], rows: Array<Array<string | number>>): string {
  return [header.join(','), ...rows.map(r => r.map(field).join(','))].join('\n') + '\n'
}

function field (v: string | number): string {
  const s = String(v)
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

function round (x: number): number {
  return Math.round(x * 10) / 10
}

function round3 (x: number): number {
  return Number.isFinite(x) ? Math.round(x * 1000) / 1000 : NaN
}

function esc (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
