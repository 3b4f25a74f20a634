import test from 'ava'
import { parseFlowLine } from '../../../../agent/drivers/file/parse.ts'

test('a record: addresses canonical, extra keys ignored', t => {
  t.deepEqual(parseFlowLine('{"src":"FD00:0:0::1","dst":"fd00::2","bytes":1500,"ts":1700000000}'), { src: 'fd00::1', dst: 'fd00::2', bytes: 1500 })
  t.deepEqual(parseFlowLine('{"bytes":0,"dst":"2001:db8::1","src":"fd00::1"}'), { src: 'fd00::1', dst: '2001:db8::1', bytes: 0 })
})

test('blank lines are not records and not errors', t => {
  t.is(parseFlowLine(''), undefined)
  t.is(parseFlowLine('   '), undefined)
})

test('malformed lines say why', t => {
  const cases: Array<[string, RegExp]> = [
    ['{"src":"fd00::1"', /not JSON/],
    ['[1,2]', /not a JSON object/],
    ['null', /not a JSON object/],
    ['42', /not a JSON object/],
    ['{"src":"10.0.0.1","dst":"fd00::2","bytes":1}', /src is not an IPv6/],
    ['{"src":"fd00::1","dst":"fd00::g","bytes":1}', /dst is not an IPv6/],
    ['{"src":"fd00::1","bytes":1}', /dst is not an IPv6/],
    ['{"src":"fd00::1","dst":"fd00::2","bytes":-1}', /bytes/],
    ['{"src":"fd00::1","dst":"fd00::2","bytes":1.5}', /bytes/],
    ['{"src":"fd00::1","dst":"fd00::2","bytes":"100"}', /bytes/],
    ['{"src":"fd00::1","dst":"fd00::2","bytes":1e300}', /bytes/]
  ]
  for (const [line, reason] of cases) {
    const r = parseFlowLine(line)
    t.is(typeof r, 'string', line)
    t.regex(r as string, reason, line)
  }
})
