/**
 * lab model (docs/design.md §9.7): message accounting checked by hand on 4
 * hosts in 2 DCs, aggregator and planner takeover, a cheating aggregator
 * caught, and the same seed giving the same run.
 *
 * The 4-host world (seed 3): DC 0 = hosts 0, 2; DC 1 = hosts 1, 3. Round
 * 1001's planner ranking is [3, 1, 2, 0]; the aggregators are 2 (DC 0,
 * standby 0) and 1 (DC 1, standby 3). The planner moves 2 VMs: 3 -> 2 and
 * 1 -> 2. No host refreshes its state (h + 1001 is never a multiple of 10).
 */
import test, { type ExecutionContext } from 'ava'
import { ATTACKS } from '../../lab/model/audit.ts'
import { runModel, type ModelOptions, type ModelResult } from '../../lab/model/run.ts'
import { aggregatorRankings, plannerRanking } from '../../lab/model/roles.ts'
import type { RoundOutcome } from '../../lab/model/round.ts'
import { buildWorld } from '../../lab/model/world.ts'

const base: ModelOptions = { hosts: 4, dcs: 2, vmsPerHost: 2, rounds: 1, seed: 3, protocol: 'today', periodMs: 30_000, crashRate: 0, loss: 0, changeRate: 0, killAggregator: false, killPlanner: false }

/** Messages in and out per host index, whatever its role. */
function perHost (r: ModelResult): Array<[number, number]> {
  const o = r.rounds[0]!
  const byRole = { host: [...r.samples.host], aggregator: [...r.samples.aggregator], planner: [...r.samples.planner] }
  return [...o.roles].map(role => {
    const s = byRole[(['host', 'aggregator', 'planner'] as const)[role]!].shift()!
    return [s.msgsIn, s.msgsOut]
  })
}

test('the 4-host world and its roles are the ones the hand counts assume', t => {
  const world = buildWorld({ hosts: 4, dcs: 2, vmsPerHost: 2, seed: 3 })
  t.deepEqual(world.dcHosts, [[0, 2], [1, 3]])
  t.deepEqual(plannerRanking(world, 1001, [0, 1, 2, 3]), [3, 1, 2, 0])
  t.deepEqual(aggregatorRankings(world, 1001, [0, 1, 2, 3]), [[2, 0], [1, 3]])
  t.is(runModel(base).rounds[0]!.moves, 2)
})

test('today, 4 hosts: each host gets every other host\'s digest, vote, plan and move floods', t => {
  const r = runModel(base)
  // Floods: 4 digests, 4 votes, 1 plan (host 3), and per move 4 from the
  // source (started, state, done, state) and 1 from the target (state):
  // host 3 sends 4, host 1 sends 4, host 2 sends 2.
  //   host 0: in 3 digests + 3 votes + plan + 10 move floods = 17; out digest + vote = 2
  //   host 1: in 3 + 3 + 1 + (10 - 4) = 13;                   out 2 + 4 = 6
  //   host 2: in 3 + 3 + 1 + (10 - 2) = 15;                   out 2 + 2 = 4
  //   host 3: in 3 + 3 + (10 - 4) = 12;                       out digest + plan + vote + 4 = 7
  t.deepEqual(perHost(r), [[17, 2], [13, 6], [15, 4], [12, 7]])
  t.deepEqual([...r.rounds[0]!.roles], [0, 0, 0, 2])
  // Every message arrives as 3 frames here: the author's copy and one from each other mesh peer (at most 7).
  t.is(r.samples.host[0]!.framesIn, 17 * 3)
  t.is(r.rounds[0]!.agreeing, 4)
})

test('tiered, 4 hosts in 2 DCs: a plain host sends 2 messages and receives 3; the rest by hand', t => {
  const r = runModel({ ...base, protocol: 'tiered' })
  // host 0 (plain): out report -> 2, vote -> 2; in receipt, plan, certificate from 2.
  // host 1 (aggregator of DC 1, planner rank 1): in report, plan, vote, certificate from 3,
  //   "plan is out" from 2, 2 migrate frames from 2 = 7; out receipt, bundle, plan, tally,
  //   certificate to 3, "plan is out" to 2, 2 migrate frames to 2 = 8.
  // host 2 (aggregator of DC 0, planner rank 2): in report and vote from 0, plan and certificate
  //   from 3, "plan is out" from 1, 4 migrate frames (2 from 3, 2 from 1) = 9; out receipt, plan,
  //   certificate to 0, bundle and tally to 3, "plan is out" to 1, 4 migrate frames = 10.
  // host 3 (planner, a host of DC 1): in receipt, its plan back, certificate from 1, bundles and
  //   tallies from 1 and 2, 2 migrate frames from 2 = 9; out report and vote to 1, plan and
  //   certificate to 1 and 2, 2 migrate frames to 2 = 8.
  t.deepEqual(perHost(r), [[3, 2], [7, 8], [9, 10], [9, 8]])
  t.deepEqual([...r.rounds[0]!.roles], [0, 1, 1, 2])
  t.is(r.rounds[0]!.agreeing, 4)
  t.deepEqual(r.rounds[0]!.accusations, [])
})

