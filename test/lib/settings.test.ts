import test from 'ava'
import { encode } from 'cborg'
import { Checker } from '../../lib/check.ts'
import { generateKeyPairSync, sign, verify as cryptoVerify } from 'node:crypto'
import { type ClusterSettings, merge, newer, nextSettings, readSettings, settingsBytes, signatureProblem } from '../../lib/settings.ts'
import { decodeEnvelope, encodeEnvelope, WireError } from '../../lib/wire/codec.ts'
import { MAX_MESSAGE_BYTES, type Envelope } from '../../lib/wire/messages.ts'
import { describeRules, MAX_CLUSTER_RULES, MAX_CLUSTER_RULES_BYTES, rulesBytes } from '../../lib/cluster-rules.ts'
import type { PlacementRule } from '../../lib/model.ts'

const base: ClusterSettings = { version: 3, setBy: 'h2', at: 1000, values: { mode: 'approve', maxMoves: 4 } }

test('newest wins: a higher version beats a lower whatever its host or time', t => {
  const later: ClusterSettings = { version: 4, setBy: 'a', at: 1, values: { mode: 'auto' } }
  t.true(newer(later, base))
  t.false(newer(base, later))
  t.is(merge(base, later), later)
  t.is(merge(later, base), later)
  t.is(merge(undefined, base), base)
  t.is(merge(base, undefined), base)
})

test('a tie on the version is broken by host id, then time, then values: every agent keeps the same record in any order', t => {
  const records: ClusterSettings[] = [
    { version: 5, setBy: 'h1', at: 9, values: { mode: 'auto' } },
    { version: 5, setBy: 'h3', at: 1, values: { mode: 'dry-run' } },
    { version: 5, setBy: 'h3', at: 2, values: { mode: 'observe' } },
    { version: 5, setBy: 'h3', at: 2, values: { mode: 'approve' } }
  ]
  const orders = [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1], [1, 3, 0, 2]]
  const kept = orders.map(o => o.map(i => records[i]!).reduce<ClusterSettings | undefined>((acc, r) => merge(acc, r), undefined))
  for (const k of kept) t.deepEqual(k, kept[0])
  t.is(kept[0]!.setBy, 'h3')
  t.is(kept[0]!.at, 2)
  // The same record again changes nothing (a re-send).
  t.false(newer({ ...base }, base))
})

test('a change takes one version above the known record, keeps the other values and drops the unset ones', t => {
  const next = nextSettings(base, { set: { maxMoves: 2, cooldownRounds: 1 }, unset: ['mode'] }, 'h1', 5000)
  t.deepEqual(next, { version: 4, setBy: 'h1', at: 5000, values: { maxMoves: 2, cooldownRounds: 1 } })
  t.true(newer(next, base), 'made after seeing base, it wins even from a lower host id')
  t.deepEqual(nextSettings(undefined, { set: { mode: 'approve' } }, 'h1', 1), { version: 1, setBy: 'h1', at: 1, values: { mode: 'approve' } })
})

function read (v: unknown): ClusterSettings | string {
  const c = new Checker()
  const s = readSettings(c, 'settings', v)
  return s ?? c.summary()
}

test('a record is read only with known keys and values within the config\'s rules', t => {
  t.deepEqual(read(base), base)
  t.regex(read({ ...base, values: { mode: 'yolo' } }) as string, /settings\.values\.mode: expected one of "observe"/)
  t.regex(read({ ...base, values: { maxMoves: -1 } }) as string, /maxMoves: expected a number >= 0/)
  t.regex(read({ ...base, values: { maxInFlight: 1.5 } }) as string, /maxInFlight: expected an integer/)
  t.regex(read({ ...base, values: { minImprovement: 2 } }) as string, /minImprovement: expected a number <= 1/)
  t.regex(read({ ...base, values: { roundPeriodMs: 10 } }) as string, /roundPeriodMs/, 'a local field is no cluster setting')
  t.regex(read({ ...base, version: 0 }) as string, /version: expected a number >= 1/)
  t.regex(read({ ...base, extra: 1 }) as string, /extra/)
})

