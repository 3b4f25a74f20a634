import test from 'ava'
import fc from 'fast-check'
import { CounterDeltas } from '../../../../agent/drivers/nftables/deltas.ts'

const m = (o: Record<string, number>): Map<string, number> => new Map(Object.entries(o))

test('growth since the previous reading; unchanged counters report nothing', t => {
  const d = new CounterDeltas<string>()
  d.reset(m({ a: 100, b: 5 }))
  t.deepEqual(d.step(m({ a: 150, b: 5, c: 7 })), m({ a: 50, c: 7 }))
  t.deepEqual(d.step(m({ a: 150, b: 5, c: 7 })), m({}))
})

test('a lower value is a reset and counts from zero; a vanished counter is forgotten', t => {
  const d = new CounterDeltas<string>()
  d.step(m({ a: 1000, b: 40 }))
  t.deepEqual(d.step(m({ a: 300 })), m({ a: 300 }), 'a went 1000 -> 300: it was reset and grew by 300')
  t.deepEqual(d.step(m({ a: 300, b: 10 })), m({ b: 10 }), 'b came back: counted from zero, not as 10 - 40')
})

test('for monotonic counters the deltas add up to the final values', t => {
  fc.assert(fc.property(fc.array(fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.nat(1000)), { maxLength: 20 }), steps => {
    const d = new CounterDeltas<string>()
    const value = new Map<string, number>()
    const summed = new Map<string, number>()
    for (const add of steps) {
      for (const [k, v] of Object.entries(add)) value.set(k, (value.get(k) ?? 0) + v)
      for (const [k, v] of d.step(value)) summed.set(k, (summed.get(k) ?? 0) + v)
    }
    for (const [k, v] of value) if (v > 0) t.is(summed.get(k), v)
  }))
})
