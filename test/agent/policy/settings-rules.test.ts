import test from 'ava'
import { Checker } from '../../../lib/check.ts'
import { checkValue, SETTING_KEYS } from '../../../lib/settings.ts'
import { DEFAULT_SAFETY } from '../../../agent/policy/config.ts'
import { checkChange, effective, settingIssue, settingRows } from '../../../agent/policy/settings-rules.ts'
import { parseConfig } from '../../../agent/config.ts'
import { minimalConfig } from '../../config-fixture.ts'

const SAMPLES: unknown[] = [-1, -0.5, 0, 0.25, 0.999, 1, 1.5, 2, 7, 1e9, 'observe', 'dry-run', 'approve', 'auto', 'yolo', '3', true, null, Number.NaN, Number.POSITIVE_INFINITY]

test('the wire\'s value rules (lib) and the config\'s zod rules give the same verdict on every sample', t => {
  for (const key of SETTING_KEYS) {
    for (const v of SAMPLES) {
      const lib = checkValue(new Checker(), key, key, v) !== undefined
      const zod = settingIssue(key, v) === undefined
      t.is(lib, zod, `${key} = ${String(v)}: lib ${lib ? 'accepts' : 'refuses'}, config ${zod ? 'accepts' : 'refuses'}`)
    }
  }
})

test('a change is checked whole: every bad key and value listed, nothing typed through', t => {
  t.deepEqual(checkChange({ mode: 'approve', maxMoves: 3 }, ['cooldownRounds']), { set: { mode: 'approve', maxMoves: 3 }, unset: ['cooldownRounds'] })
  const err = t.throws(() => checkChange({ mode: 'yolo', minImprovement: 2, roundPeriodMs: 10 }, ['maxMovs']))
  t.regex(err.message, /mode: expected one of/)
  t.regex(err.message, /minImprovement: expected/)
  t.regex(err.message, /roundPeriodMs: expected a cluster setting/)
  t.regex(err.message, /maxMovs: expected a cluster setting \(did you mean maxMoves\?\)/)
})

test('the cluster\'s values win over the file\'s; the others stay the file\'s, and each says where it comes from', t => {
  const config = parseConfig(minimalConfig({}))
  const file = { mode: 'dry-run' as const, planner: config.planner, safety: DEFAULT_SAFETY }
  const record = { version: 4, setBy: 'h2', at: 1, values: { mode: 'approve' as const, maxMoves: 2, cooldownRounds: 9 } }
  const e = effective(file, record)
  t.is(e.mode, 'approve')
  t.is(e.planner.maxMoves, 2)
  t.is(e.planner.maxMovesPerHost, config.planner.maxMovesPerHost)
  t.is(e.safety.cooldownRounds, 9)
  t.is(e.safety.approvalWindowRounds, DEFAULT_SAFETY.approvalWindowRounds)
  t.is(e.planner.name, config.planner.name, 'what is not a setting is the file\'s')
  const rows = settingRows(file, record)
  t.deepEqual(rows.filter(r => r.source === 'cluster').map(r => r.key), ['mode', 'maxMoves', 'cooldownRounds'])
  t.deepEqual(effective(file, undefined), file)
})

const RULE_SAMPLES: unknown[] = [
  [], [{ kind: 'together', group: 'db' }], [{ kind: 'spread', group: 'db', minDcs: 2 }], [{ kind: 'spread', group: 'db' }],
  [{ kind: 'spread', group: 'db', maxPerDc: 0 }], [{ kind: 'spread', group: 'db', minDcs: 1.5 }], [{ kind: 'avoid', vm: 'v', dcs: ['A'] }],
  [{ kind: 'avoid', vm: 'v', group: 'g', dcs: ['A'] }], [{ kind: 'avoid', dcs: ['A'] }], [{ kind: 'avoid', vm: 'v', dcs: [] }],
  [{ kind: 'avoid', vm: '', dcs: ['A'] }], [{ kind: 'avoid', vm: 'v', dcs: ['A', 'A'] }], [{ kind: 'together', group: 'db', extra: 1 }],
  [{ kind: 'near', group: 'db' }], [{ group: 'db' }], ['together'], [null], { kind: 'together', group: 'db' },
  Array.from({ length: 256 }, (_, i) => ({ kind: 'together', group: `g${i}` })), Array.from({ length: 257 }, (_, i) => ({ kind: 'together', group: `g${i}` })),
  [{ kind: 'avoid', vm: 'v', dcs: Array.from({ length: 5000 }, (_, i) => `dc${i}`) }]
]

