import test from 'ava'
import { createHash } from 'node:crypto'
import { compareBytes, preferPlan, rankCandidates, roundKeyText, xorDistance } from '../../lib/election.ts'
import { defaultTiming, maxRanks, planDeadlineMs, PUBLISH_SPREAD, publishOffsetMs, roundAt } from '../../lib/rounds.ts'

const sha = (s: string): Uint8Array => createHash('sha256').update(s).digest()

test('candidates are ranked by XOR distance to the round key, the same on every call', t => {
  const key = Uint8Array.from([0b1010_0000])
  const cands = [
    { host: 'a', kadId: Uint8Array.from([0b1010_0001]) }, // distance 1
    { host: 'b', kadId: Uint8Array.from([0b0010_0000]) }, // distance 128
    { host: 'c', kadId: Uint8Array.from([0b1011_0000]) } // distance 16
  ]
  t.deepEqual(rankCandidates(key, cands), ['a', 'c', 'b'])
  t.deepEqual(rankCandidates(key, [...cands].reverse()), ['a', 'c', 'b'])
  t.deepEqual([...xorDistance(key, cands[2]!.kadId)], [16])
  t.true(compareBytes(Uint8Array.from([1, 0]), Uint8Array.from([0, 255])) > 0)
})

test('the planner changes from round to round', t => {
  const cands = Array.from({ length: 8 }, (_, i) => ({ host: `h${i}`, kadId: sha(`peer${i}`) }))
  const planners = new Set<string>()
  for (let r = 0; r < 40; r++) planners.add(rankCandidates(sha(roundKeyText('c1', r)), cands)[0]!)
  t.true(planners.size >= 5, `only ${planners.size} distinct planners in 40 rounds`)
})

test('the lower rank wins when two plans meet; the first of one rank stays', t => {
  t.true(preferPlan(undefined, { rank: 3 }))
  t.true(preferPlan({ rank: 1 }, { rank: 0 }))
  t.false(preferPlan({ rank: 0 }, { rank: 1 }))
  t.false(preferPlan({ rank: 0 }, { rank: 0 }))
})

test('round timing: rank k plans k takeover slots after rank 0', t => {
  const tm = defaultTiming(10_000)
  t.is(roundAt(123_456, tm), 12)
  t.is(planDeadlineMs(12, 0, tm), 124_000)
  t.is(planDeadlineMs(12, 2, tm), 126_000)
  t.true(maxRanks(tm) >= 3)
})

test('publish offsets: stable, inside their share of the time before planning, and spread over it', t => {
  const timing = defaultTiming(40_000)
  const window = timing.planAtMs * PUBLISH_SPREAD
  // Digests need time to spread, and skewed clocks (up to takeoverMs / 2) publish late.
  t.true(timing.planAtMs - window > timing.takeoverMs / 2)
  const offsets = Array.from({ length: 64 }, (_, i) => publishOffsetMs(`host-${i}`, 1234, timing))
  t.deepEqual(offsets, Array.from({ length: 64 }, (_, i) => publishOffsetMs(`host-${i}`, 1234, timing)), 'the same every time')
  t.true(offsets.every(o => Number.isInteger(o) && o >= 0 && o < window))
  // 64 hosts over 8 slices of the window: every slice gets some, none gets half.
  const slices = Array.from({ length: 8 }, (_, k) => offsets.filter(o => Math.floor(o / window * 8) === k).length)
  t.true(slices.every(n => n >= 2 && n <= 20), `hosts per eighth of the window: ${slices.join(' ')}`)
  t.not(publishOffsetMs('host-1', 1234, timing), publishOffsetMs('host-1', 1235, timing), 'a host\'s place changes from round to round')
})
