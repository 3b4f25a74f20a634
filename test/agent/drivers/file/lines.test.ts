import test from 'ava'
import { LineSplitter } from '../../../../agent/drivers/file/lines.ts'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

test('lines split across chunks come out whole, a trailing \\r removed', t => {
  const s = new LineSplitter()
  t.deepEqual(s.push(enc('ab')), [])
  t.is(s.pendingBytes, 2)
  t.deepEqual(s.push(enc('c\r\nde\nf')), ['abc', 'de'])
  t.deepEqual(s.push(enc('\n')), ['f'])
  t.is(s.pendingBytes, 0)
})

test('an overlong line is dropped up to its newline and counted; the next line is intact', t => {
  const s = new LineSplitter(8)
  t.deepEqual(s.push(enc('12345')), [])
  t.deepEqual(s.push(enc('67890')), []) // 10 bytes: over the bound, now skipping
  t.is(s.overlong, 1)
  t.is(s.pendingBytes, 0, 'nothing of it is held')
  t.deepEqual(s.push(enc('xyz\nok\n')), ['ok'])
  t.deepEqual(s.push(enc('123456789\nfine\n')), ['fine'])
  t.is(s.overlong, 2)
  t.deepEqual(s.push(enc('12345678\n')), ['12345678'], 'exactly the bound is accepted')
})

test('reset forgets a partial line', t => {
  const s = new LineSplitter()
  s.push(enc('{"src":'))
  s.reset()
  t.deepEqual(s.push(enc('new\n')), ['new'])
})

test('a bad bound is refused', t => {
  t.throws(() => new LineSplitter(0), { instanceOf: RangeError })
})
