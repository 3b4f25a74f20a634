/** Small helpers for the lab's printed measurements: percentiles and aligned tables. */

/** Nearest-rank percentile (p in 0..100) of `values`; NaN when empty. */
export function percentile (values: readonly number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.ceil(p / 100 * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!
}

export function mean (values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((s, v) => s + v, 0) / values.length
}

/** Right-aligned columns under a header, two spaces apart. */
export function formatTable (header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padStart(widths[i]!)).join('  ')
  return [line(header), line(widths.map(w => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n'
}

/** Milliseconds as seconds with `digits` decimals, or '-' when not a number. */
export function seconds (ms: number, digits = 2): string {
  return Number.isFinite(ms) ? (ms / 1000).toFixed(digits) : '-'
}

export function mib (bytes: number): string {
  return Number.isFinite(bytes) ? (bytes / (1 << 20)).toFixed(0) : '-'
}

export function fixed (x: number, digits = 1): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '-'
}
