import test from 'ava'
import { nextSeq, reservationFor, SEQ_PER_MS, SEQ_RESERVE } from '../../lib/sequence.ts'

test('sequence numbers follow the clock, and rise by one when the clock stands still or steps back', t => {
  t.is(nextSeq(0, 5), 5 * SEQ_PER_MS)
  t.is(nextSeq(5 * SEQ_PER_MS, 5), 5 * SEQ_PER_MS + 1)
  t.is(nextSeq(9 * SEQ_PER_MS, 5), 9 * SEQ_PER_MS + 1)
})

test('a mark is reserved ahead only when a number passes the stored one', t => {
  t.is(reservationFor(100, 100), undefined)
  t.is(reservationFor(101, 100), 101 + SEQ_RESERVE)
  // A clock-paced host writes once per SEQ_RESERVE of numbers, not once per message.
  let reserved = 0
  let writes = 0
  for (let ms = 1_000; ms < 61_000; ms += 100) {
    const mark = reservationFor(nextSeq(0, ms), reserved)
    if (mark !== undefined) { reserved = mark; writes++ }
  }
  t.true(writes <= 60_000 * SEQ_PER_MS / SEQ_RESERVE + 1, `${writes} writes in a minute of messages every 100 ms`)
})
