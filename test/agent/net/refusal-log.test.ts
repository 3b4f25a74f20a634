import test from 'ava'
import { createLogger } from '../../../agent/log.ts'
import { REFUSAL_LOG_EVERY_MS, refusalLog } from '../../../agent/net/refusal-log.ts'

test('a refused peer is named with why, once a minute however often it retries', t => {
  const lines: Array<{ msg: string, peer: string, why: string }> = []
  let now = 0
  const refused = refusalLog(createLogger({ pretty: false, sink: { write: l => { lines.push(JSON.parse(l) as { msg: string, peer: string, why: string }) } } }), p => `why ${p}`, () => now)
  for (let i = 0; i < 30; i++) { refused('P1'); now += 1_000 }
  refused('P2')
  t.deepEqual(lines.map(l => [l.peer, l.why]), [['P1', 'why P1'], ['P2', 'why P2']])
  now += REFUSAL_LOG_EVERY_MS
  refused('P1')
  t.is(lines.length, 3)
  t.is(lines[2]!.msg, 'refused a connection from a peer that is not a member')
})
