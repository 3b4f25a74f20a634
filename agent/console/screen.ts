/**
 * Drawing on a terminal with plain ANSI escape codes: the alternate screen,
 * a hidden cursor, a few styles, and whole frames drawn from the top left
 * with every line cut or padded to the terminal's width.
 */

export const ESC = '\x1b['
export const ENTER_SCREEN = `${ESC}?1049h${ESC}?25l`
export const LEAVE_SCREEN = `${ESC}0m${ESC}?25h${ESC}?1049l`

export type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan' | 'inverse'

const SGR: Record<Style, string> = { bold: '1', dim: '2', red: '31', green: '32', yellow: '33', cyan: '36', inverse: '7' }

export interface Segment {
  text: string
  style?: Style | Style[]
}

/** A line of the screen: plain text, or styled segments. */
export type Line = string | Segment[]

export function seg (text: string, style?: Style | Style[]): Segment {
  return style === undefined ? { text } : { text, style }
}

/** Draws `lines` as one frame, `width` x `height`; lines beyond the height are dropped. */
export function frame (lines: readonly Line[], width: number, height: number): string {
  let out = `${ESC}H`
  for (let row = 0; row < height; row++) {
    const line = lines[row] ?? ''
    out += renderLine(line, width) + `${ESC}K`
    if (row < height - 1) out += '\r\n'
  }
  return out
}

/** A line cut to `width` visible characters, with its styles. */
export function renderLine (line: Line, width: number): string {
  const segments = typeof line === 'string' ? [{ text: line }] : line
  let left = width
  let out = ''
  for (const s of segments) {
    if (left <= 0) break
    const text = clean(s.text).slice(0, left)
    left -= text.length
    if (s.style === undefined) { out += text; continue }
    const styles = Array.isArray(s.style) ? s.style : [s.style]
    out += `${ESC}${styles.map(x => SGR[x]).join(';')}m${text}${ESC}0m`
  }
  return out
}

/** Plain text of a line (tests, and measuring). */
export function plain (line: Line): string {
  return typeof line === 'string' ? line : line.map(s => s.text).join('')
}

/** Control characters in gossiped strings must not drive the terminal. */
function clean (text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, '?') // eslint-disable-line no-control-regex
}
