/** Terminal input in raw mode, as keys. */

export type Key =
  | { name: 'char', ch: string }
  | { name: 'tab' | 'backtab' | 'up' | 'down' | 'pageup' | 'pagedown' | 'enter' | 'escape' | 'backspace' | 'ctrl-c' }

const SEQUENCES: ReadonlyArray<[string, Key]> = [
  ['\x1b[A', { name: 'up' }], ['\x1bOA', { name: 'up' }],
  ['\x1b[B', { name: 'down' }], ['\x1bOB', { name: 'down' }],
  ['\x1b[5~', { name: 'pageup' }], ['\x1b[6~', { name: 'pagedown' }],
  ['\x1b[Z', { name: 'backtab' }]
]

/** Splits one chunk of raw input into keys; unknown escape sequences are skipped. */
export function parseKeys (data: string): Key[] {
  const keys: Key[] = []
  let i = 0
  while (i < data.length) {
    const rest = data.slice(i)
    const seq = SEQUENCES.find(([s]) => rest.startsWith(s))
    if (seq !== undefined) { keys.push(seq[1]); i += seq[0].length; continue }
    const ch = data[i]!
    if (ch === '\x1b') {
      // A lone ESC is the Escape key; ESC [ ... is a sequence we do not know.
      const unknown = /^\x1b\[[0-9;]*[A-Za-z~]/.exec(rest) // eslint-disable-line no-control-regex
      if (unknown !== null) { i += unknown[0].length; continue }
      keys.push({ name: 'escape' }); i++; continue
    }
    if (ch === '\t') keys.push({ name: 'tab' })
    else if (ch === '\r' || ch === '\n') keys.push({ name: 'enter' })
    else if (ch === '\x7f' || ch === '\b') keys.push({ name: 'backspace' })
    else if (ch === '\x03') keys.push({ name: 'ctrl-c' })
    else if (ch >= ' ') keys.push({ name: 'char', ch })
    i++
  }
  return keys
}
