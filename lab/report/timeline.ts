/**
 * The migrations of a run on a timeline: one row per VM, a marker where it
 * moved (coloured by the DC it went to; a cross for a failed attempt), the
 * DC it started in at the left, and dashed lines for phase changes and
 * chaos events. A standalone SVG, like svg-chart.ts.
 */
import { PALETTE } from './svg-chart.ts'

export interface TimelineMove { t: number, vm: string, toDc: string, ok: boolean, label: string }
export interface TimelineMark { t: number, label: string }

export interface TimelineInput {
  title: string
  vms: string[]
  startDc: Record<string, string>
  dcs: string[]
  moves: TimelineMove[]
  marks: TimelineMark[]
  endSec: number
}

const ROW = 22

export function timelineSvg (i: TimelineInput): string {
  const m = { left: 110, right: 20, top: 60, bottom: 40 }
  const width = 900
  const height = m.top + m.bottom + Math.max(1, i.vms.length) * ROW
  const pw = width - m.left - m.right
  const x = (t: number): number => m.left + Math.max(0, Math.min(1, t / Math.max(1, i.endSec))) * pw
  const y = (vm: string): number => m.top + i.vms.indexOf(vm) * ROW + ROW / 2
  const color = (dc: string): string => PALETTE[Math.max(0, i.dcs.indexOf(dc)) % PALETTE.length]!
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`)
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`)
  out.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${esc(i.title)}</text>`)
  i.dcs.forEach((dc, k) => {
    const lx = m.left + k * 80
    out.push(`<circle cx="${lx}" cy="36" r="5" fill="${color(dc)}"/><text x="${lx + 9}" y="40">${esc(dc)}</text>`)
  })
  out.push(`<text x="${m.left + i.dcs.length * 80 + 10}" y="40">(colour: DC the VM went to; × failed)</text>`)
  for (const vm of i.vms) {
    const yy = y(vm)
    out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${yy}" y2="${yy}" stroke="#eee"/>`)
    out.push(`<text x="${m.left - 34}" y="${yy + 4}" text-anchor="end">${esc(vm)}</text>`)
    out.push(`<rect x="${m.left - 30}" y="${yy - 6}" width="24" height="12" fill="${color(i.startDc[vm] ?? '')}" opacity="0.7"/>`)
  }
  for (const mk of i.marks) {
    const xx = r(x(mk.t))
    out.push(`<line x1="${xx}" x2="${xx}" y1="${m.top - 8}" y2="${height - m.bottom}" stroke="#999" stroke-dasharray="4 3"/>`)
    out.push(`<text x="${xx + 3}" y="${m.top - 10}" fill="#555">${esc(mk.label.slice(0, 40))}</text>`)
  }
  for (const mv of i.moves) {
    if (!i.vms.includes(mv.vm)) continue
    const xx = r(x(mv.t)); const yy = y(mv.vm)
    if (mv.ok) out.push(`<circle cx="${xx}" cy="${yy}" r="6" fill="${color(mv.toDc)}" stroke="#333"><title>${esc(mv.label)}</title></circle>`)
    else out.push(`<text x="${xx}" y="${yy + 5}" text-anchor="middle" font-size="16" fill="#c00"><title>${esc(mv.label)}</title>×</text>`)
  }
  const axisY = height - m.bottom
  out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${axisY}" y2="${axisY}" stroke="#333"/>`)
  const step = i.endSec > 120 ? 30 : i.endSec > 40 ? 10 : 5
  for (let t = 0; t <= i.endSec; t += step) out.push(`<text x="${r(x(t))}" y="${axisY + 16}" text-anchor="middle">${t}</text>`)
  out.push(`<text x="${m.left + pw / 2}" y="${height - 6}" text-anchor="middle">seconds since the traffic started</text>`)
  out.push('</svg>')
  return out.join('\n') + '\n'
}

function r (v: number): number {
  return Math.round(v * 10) / 10
}

function esc (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}
