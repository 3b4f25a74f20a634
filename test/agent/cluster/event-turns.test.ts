/**
 * When a tiered host's events leave (agent/cluster/tiered/event-turns.ts):
 * a vote after its per-host offset, any event made meanwhile after it, and
 * nothing once stopped. Real timers; the order is what is checked, and the
 * slot is short so the offsets are tens of milliseconds.
 */
import test from 'ava'
import { EventTurns, VOTE_SPREAD_SHARE } from '../../../agent/cluster/tiered/event-turns.ts'
import type { Envelope, EventMessage } from '../../../lib/wire/messages.ts'

const timing = { periodMs: 4000, planAtMs: 1600, takeoverMs: 400 }
let seq = 1
function event (host: string, body: EventMessage): Envelope<'event'> {
  return { v: 1, topic: 'event', host, round: 7, seq: seq++, body }
}
const vote = (host: string): Envelope<'event'> => event(host, { kind: 'plan-ack', round: 7, planner: 'p' })

test('votes wait a per-host offset within the spread; hosts get different offsets', t => {
  const turns = new EventTurns(timing)
  const delays = Array.from({ length: 20 }, (_, i) => turns.voteDelayMs(vote(`h${i}`)))
  for (const d of delays) t.true(d >= 0 && d < VOTE_SPREAD_SHARE * timing.takeoverMs, `${d} ms`)
  t.true(new Set(delays).size > 10, `offsets spread: ${delays.join(',')}`)
})

test('an event made while a vote waits leaves after the vote, in seq order; an event with no vote ahead leaves at once', async t => {
  const turns = new EventTurns(timing)
  // A host whose vote waits at least a few ms, so the event below is made while it waits.
  const host = Array.from({ length: 50 }, (_, i) => `h${i}`).find(h => turns.voteDelayMs(vote(h)) >= 10)!
  const order: string[] = []
  const v = turns.turn(vote(host)).then(() => { order.push('vote') })
  const e = turns.turn(event(host, { kind: 'leave' })).then(() => { order.push('leave') })
  await Promise.all([v, e])
  t.deepEqual(order, ['vote', 'leave'])
  const alone = new EventTurns(timing)
  let left = false
  const p = alone.turn(event(host, { kind: 'leave' })).then(() => { left = true })
  // Before any timer could fire: only promise jobs ran in between.
  await new Promise(resolve => setImmediate(resolve))
  t.true(left, 'no vote ahead: no wait')
  await p
})

test('stop releases a waiting vote unsent: its turn rejects', async t => {
  const turns = new EventTurns(timing)
  const host = Array.from({ length: 50 }, (_, i) => `h${i}`).find(h => turns.voteDelayMs(vote(h)) >= 10)!
  const waiting = turns.turn(vote(host))
  turns.stop()
  await t.throwsAsync(waiting, { message: /not sent: stopped/ })
  await t.throwsAsync(turns.turn(event(host, { kind: 'leave' })), { message: /not sent/ })
})
