/**
 * Structured logs: one JSON object per line on stdout (journald keeps them),
 * or a short readable line when stdout is a terminal. Components log through
 * a child logger that stamps their name.
 */
export const LEVELS = ['debug', 'info', 'warn', 'error'] as const
export type Level = typeof LEVELS[number]
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 }

/**
 * A level that can change while the agent runs (a config reload): the
 * logger and all its children read it on every record, so setting it once
 * changes every component's threshold.
 */
export interface LevelCell {
  level: Level
}

export interface Logger {
  debug (msg: string, fields?: Record<string, unknown>): void
  info (msg: string, fields?: Record<string, unknown>): void
  warn (msg: string, fields?: Record<string, unknown>): void
  error (msg: string, fields?: Record<string, unknown>): void
  child (component: string): Logger
}

export interface LogSink {
  write (line: string): void
}

export function createLogger (opts: { level?: Level | LevelCell, pretty?: boolean, sink?: LogSink, fields?: Record<string, unknown> } = {}): Logger {
  const cell: LevelCell = typeof opts.level === 'object' ? opts.level : { level: opts.level ?? 'info' }
  const sink = opts.sink ?? process.stdout
  const pretty = opts.pretty ?? (process.stdout.isTTY === true)
  const base = opts.fields ?? {}
  const emit = (lvl: Level, msg: string, fields: Record<string, unknown> = {}): void => {
    if (ORDER[lvl] < ORDER[cell.level]) return
    const rec = { ts: new Date().toISOString(), level: lvl, ...base, msg, ...fields }
    if (pretty) {
      const extra = Object.entries({ ...base, ...fields }).filter(([k]) => k !== 'component').map(([k, v]) => `${k}=${readable(v)}`)
      const component = base.component === undefined ? [] : [readable(base.component)]
      sink.write([rec.ts.slice(11, 23), lvl.padEnd(5), ...component, readable(msg), ...extra].join(' ') + '\n')
    } else {
      sink.write(JSON.stringify(rec) + '\n')
    }
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    // The child shares the cell, so a level set later reaches it too.
    child: (component) => createLogger({ ...opts, level: cell, fields: { ...base, component } })
  }
}

/**
 * A value as the terminal line shows it: strings bare, unless they hold a
 * control character (a newline would split the record, an escape sequence
 * from a peer's error text would drive the terminal): then quoted and
 * escaped, as JSON does; anything else as JSON.
 */
function readable (v: unknown): string {
  if (typeof v !== 'string') return JSON.stringify(v) ?? String(v)
  return /[\x00-\x1f\x7f]/.test(v) ? JSON.stringify(v) : v // eslint-disable-line no-control-regex
}

/** A logger that keeps lines in memory (tests) or drops them. */
export function silentLogger (): Logger {
  return createLogger({ sink: { write () {} }, pretty: false })
}
