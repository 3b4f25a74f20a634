import test from 'ava'
import { planDeadlineMs, roundAt, roundStartMs } from '../../../lib/rounds.ts'
import { startTestCluster, waitFor } from './harness.ts'
import { threeDcSpec } from './scenario.ts'

const PERIOD = 2000

// Each test times a kill against its round's deadlines, so the tests run
// one cluster at a time (test.serial): the other's load could stall a round
// step past them.

test.serial('the rank-0 planner dies mid-round: rank 1 takes over and the round completes', async t => {
  const cluster = await startTestCluster(t, threeDcSpec({ roundPeriodMs: PERIOD }))
  const agents = () => [...cluster.agents.values()]
  await waitFor(() => agents().every(a => a.view.live(Date.now()).length === 6), 20_000, 'the mesh')
  const timing = agents()[0]!.timing
  // Pick a round two ahead, rank its candidates the way every agent will.
  const round = roundAt(Date.now(), timing) + 2
  const bootstrapHost = [...cluster.configs.keys()][0]!
  let ranking = agents()[0]!.election.ranking(round, agents()[0]!.view.live(Date.now()).map(m => ({ host: m.host, peerId: m.peerId })), Date.now())
  // The victim must not be the bootstrap peer the restart test relies on; any other will do.
  t.log(`round ${round}: ranking ${ranking.join(' > ')}`)
  await waitFor(() => Date.now() >= roundStartMs(round, timing) + 50, 3 * PERIOD, 'the round to start')
  ranking = agents()[0]!.election.ranking(round, agents()[0]!.view.live(Date.now()).map(m => ({ host: m.host, peerId: m.peerId })), Date.now())
  const victim = cluster.agents.get(ranking[0]!)!
  t.true(Date.now() < planDeadlineMs(round, 0, timing), 'killed before it could plan')
  await victim.halt()
  cluster.agents.delete(victim.host)
  await waitFor(() => roundAt(Date.now(), timing) > round, 3 * PERIOD, 'the round to end')
  const seen = agents().map(a => ({ host: a.host, planner: a.rounds.get(round)?.planner, rank: a.rounds.get(round)?.rank }))
  t.log(`killed ${victim.host} (rank 0, bootstrap peer was ${bootstrapHost}); survivors accepted ${seen.map(s => `${s.host}:${s.planner}@${s.rank}`).join(' ')}`)
  for (const s of seen) t.deepEqual([s.planner, s.rank], [ranking[1], 1])
})

test.serial('an agent restarts: it rejoins with the same identity and catches up', async t => {
  const cluster = await startTestCluster(t, threeDcSpec({ roundPeriodMs: PERIOD }))
  const agents = () => [...cluster.agents.values()]
  await waitFor(() => agents().every(a => a.view.live(Date.now()).length === 6), 20_000, 'the mesh')
  const host = 'c2'
  const old = cluster.agents.get(host)!
  const peerId = old.peerId
  await old.halt()
  cluster.agents.delete(host)
  await new Promise(resolve => setTimeout(resolve, 2 * PERIOD))
  const restarted = await cluster.start(host)
  t.is(restarted.peerId, peerId, 'same peer key from the state directory')
  const back = Date.now()
  await waitFor(() => restarted.view.live(Date.now()).length === 6 && agents().every(a => a.view.isUp(host, Date.now())), 5 * PERIOD, 'the rejoin')
  t.log(`rejoined: full view at the restarted agent and everyone sees it up after ${Date.now() - back} ms`)
  const timing = restarted.timing
  const round = roundAt(Date.now(), timing) + 1
  await waitFor(() => roundAt(Date.now(), timing) > round, 3 * PERIOD, 'a full round')
  const planners = agents().map(a => a.rounds.get(round)?.planner)
  t.true(planners[0] !== undefined && planners.every(p => p === planners[0]), `after the rejoin all agree on round ${round}'s planner: ${planners.join(',')}`)
})
