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
      const extra = Object.entries({ ...base, ...fields }).filter(([k]) => k !== 'component').map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ')
      sink.write(`${rec.ts.slice(11, 23)} ${lvl.padEnd(5)} ${String(base.component ?? '')} ${msg}${extra === '' ? '' : ' ' + extra}\n`)
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

/** A logger that keeps lines in memory (tests) or drops them. */
export function silentLogger (): Logger {
  return createLogger({ sink: { write () {} }, pretty: false })
}
