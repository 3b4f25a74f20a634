/**
 * Moves pay for their bytes (lib/cost.ts, the migration term): a move is
 * made only if the traffic it takes off the WAN, over the payback horizon,
 * outweighs its memory copy over the same link. One VM of 1 GiB sends 1
 * Mbit/s to a pinned peer in the other DC: moving it saves 1 Mbit/s and
 * sends 8,590 Mbit once, so it pays back in 8,590 s.
 */
import test from 'ava'
import { parseConfig } from '../../../agent/config.ts'
import { NOTHING_HELD, roundPlan } from '../../../agent/policy/round-plan.ts'
import type { PlannerConfig } from '../../../lib/planners/config.ts'
import { PLANNERS } from '../../../lib/planners/index.ts'
import { minimalConfig } from '../../config-fixture.ts'
import { mesh, snapshot } from '../../lib/fixtures.ts'

const PAYBACK_S = 1024 * 8 * 1024 * 1024 / 1e6

function pair (bps: number): ReturnType<typeof snapshot> {
  return snapshot({
    dcs: ['A', 'B'],
    links: mesh(['A', 'B'], 1e7),
    hosts: [{ id: 'a1', dc: 'A', memoryMiB: 4096, vcpus: 8 }, { id: 'b1', dc: 'B', memoryMiB: 4096, vcpus: 8 }],
    vms: [{ id: 'v1', host: 'a1', memoryMiB: 1024, vcpus: 1 }, { id: 'v2', host: 'b1', memoryMiB: 1024, vcpus: 1, pinned: true }],
    flows: [{ src: 'v1', dst: 'v2', bps }]
  })
}

const horizon = (seconds: number): PlannerConfig => ({ weights: { migration: 1 }, amortizeSeconds: seconds })

test('both planners make a move only when it pays back its memory copy within the horizon', t => {
  for (const [name, plan] of Object.entries(PLANNERS)) {
    t.deepEqual(plan(pair(1e6), horizon(PAYBACK_S * 0.9)).moves, [], `${name}: pays back in ${PAYBACK_S.toFixed(0)} s, horizon 10% shorter`)
    t.deepEqual(plan(pair(1e6), horizon(PAYBACK_S * 1.1)).moves.map(m => `${m.vm}->${m.to}`), ['v1->b1'], `${name}: horizon 10% longer`)
    // Without the term (the thesis's cost, the offline default) moving is free.
    t.is(plan(pair(1e6)).moves.length, 1, name)
  }
})

test("the agents' default horizon is one hour: a move paying back in 72 min waits, one paying back in 36 min is made", t => {
  const config = parseConfig(minimalConfig({}))
  t.is(config.planner.weights.migration, 1)
  t.is(config.planner.paybackSeconds, 3600)
  const slow = pair(PAYBACK_S / (72 * 60) * 1e6)
  const fast = pair(PAYBACK_S / (36 * 60) * 1e6)
  t.deepEqual(roundPlan(slow, config.planner, config.safety, NOTHING_HELD, config.roundPeriodMs).plan.moves, [])
  t.deepEqual(roundPlan(fast, config.planner, config.safety, NOTHING_HELD, config.roundPeriodMs).plan.moves.map(m => m.vm), ['v1'])
  // An operator who wants moving free says so.
  const free = parseConfig(minimalConfig({ planner: { weights: { migration: 0 } } }))
  t.deepEqual(roundPlan(slow, free.planner, free.safety, NOTHING_HELD, free.roundPeriodMs).plan.moves.map(m => m.vm), ['v1'])
})
