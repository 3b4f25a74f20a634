import test from 'ava'
import { fuzz } from '../../lab/fuzz/run.ts'
import { TARGETS } from '../../lab/fuzz/targets.ts'

// The short run of `npm run fuzz`: every decoder and validator, seeded.
for (const target of TARGETS) {
  test(`fuzz ${target.name}: 5000 random and mutated inputs, no crash, no hang, every rejection has a reason`, t => {
    const r = fuzz(target, 5000, 7)
    t.is(r.crashes.length, 0, r.crashes[0]?.error)
    t.is(r.hangs, 0)
    t.is(r.accepted + [...r.reasons.values()].reduce((s, n) => s + n, 0), r.inputs)
    t.true(r.accepted > 0, 'some mutated inputs are still valid (the mutations stay close to the format)')
    t.log(`${r.accepted} accepted, ${r.inputs - r.accepted} rejected under ${r.reasons.size} reasons in ${r.ms.toFixed(0)} ms`)
  })
}
