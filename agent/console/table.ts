/** Plain-text tables: columns padded to their widest cell, a header row first. */
export function table (header: readonly string[], rows: ReadonlyArray<readonly string[]>, gap = 2): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + gap))).join('').trimEnd()
  return [line(header), ...rows.map(line)]
}
