/**
 * The tiered dissemination (docs/design.md §9.8) with real agents on [::1]:
 * six hosts in three DCs report to one aggregator per DC over direct
 * streams; nothing is flooded. The aggregators hold the whole view and
 * take turns planning; every host accepts the same plan and votes; the
 * hosts a plan moves VMs of carry them out, once.
 */
import test from 'ava'
import { roundAt } from '../../../lib/rounds.ts'
import { startTestCluster, waitFor } from './harness.ts'
import { threeDcSpec } from './scenario.ts'

test('tiered: six agents in three DCs agree on one plan per round through their aggregators and carry it out once', async t => {
  const cluster = await startTestCluster(t, threeDcSpec({ roundPeriodMs: 2000, planner: { maxMoves: 4, maxMovesPerHost: 2, minGain: 0 }, dissemination: 'tiered' }))
  const agents = [...cluster.agents.values()]
  const hosts = agents.map(a => a.host)
  const timing = agents[0]!.timing
  // Generous: six agents start, find their aggregators and exchange states on a busy two-core machine.
  await waitFor(() => agents.some(a => hosts.every(h => a.view.member(h)?.digest !== undefined)), 60_000, 'an aggregator with every host\'s digest')
  const first = roundAt(Date.now(), timing) + 2
  const last = first + 9
  await waitFor(() => roundAt(Date.now(), timing) > last + 1, 60_000, '10 rounds')
  let agreed = 0
  for (let r = first; r <= last; r++) {
    const seen = agents.map(a => a.rounds.get(r)?.planner)
    const plans = agents.map(a => JSON.stringify(a.rounds.get(r)?.plan?.moves))
    if (seen[0] !== undefined && seen.every(p => p === seen[0]) && plans.every(p => p === plans[0])) agreed++
    else t.log(`round ${r} (${r % 10} of its epoch): planners ${seen.map((p, i) => `${hosts[i]}:${p ?? '-'}`).join(' ')}; rankings ${agents.map(a => `${a.host}:${(a.rounds.get(r)?.ranking ?? []).join('>')}`).join(' ')}; notes ${agents.map(a => `${a.host}:${(a.rounds.get(r)?.notes ?? []).join(';')}`).join(' ')}; reports to ${agents.map(a => `${a.host}->${a.aggregator(r) ?? '-'}`).join(' ')}; live ${agents.map(a => `${a.host}:${a.view.live(Date.now()).map(m => m.host).join(',')}`).join(' ')}`)
  }
  t.log(`planner and plan agreed on by all ${agents.length} agents in ${agreed}/10 rounds`)
  t.true(agreed >= 8, `agreement in only ${agreed}/10 rounds`)

  // No move is carried out twice or by another host than its source, in
  // any round (a plan that missed its majority, as in the first rounds
  // while aggregators meet, is not carried out at all: the rule, not a
  // loss); in the measured rounds nearly every planned move runs.
  let planned = 0
  let carried = 0
  let carriedEver = 0
  for (const r of [...agents[0]!.rounds.keys()].filter(r => r <= last)) {
    for (const m of agents[0]!.rounds.get(r)?.plan?.moves ?? []) {
      const doers = agents.filter(a => a.rounds.get(r)?.outcomes.some(o => o.vm === m.vm) === true).map(a => a.host)
      t.true(doers.length === 0 || (doers.length === 1 && doers[0] === m.from), `round ${r}: ${m.vm} carried out by ${doers.join(',')}`)
      if (doers.length === 1) carriedEver++
      if (r >= first) { planned++; if (doers.length === 1) carried++ }
    }
  }
  t.log(`${carriedEver} moves carried out since the start; ${carried} of ${planned} planned in the measured rounds`)
  t.true(carriedEver > 0, 'some moves were planned and carried out')
  t.true(carried >= planned * 0.8, `only ${carried} of ${planned} moves of the measured rounds carried out`)
  const truth = await cluster.world.vms()
  t.is(truth.length, 12, 'no VM lost')
})
