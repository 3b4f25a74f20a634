/**
 * Structured logs: one JSON object per line on stdout (journald keeps them),
 * or a short readable line when stdout is a terminal. Components log through
 * a child logger that stamps their name.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error'
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 }

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

export function createLogger (opts: { level?: Level, pretty?: boolean, sink?: LogSink, fields?: Record<string, unknown> } = {}): Logger {
  const level = ORDER[opts.level ?? 'info']
  const sink = opts.sink ?? process.stdout
  const pretty = opts.pretty ?? (process.stdout.isTTY === true)
  const base = opts.fields ?? {}
  const emit = (lvl: Level, msg: string, fields: Record<string, unknown> = {}): void => {
    if (ORDER[lvl] < level) return
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
    child: (component) => createLogger({ ...opts, fields: { ...base, component } })
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
