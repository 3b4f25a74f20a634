/**
 * When a tiered host votes (agent/cluster/tiered/vote-delay.ts): after the
 * plan's fan-out share of the slot, at a per-host offset within the spread.
 */
import test from 'ava'
import { VOTE_AFTER_SHARE, VOTE_SPREAD_SHARE, voteDelayMs } from '../../../agent/cluster/tiered/vote-delay.ts'
import { defaultTiming } from '../../../lib/rounds.ts'

test('votes wait the fan-out share, then a per-host offset within the spread; hosts and rounds get different offsets', t => {
  const timing = defaultTiming(41_000)
  const from = VOTE_AFTER_SHARE * timing.takeoverMs
  const to = from + VOTE_SPREAD_SHARE * timing.takeoverMs
  const delays = Array.from({ length: 40 }, (_, i) => voteDelayMs(`h${i}`, 7, timing))
  for (const d of delays) t.true(d >= from && d < to + 1, `${d} ms in [${from}, ${to})`)
  t.true(new Set(delays).size > 30, `offsets spread: ${delays.join(',')}`)
  t.not(voteDelayMs('h1', 7, timing), voteDelayMs('h1', 8, timing), 'a host is not always last')
  // Every vote leaves well inside the slot the plan waits before it runs.
  t.true(to < timing.takeoverMs / 2)
})
