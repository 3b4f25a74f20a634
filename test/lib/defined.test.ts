import test from 'ava'
import { encode } from 'cborg'
import { definedOnly } from '../../lib/defined.ts'

test('undefined-valued fields are absent, every other value stays, in order', t => {
  const o = definedOnly({ a: 1, b: undefined, c: 0, d: '', e: false, f: null, g: 'x' })
  t.deepEqual(Object.keys(o), ['a', 'c', 'd', 'e', 'f', 'g'])
  t.false('b' in o)
  t.deepEqual(o, { a: 1, c: 0, d: '', e: false, f: null, g: 'x' })
})

test('spread in place it reads as the conditional spreads did, key order included', t => {
  const fix: string | undefined = undefined
  const rank: number | undefined = 2
  const before = { id: 'x', ...(fix !== undefined ? { fix } : {}), ...(rank !== undefined ? { rank } : {}), last: true }
  const after = { id: 'x', ...definedOnly({ fix, rank }), last: true }
  t.deepEqual(Object.keys(after), Object.keys(before))
  t.is(JSON.stringify(after), JSON.stringify(before))
  t.deepEqual(encode(after), encode(before))
})

test('CBOR sees the difference it exists for: an undefined field is a key on the wire', t => {
  const detail: string | undefined = undefined
  t.notDeepEqual(encode({ vm: 'a', detail }), encode({ vm: 'a' }))
  t.deepEqual(encode({ vm: 'a', ...definedOnly({ detail }) }), encode({ vm: 'a' }))
})

test('the type: fields that may be undefined become optional, the others stay required', t => {
  const maybe = (n: number): string | undefined => n > 0 ? 'yes' : undefined
  const o = definedOnly({ required: 1, optional: maybe(1) })
  const required: number = o.required
  const optional: string | undefined = o.optional
  t.is(required, 1)
  t.is(optional, 'yes')
})
