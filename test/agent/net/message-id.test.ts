import test from 'ava'
import { fastMessageId } from '../../../agent/net/message-id.ts'

const b = (...xs: number[]): Uint8Array => Uint8Array.from(xs)

test('the fast message id names a message by author and sequence number, as StrictSign ids do', t => {
  const a = { from: b(1, 2, 3), seqno: b(0, 0, 7) }
  t.is(fastMessageId(a), fastMessageId({ from: b(1, 2, 3), seqno: b(0, 0, 7) }), 'another copy of the same message')
  t.not(fastMessageId(a), fastMessageId({ ...a, seqno: b(0, 0, 8) }), 'the next message of the same author')
  t.not(fastMessageId(a), fastMessageId({ ...a, from: b(1, 2, 4) }), 'another author, same sequence number')
  // Field boundaries are kept: moving a byte from one field to the other is another id.
  t.not(fastMessageId({ from: b(1, 2), seqno: b(3) }), fastMessageId({ from: b(1), seqno: b(2, 3) }))
  t.is(typeof fastMessageId({}), 'string', 'a message missing both fields still gets a key (it fails validation and is never filed)')
})
