/**
 * A small SVG line chart: series of (x, y) points, linear axes with round
 * ticks, a legend. No dependencies; the output is a standalone SVG document
 * that browsers and the docs (Markdown) render as is.
 */

export interface Series {
  name: string
  points: Array<[number, number]>
  /** Draw points as steps (for values that hold until the next point). */
  step?: boolean
}

export interface ChartOptions {
  title: string
  xLabel: string
  yLabel: string
  width?: number
  height?: number
  /** Force the y axis to start at zero (default true). */
  yFromZero?: boolean
}

export const PALETTE = ['#d1495b', '#00798c', '#edae49', '#30638e', '#66a182', '#8d96a3', '#003d5b', '#a05195']

export function lineChart (series: Series[], opts: ChartOptions): string {
  const width = opts.width ?? 720; const height = opts.height ?? 400
  const m = { left: 64, right: 16, top: 36, bottom: 48 }
  const pw = width - m.left - m.right; const ph = height - m.top - m.bottom
  const all = series.flatMap(s => s.points)
  const xs = all.map(p => p[0]); const ys = all.map(p => p[1])
  const x0 = xs.length > 0 ? Math.min(...xs) : 0; const x1 = xs.length > 0 ? Math.max(...xs) : 1
  const y0 = opts.yFromZero === false && ys.length > 0 ? Math.min(...ys) : 0
  const y1 = ys.length > 0 ? Math.max(...ys) : 1
  const xt = ticks(x0, x1 === x0 ? x0 + 1 : x1); const yt = ticks(y0, y1 === y0 ? y0 + 1 : y1)
  const xmin = xt[0]!; const xmax = xt[xt.length - 1]!; const ymin = yt[0]!; const ymax = yt[yt.length - 1]!
  const sx = (x: number): number => m.left + (x - xmin) / (xmax - xmin) * pw
  const sy = (y: number): number => m.top + ph - (y - ymin) / (ymax - ymin) * ph
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`)
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`)
  out.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(opts.title)}</text>`)
  for (const t of yt) {
    out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${r(sy(t))}" y2="${r(sy(t))}" stroke="#e5e5e5"/>`)
    out.push(`<text x="${m.left - 6}" y="${r(sy(t)) + 4}" text-anchor="end">${label(t)}</text>`)
  }
  for (const t of xt) out.push(`<text x="${r(sx(t))}" y="${m.top + ph + 16}" text-anchor="middle">${label(t)}</text>`)
  out.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + ph}" stroke="#333"/>`)
  out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${m.top + ph}" y2="${m.top + ph}" stroke="#333"/>`)
  out.push(`<text x="${m.left + pw / 2}" y="${height - 10}" text-anchor="middle">${esc(opts.xLabel)}</text>`)
  out.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(opts.yLabel)}</text>`)
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!
    const pts: string[] = []
    s.points.forEach(([x, y], k) => {
      if (s.step === true && k > 0) pts.push(`${r(sx(x))},${r(sy(s.points[k - 1]![1]))}`)
      pts.push(`${r(sx(x))},${r(sy(y))}`)
    })
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(' ')}"/>`)
    const ly = m.top + 8 + i * 16
    out.push(`<line x1="${m.left + pw - 150}" x2="${m.left + pw - 130}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="3"/>`)
    out.push(`<text x="${m.left + pw - 124}" y="${ly + 4}">${esc(s.name)}</text>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}

/** Round tick values covering [lo, hi]: steps of 1, 2 or 5 times a power of ten. */
export function ticks (lo: number, hi: number, target = 6): number[] {
  const raw = (hi - lo) / target
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map(k => k * mag).find(s => s >= raw) ?? 10 * mag
  const start = Math.floor(lo / step) * step
  const out: number[] = []
  for (let t = start; t < hi + step * 0.999; t += step) out.push(Number(t.toPrecision(12)))
  return out
}

function label (x: number): string {
  if (Math.abs(x) >= 1e6) return `${Number((x / 1e6).toPrecision(3))}M`
  if (Math.abs(x) >= 1e4) return `${Number((x / 1e3).toPrecision(3))}k`
  return String(Number(x.toPrecision(4)))
}

function r (x: number): number {
  return Math.round(x * 10) / 10
}

function esc (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
