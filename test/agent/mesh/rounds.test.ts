import test from 'ava'
import { startTestCluster, waitFor } from './harness.ts'
import { threeDcSpec } from './scenario.ts'
import { roundAt } from '../../../lib/rounds.ts'

test('six agents on [::1]: mesh, digests, agreed planners, plans carried out once by their source hosts', async t => {
  const cluster = await startTestCluster(t, threeDcSpec({ roundPeriodMs: 2000, planner: { maxMoves: 4, maxMovesPerHost: 2, minGain: 0 } }))
  const agents = [...cluster.agents.values()]
  const hosts = agents.map(a => a.host)
  const formed = Date.now()
  await waitFor(() => agents.every(a => a.view.live(Date.now()).length === agents.length), 20_000, 'every agent to see every member live')
  t.log(`mesh formed: every agent sees ${agents.length} live members after ${Date.now() - formed} ms`)
  await waitFor(() => agents.every(a => hosts.every(h => a.view.member(h)?.digest !== undefined)), 10_000, 'digests from every host at every agent')

  const timing = agents[0]!.timing
  const first = roundAt(Date.now(), timing) + 2
  const last = first + 19
  await waitFor(() => roundAt(Date.now(), timing) > last + 1, 60_000, "20 rounds")
  let agreed = 0
  const planners = new Set<string>()
  let moves = 0
  for (let r = first; r <= last; r++) {
    const seen = agents.map(a => a.rounds.get(r)?.planner)
    const plans = agents.map(a => JSON.stringify(a.rounds.get(r)?.plan?.moves))
    if (seen[0] !== undefined && seen.every(p => p === seen[0]) && plans.every(p => p === plans[0])) agreed++
    else t.log(`round ${r}: planners ${seen.map((p, i) => `${hosts[i]}:${p ?? '-'}@${agents[i]!.rounds.get(r)?.rank ?? '-'}`).join(' ')}; rankings ${agents.map(a => (a.rounds.get(r)?.ranking ?? []).join('>')).join(' | ')}`)
    if (seen[0] !== undefined) planners.add(seen[0])
    moves += agents[0]!.rounds.get(r)?.plan?.moves.length ?? 0
  }
  t.log(`planner and plan agreed on by all ${agents.length} agents in ${agreed}/20 rounds; ${planners.size} distinct planners; ${moves} moves planned`)
  t.true(agreed >= 19, `agreement in only ${agreed}/20 rounds`)

  // The DHT agrees: its closest peers to each round key put the same host
  // first, and the planner's signed claim names who planned a round.
  let dhtSame = 0; let dhtAsked = 0
  for (let r = first; r <= last; r++) {
    for (const a of agents) {
      const rec = a.rounds.get(r)
      if (rec?.dhtRanking === undefined || rec.dhtRanking.length === 0 || rec.ranking.length === 0) continue
      dhtAsked++
      if (rec.dhtRanking[0] === rec.ranking[0]) dhtSame++
    }
  }
  t.log(`DHT closest-peer lookups put the ranked planner first in ${dhtSame}/${dhtAsked} lookups`)
  t.true(dhtAsked > 0 && dhtSame / dhtAsked >= 0.8, 'the DHT cross-check mostly agrees')
  const claimed = await agents[agents.length - 1]!.whoPlanned(last)
  t.is(claimed?.host, agents[0]!.rounds.get(last)?.planner, 'the DHT claim names the round\'s planner')
  t.true(planners.size >= 2, 'the planner changes between rounds')

  // Every planned move, since the cluster started, was carried out exactly
  // once, by its source host.
  let carried = 0
  const recorded = [...agents[0]!.rounds.keys()].filter(r => r <= last)
  for (const r of recorded) {
    const plan = agents[0]!.rounds.get(r)?.plan
    for (const m of plan?.moves ?? []) {
      const doers = agents.filter(a => a.rounds.get(r)?.outcomes.some(o => o.vm === m.vm) === true)
      t.deepEqual(doers.map(a => a.host), [m.from], `round ${r}: ${m.vm} carried out by ${doers.map(a => a.host).join(',')}`)
      carried++
    }
  }
  t.true(carried > 0, 'some moves were planned and carried out')

  // The views converge to the world's placement (the hypervisors' truth).
  const truth = new Map((await cluster.world.vms()).map(v => [v.id, v.host]))
  await waitFor(() => agents.every(a => [...truth].every(([vm, host]) => a.view.member(host)?.state?.vms.some(v => v.id === vm) === true)), 10_000, 'views to match the world')
  t.is(truth.size, 12, 'no VM lost')
  // (The first rounds see no digests yet, so their cost is 0: take the highest.)
  const cost = Math.max(...recorded.map(r => agents[0]!.rounds.get(r)?.plan?.initialCost ?? 0))
  const finalCost = agents[0]!.rounds.get(last)?.plan?.finalCost ?? 0
  t.log(`${carried} moves carried out; cost ${cost.toFixed(4)} at its highest -> ${finalCost.toFixed(4)} at round ${last}`)
  t.true(finalCost < cost)
})
