/**
 * A small writer for the Prometheus text exposition format (version 0.0.4):
 * one HELP and TYPE line per family, then its samples. Label values are
 * escaped as the format asks (backslash, double quote, newline).
 */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export type MetricType = 'counter' | 'gauge' | 'histogram'
export type Labels = Record<string, string>

export class Exposition {
  private readonly lines: string[] = []

  family (name: string, type: MetricType, help: string): this {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`)
    this.lines.push(`# TYPE ${name} ${type}`)
    return this
  }

  sample (name: string, value: number, labels: Labels = {}): this {
    const l = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')
    this.lines.push(`${name}${l === '' ? '' : `{${l}}`} ${formatValue(value)}`)
    return this
  }

  /** A histogram from its cumulative bucket counts (upper bounds ascending), sum and count. */
  histogram (name: string, bounds: readonly number[], cumulative: readonly number[], sum: number, count: number, labels: Labels = {}): this {
    bounds.forEach((b, i) => this.sample(`${name}_bucket`, cumulative[i] ?? 0, { ...labels, le: formatValue(b) }))
    this.sample(`${name}_bucket`, count, { ...labels, le: '+Inf' })
    this.sample(`${name}_sum`, sum, labels)
    this.sample(`${name}_count`, count, labels)
    return this
  }

  text (): string {
    return this.lines.join('\n') + '\n'
  }
}

function escapeLabel (v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function formatValue (v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return String(v)
}