test('rules: the wire\'s reader (lib, form only) and the config\'s zod rule with the cluster bounds give the same verdict on every sample', t => {
  for (const v of RULE_SAMPLES) {
    const lib = checkValue(new Checker(), 'rules', 'rules', v) !== undefined
    const zod = settingIssue('rules', v) === undefined
    t.is(lib, zod, `rules = ${JSON.stringify(v).slice(0, 80)}: lib ${lib ? 'accepts' : 'refuses'}, config ${zod ? 'accepts' : 'refuses'}`)
  }
})

test('bad rules in a change are refused with each one\'s path under rules', t => {
  const err = t.throws(() => checkChange({ rules: [{ kind: 'together', group: 'db' }, { kind: 'avoid', vm: 'v1', dcs: [] }, { kind: 'spread', group: 'x' }] }))
  t.regex(err.message, /rules\[1\]\.dcs: expected/)
  t.regex(err.message, /rules\[2\]: expected minDcs or maxPerDc/)
  t.notRegex(err.message, /rules\[0\]/)
  t.regex(t.throws(() => checkChange({ rules: Array.from({ length: 257 }, () => ({ kind: 'together', group: 'g' })) })).message, /rules: expected/)
})

test('effective rules: the cluster\'s list when it sets one (whole, not merged), else the file\'s planner.rules; the row sums them up', t => {
  const fileRules = [{ kind: 'together' as const, group: 'shop' }, { kind: 'spread' as const, group: 'db', minDcs: 2 }]
  const config = parseConfig(minimalConfig({ planner: { rules: fileRules } }))
  const file = { mode: 'dry-run' as const, planner: config.planner, safety: DEFAULT_SAFETY }
  const cluster = [{ kind: 'avoid' as const, vm: 'v1', dcs: ['B'] }]
  t.deepEqual(effective(file, undefined).planner.rules, fileRules)
  t.deepEqual(effective(file, { version: 2, setBy: 'h2', at: 1, values: { mode: 'auto' } }).planner.rules, fileRules, 'a record without rules: the file\'s')
  t.deepEqual(effective(file, { version: 3, setBy: 'h2', at: 1, values: { rules: cluster } }).planner.rules, cluster)
  t.deepEqual(effective(file, { version: 4, setBy: 'h2', at: 1, values: { rules: [] } }).planner.rules, [], 'an empty list: no rules, whatever the file says')
  const rows = settingRows(file, { version: 3, setBy: 'h2', at: 1, values: { rules: cluster } })
  t.deepEqual(rows.find(r => r.key === 'rules'), { key: 'rules', value: '1 rule (1 avoid)', source: 'cluster' })
  t.deepEqual(settingRows(file, undefined).find(r => r.key === 'rules'), { key: 'rules', value: '2 rules (1 spread, 1 together)', source: 'file' })
})

test('a change\'s rules come out in the wire reader\'s shape, so the setter\'s record and the gossiped copies compare the same', t => {
  const { set } = checkChange({ rules: [{ dcs: ['B'], vm: 'v1', kind: 'avoid' }, { maxPerDc: 1, group: 'db', kind: 'spread' }] })
  t.is(JSON.stringify(set.rules), JSON.stringify([{ kind: 'avoid', dcs: ['B'], vm: 'v1' }, { kind: 'spread', group: 'db', maxPerDc: 1 }]))
})
