/** The benches' tables: first column left-aligned, numbers right-aligned, a rule under the header. */
export function table (head: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map(r => r[i]!.length)))
  const line = (r: readonly string[]): string => r.map((c, i) => i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!)).join('  ')
  return [line(head), w.map(n => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n')
}
