/**
 * The planners' fast rule check (lib/rule-counts.ts) against the plain one
 * on the JSON records (lib/rules.ts brokenRules), on random placements,
 * rules and moves: a move the fast check allows never breaks a kept rule,
 * and the counts agree with the records on whether any rule is broken.
 */
import test from 'ava'
import fc from 'fast-check'
import { compile } from '../../lib/instance.ts'
import type { PlacementRule, Snapshot } from '../../lib/model.ts'
import { RuleCounts } from '../../lib/rule-counts.ts'
import { brokenRules } from '../../lib/rules.ts'

const DCS = ['a', 'b', 'c', 'd']
const GROUPS = ['g0', 'g1', 'g2']

const rule: fc.Arbitrary<PlacementRule> = fc.oneof(
  fc.record({ kind: fc.constant('spread' as const), group: fc.constantFrom(...GROUPS), minDcs: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('spread' as const), group: fc.constantFrom(...GROUPS), maxPerDc: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('together' as const), group: fc.constantFrom(...GROUPS) }),
  fc.record({ kind: fc.constant('avoid' as const), group: fc.constantFrom(...GROUPS), dcs: fc.subarray(DCS, { minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('avoid' as const), vm: fc.constantFrom('v0', 'v1', 'v2'), dcs: fc.subarray(DCS, { minLength: 1, maxLength: 3 }) })
)

/** One host per DC, room for everything: only the rules decide. */
function world (groupOf: number[], dcOf: number[], rules: PlacementRule[]): Snapshot {
  return {
    version: 1,
    dcs: DCS.map(id => ({ id })),
    links: DCS.flatMap(a => DCS.filter(b => b !== a).map(b => ({ from: a, to: b, capacityBps: 1 }))),
    hosts: DCS.map(dc => ({ id: `h-${dc}`, dc, memoryMiB: 1e6, vcpus: 1000 })),
    vms: groupOf.map((g, i) => ({ id: `v${i}`, host: `h-${DCS[dcOf[i]!]}`, addresses: [], memoryMiB: 1, vcpus: 1, group: GROUPS[g]! })),
    prefixes: [],
    flows: [],
    rules
  }
}

test('a move the fast check allows never breaks a kept rule, and the counts say "broken" exactly when the records do', t => {
  // fc.assert throws with the counterexample when the property fails.
  t.notThrows(() => fc.assert(fc.property(
    fc.integer({ min: 3, max: 10 }).chain(n => fc.tuple(
      fc.array(fc.integer({ min: 0, max: 2 }), { minLength: n, maxLength: n }),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n }),
      fc.array(rule, { minLength: 1, maxLength: 4 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 0, max: 3 })), { maxLength: 30 })
    )),
    ([groupOf, dcOf, rules, moves]) => {
      const s = world(groupOf, dcOf, rules)
      const inst = compile(s)
      const at = [...dcOf]
      const broken = (): Set<number> => new Set(brokenRules(s, new Map(at.map((d, v) => [`v${v}`, DCS[d]!]))).map(b => b.rule))
      // Rules naming only empty groups compile to none, and bind nothing.
      if (inst.rules === undefined) return broken().size === 0
      const rc = new RuleCounts(inst.rules, inst.nDc, v => at[v]!)
      for (const [v, d] of moves) {
        const before = broken()
        if ((rc.violation === 0) !== (before.size === 0)) return false
        if (!rc.allows(v, at[v]!, d)) continue
        rc.moved(v, at[v]!, d)
        at[v] = d
        for (const r of broken()) if (!before.has(r)) return false
      }
      return true
    }
  ), { numRuns: 500, seed: 17 }))
})