test('relay, 4 hosts in 2 DCs: every exchange is two frames; reports, batches and notices by hand', t => {
  const r = runModel({ ...base, protocol: 'relay' })
  const o = r.rounds[0]!
  // Aggregators 2 (DC 0) and 1 (DC 1) are the candidates; host 1 ranks
  // first of them and plans. No host audits in round 1001 (1001 % 3 = 2,
  // and hosts 0 and 3 audit when it is 0 and 1).
  t.deepEqual([...o.roles], [0, 2, 1, 0])
  // reports: hosts 0 and 3 send a digest and a vote (4); host 3 sends the
  //   source's two events of move 3 -> 2 (2); aggregators report to themselves.
  // batches: each aggregator's two digests, each its own batch (their offsets
  //   are seconds apart, the batch delay 500 ms): 4; the plan, 1 -> 2: 1;
  //   votes, spread over 450 ms and batched for 50 ms: 2 each way, 4; events:
  //   host 1 sends both moves' "started" together and the "done" ones a second
  //   later (2 batches), host 2 the targets' two states at once (1): 3.
  // notices: the plan to hosts 0 and 3; the plan and its majority to mover 3.
  t.deepEqual(o.relaySent, { report: 6, batch: 12, notice: 3, audit: 0 })
  // host 0: 2 answers in, the plan notice in; as many frames out.
  // host 3: 4 answers, 2 notices, 2 migrate frames from host 2; as many out.
  t.deepEqual(perHost(r)[0], [3, 3])
  t.deepEqual(perHost(r)[3], [8, 8])
  t.is(o.agreeing, 4)
})

const mid: ModelOptions = { ...base, hosts: 64, dcs: 4, rounds: 3, protocol: 'tiered' }

test('a killed aggregator is taken over within the round, and every host still agrees', t => {
  const r = runModel({ ...mid, killAggregator: true })
  tookOver(t, r)
})

test('relay: a killed aggregator is taken over within the round; its hosts fail over when their stream breaks, and every host agrees', t => {
  const r = runModel({ ...mid, protocol: 'relay', killAggregator: true })
  const o = r.rounds[1]!
  const k = o.takeovers.find(x => x.role === 'aggregator')!
  t.truthy(k.by, 'a standby took over')
  t.not(k.by, k.killed)
  t.true(k.doneAt! - k.killedAt <= 1000 + 100, 'the standby held a report about a second after the kill (the broken stream noticed)')
  t.is(o.agreeing, o.live)
})

function tookOver (t: ExecutionContext, r: ModelResult): void {
  const o = r.rounds[1]!
  const k = o.takeovers.find(x => x.role === 'aggregator')!
  t.truthy(k.by, 'a standby took over')
  t.not(k.by, k.killed)
  t.true(k.doneAt! < Math.floor(k.killedAt / 30_000) * 30_000 + 12_000, 'its bundle reached the planner before the planning time')
  t.is(o.agreeing, o.live)
}

test('a killed planner is taken over by the next rank within the round', t => {
  const o = plannerTookOver(t, runModel({ ...mid, killPlanner: true }))
  t.true(o.agreeing / o.live >= 0.99)
})

test('relay: a killed planner is taken over within the round; its own hosts report to their standby, and every host agrees', t => {
  const r = runModel({ ...mid, protocol: 'relay', killPlanner: true })
  const o = plannerTookOver(t, r)
  t.is(o.agreeing, o.live)
})

function plannerTookOver (t: ExecutionContext, r: ModelResult): RoundOutcome {
  const o = r.rounds[1]!
  t.is(o.plannerRank, 1)
  const k = o.takeovers.find(x => x.role === 'planner')!
  t.truthy(k.by)
  t.true(k.doneAt! - k.killedAt < 10_000)
  return o
}

test('a forged, altered, replayed, hidden or equivocated report is detected', t => {
  const expected: Record<string, string[]> = { omit: ['omitted'], alter: ['altered', 'bad-signature'], forge: ['bad-signature'], replay: ['altered', 'wrong-round'], equivocate: ['equivocation'] }
  for (const attack of ATTACKS) {
    const r = runModel({ ...mid, attack })
    const kinds = [...new Set(r.rounds[1]!.accusations.map(a => a.kind))].sort()
    t.deepEqual(kinds, expected[attack]!, attack)
    t.true(r.rounds[1]!.accusations.every(a => a.by === r.rounds[1]!.accusations[0]!.by), `${attack}: one aggregator accused`)
    t.deepEqual(r.rounds[0]!.accusations, [], `${attack}: honest rounds accuse no one`)
  }
})

test('the same seed gives the same run; another seed another', t => {
  const opts: ModelOptions = { ...mid, crashRate: 0.02, loss: 0.01, changeRate: 0.3 }
  const a = runModel(opts); const b = runModel(opts); const c = runModel({ ...opts, seed: 4 })
  t.deepEqual(a.samples, b.samples)
  t.deepEqual(a.planReachMs, b.planReachMs)
  t.notDeepEqual(a.samples, c.samples)
})
