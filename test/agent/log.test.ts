/** agent/log.ts: levels, JSON lines for the journal, one readable line per record on a terminal. */
import test from 'ava'
import { createLogger, type Level, type Logger } from '../../agent/log.ts'

function capture (opts: { level?: Level, pretty: boolean }): { log: Logger, lines: string[] } {
  const lines: string[] = []
  return { log: createLogger({ ...opts, sink: { write: l => { lines.push(l) } } }), lines }
}

const everyLevel = (log: Logger): void => { log.debug('d'); log.info('i'); log.warn('w'); log.error('e') }

test('a level drops the levels below it, in children too; info by default', t => {
  const expected: Record<Level, string[]> = { debug: ['d', 'i', 'w', 'e'], info: ['i', 'w', 'e'], warn: ['w', 'e'], error: ['e'] }
  for (const level of Object.keys(expected) as Level[]) {
    const { log, lines } = capture({ level, pretty: false })
    everyLevel(log)
    everyLevel(log.child('api'))
    t.deepEqual(lines.map(l => (JSON.parse(l) as { msg: string }).msg), [...expected[level], ...expected[level]], `level ${level}`)
  }
  const { log, lines } = capture({ pretty: false })
  everyLevel(log)
  t.deepEqual(lines.map(l => (JSON.parse(l) as { level: string }).level), ['info', 'warn', 'error'])
})

test('JSON: one object per line with the time, level, message, component and fields', t => {
  const { log, lines } = capture({ level: 'debug', pretty: false })
  const before = Date.now()
  log.child('a1').info('round', { round: 7, planner: 'b1', moves: ['app0-1:a1->b1'], action: 'migrating', error: 'line one\nline two' })
  t.is(lines.length, 1)
  t.true(lines[0]!.endsWith('\n') && lines[0]!.indexOf('\n') === lines[0]!.length - 1, 'one line, newline-terminated')
  const rec = JSON.parse(lines[0]!) as Record<string, unknown>
  t.regex(rec.ts as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  const at = Date.parse(rec.ts as string)
  t.true(at >= before - 1 && at <= Date.now() + 1, 'stamped now')
  t.like(rec, { level: 'info', msg: 'round', component: 'a1', round: 7, planner: 'b1', moves: ['app0-1:a1->b1'], action: 'migrating', error: 'line one\nline two' })
  t.deepEqual(Object.keys(rec).slice(0, 4), ['ts', 'level', 'component', 'msg'], 'the time and level lead')
})

test('terminal: one short readable line per record; a newline or escape sequence in a value cannot split it or drive the terminal', t => {
  const { log, lines } = capture({ level: 'info', pretty: true })
  log.child('a1').info('round', { round: 7, action: 'dry-run, not migrating', moves: ['app0-1:a1->b1'], ok: true })
  log.child('a1').debug('dropped by the level')
  log.warn('peer said', { detail: 'bad\nthing\x1b[2J' })
  t.is(lines.length, 2)
  t.regex(lines[0]!, /^\d\d:\d\d:\d\d\.\d{3} info {2}a1 round round=7 action=dry-run, not migrating moves=\["app0-1:a1->b1"\] ok=true\n$/)
  t.regex(lines[1]!, /^\d\d:\d\d:\d\d\.\d{3} warn {2}peer said detail="bad\\nthing\\u001b\[2J"\n$/)
  for (const l of lines) t.is(l.indexOf('\n'), l.length - 1, 'one line each')
  t.false(lines.some(l => l.includes('\x1b')), 'no raw escape reaches the terminal')
})

test('a level cell set later changes what the logger and the children made before write (a config reload)', t => {
  const lines: string[] = []
  const cell: { level: Level } = { level: 'warn' }
  const log = createLogger({ level: cell, pretty: false, sink: { write: l => { lines.push(l) } } })
  const child = log.child('api')
  everyLevel(child)
  cell.level = 'debug'
  everyLevel(child)
  everyLevel(log)
  t.deepEqual(lines.map(l => (JSON.parse(l) as { msg: string }).msg), ['w', 'e', 'd', 'i', 'w', 'e', 'd', 'i', 'w', 'e'])
})