test('on the wire: a settings event round-trips, one with a bad record or none is a schema drop, and a state carries the version', t => {
  const env: Envelope<'event'> = { v: 1, topic: 'event', host: 'h1', round: 7, seq: 9, body: { kind: 'settings', settings: base } }
  t.deepEqual(decodeEnvelope(encodeEnvelope(env), 'event'), env)
  const reason = (body: unknown): string => {
    try { decodeEnvelope(encode({ ...env, body }), 'event'); return 'accepted' } catch (err) { return err instanceof WireError ? err.reason : `crash: ${String(err)}` }
  }
  t.is(reason({ kind: 'settings' }), 'schema')
  t.is(reason({ kind: 'settings', settings: { ...base, values: { mode: 'yolo' } } }), 'schema')
  t.is(reason({ kind: 'settings', settings: { ...base, version: -1 } }), 'schema')
  t.is(reason({ kind: 'settings', settings: 'approve' }), 'schema')
  const state: Envelope<'host'> = { v: 1, topic: 'host', host: 'h1', round: 7, seq: 3, body: { dc: 'A', memoryMiB: 1, vcpus: 1, address: 'fd00::1', topology: 'x', leaving: false, vms: [], settings: 3 } }
  t.deepEqual(decodeEnvelope(encodeEnvelope(state), 'host'), state)
  t.throws(() => decodeEnvelope(encode({ ...state, body: { ...state.body, settings: 0 } }), 'host'), { instanceOf: WireError })
})

test('a signed record: the signature covers every field but itself, a wrong or missing one is told apart, and a malformed one is refused on reading', t => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const verify = (bytes: Uint8Array, sig: Uint8Array): boolean => cryptoVerify(null, bytes, publicKey, sig)
  const sig = sign(null, settingsBytes(base), privateKey).toString('base64')
  const signed: ClusterSettings = { ...base, sig }
  t.is(signatureProblem(signed, verify), undefined)
  t.deepEqual(settingsBytes(signed), settingsBytes(base), 'the signature is not part of what it signs')
  t.is(signatureProblem(base, verify), 'unsigned')
  t.is(signatureProblem({ ...signed, values: { mode: 'auto' } }, verify), 'bad-signature', 'other values under a stolen signature')
  t.is(signatureProblem({ ...signed, version: 4 }, verify), 'bad-signature')
  t.deepEqual(read(signed), signed, 'read back whole')
  t.regex(read({ ...base, sig: 'not base64 of 64 bytes' }) as string, /sig/)
  t.false(newer(signed, base), 'the signature plays no part in which record wins')
})

const RULES = [
  { kind: 'spread', group: 'db', minDcs: 2, maxPerDc: 1 },
  { kind: 'together', group: 'shop' },
  { kind: 'avoid', vm: 'batch-7', dcs: ['fra'] },
  { kind: 'avoid', group: 'eu-only', dcs: ['nyc', 'sfo'] }
]

test('a record carrying the placement rules reads back whole, on the wire too; names are not checked here (no snapshot), only the form', t => {
  const withRules = { ...base, values: { ...base.values, rules: RULES } } as ClusterSettings
  t.deepEqual(read(withRules), withRules)
  t.deepEqual(read({ ...base, values: { rules: [] } }), { ...base, values: { rules: [] } }, 'an empty list: no rules anywhere')
  const env: Envelope<'event'> = { v: 1, topic: 'event', host: 'h1', round: 7, seq: 9, body: { kind: 'settings', settings: withRules } }
  t.deepEqual(decodeEnvelope(encodeEnvelope(env), 'event'), env)
  // A change of another key carries the list over; the list is replaced whole, never merged.
  const next = nextSettings(withRules, { set: { mode: 'auto' } }, 'h1', 2000)
  t.deepEqual(next.values.rules, RULES)
  t.deepEqual(nextSettings(next, { set: { rules: [RULES[1]!] as ClusterSettings['values']['rules'] } }, 'h1', 3000).values.rules, [RULES[1]])
  t.false('rules' in nextSettings(next, { unset: ['rules'] }, 'h1', 3000).values, 'unset: back to each host\'s file')
})

