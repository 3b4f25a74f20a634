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