test('bad rules are refused with their path, and the event carrying them is a schema drop', t => {
  const bad = (rules: unknown): string => read({ ...base, values: { rules } }) as string
  t.regex(bad([RULES[0], { kind: 'near', group: 'db' }]), /settings\.values\.rules\[1\]\.kind: expected one of spread, together, avoid, found "near"/)
  t.regex(bad([{ kind: 'avoid', vm: 'v1', group: 'g', dcs: ['A'] }]), /rules\[0\]: expected exactly one of vm and group, found "both"/)
  t.regex(bad([{ kind: 'avoid', vm: 'v1', dcs: [] }]), /rules\[0\]\.dcs: expected at least one DC/)
  t.regex(bad([{ kind: 'spread', group: 'db' }]), /rules\[0\]: expected minDcs or maxPerDc/)
  t.regex(bad([{ kind: 'spread', group: 'db', minDcs: 0 }]), /rules\[0\]\.minDcs: expected a number >= 1/)
  t.regex(bad([{ kind: 'together', group: 'db', extra: 1 }]), /rules\[0\]\.extra/)
  t.regex(bad({ kind: 'together', group: 'db' }), /settings\.values\.rules: expected an array/)
  const env = { v: 1, topic: 'event', host: 'h1', round: 7, seq: 9, body: { kind: 'settings', settings: { ...base, values: { rules: [{ kind: 'together' }] } } } }
  t.throws(() => decodeEnvelope(encode(env), 'event'), { instanceOf: WireError, message: /rules\[0\]\.group/ })
})

test('a list over the bounds is refused whole, by count and by size, before its rules are read', t => {
  const many = Array.from({ length: MAX_CLUSTER_RULES + 1 }, (_, i) => ({ kind: 'together', group: `g${i}` }))
  t.regex(read({ ...base, values: { rules: many } }) as string, new RegExp(`rules: expected at most ${MAX_CLUSTER_RULES} rules, found "${MAX_CLUSTER_RULES + 1} rules"`))
  t.deepEqual((read({ ...base, values: { rules: many.slice(1) } }) as ClusterSettings).values.rules?.length, MAX_CLUSTER_RULES, 'at the bound: read')
  // Few rules, each naming a thousand DCs: the size bound holds where the count does not.
  const dcs = Array.from({ length: 1000 }, (_, i) => `dc-${i}`)
  const wide = Array.from({ length: 10 }, (_, i) => ({ kind: 'avoid', vm: `v${i}`, dcs }))
  t.true(rulesBytes(wide) > MAX_CLUSTER_RULES_BYTES)
  t.regex(read({ ...base, values: { rules: wide } }) as string, /rules: expected at most 32768 bytes of rules \(as compact JSON\), found "\d+ bytes"/)
  // A record at both bounds still travels with room to spare.
  const full = Array.from({ length: MAX_CLUSTER_RULES }, (_, i) => ({ kind: 'avoid', vm: `vm-${String(i).padStart(4, '0')}`, dcs: ['dc-a', 'dc-b'] }))
  const last = { kind: 'avoid', vm: 'last', dcs: ['d0'] }
  const filled = [...full.slice(0, -1), last]
  while (rulesBytes(filled) < MAX_CLUSTER_RULES_BYTES - 16) last.dcs.push(`d${last.dcs.length}`)
  const record = read({ ...base, values: { rules: filled } }) as ClusterSettings
  t.is(typeof record, 'object', String(record))
  const bytes = encodeEnvelope({ v: 1, topic: 'event', host: 'h1', round: 7, seq: 9, body: { kind: 'settings', settings: record } }).length
  t.log(`a settings event with ${filled.length} rules (${rulesBytes(filled)} bytes as JSON) is ${bytes} bytes on the wire, of ${MAX_MESSAGE_BYTES}`)
  t.true(bytes < MAX_MESSAGE_BYTES / 4)
})

test('the rules summed up: count by kind', t => {
  t.is(describeRules(RULES as PlacementRule[]), '4 rules (1 spread, 1 together, 2 avoid)')
  t.is(describeRules([RULES[2]] as PlacementRule[]), '1 rule (1 avoid)')
  t.is(describeRules([]), 'no rules')
})
