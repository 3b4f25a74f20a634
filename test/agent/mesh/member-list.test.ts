import test from 'ava'
import { buildStatus } from '../../../agent/api/status.ts'
import { formatStatus } from '../../../agent/cli/status-command.ts'
import { createLogger } from '../../../agent/log.ts'
import { roundAt } from '../../../lib/rounds.ts'
import { startTestCluster, waitFor } from './harness.ts'
import { threeDcSpec } from './scenario.ts'

/**
 * Membership epochs (docs/design.md §5.3): three agents and a fourth
 * member, x9, that runs no agent; everyone lists the four, so a plan needs
 * three votes. b1 restarts with a member list without x9. The others keep
 * it in their view but report the mismatch, and its votes no longer count:
 * two agreeing voters are no majority of four, so no plan runs.
 */
test('an agent with another member list is reported by the others (log, counters, status) and its votes are not counted', async t => {
  const lines: string[] = []
  const log = createLogger({ level: 'warn', pretty: false, sink: { write: line => { lines.push(line) } } })
  const spec = threeDcSpec({ roundPeriodMs: 2000, planner: { maxMoves: 4, maxMovesPerHost: 2, minGain: 0 } })
  const hosts = ['a1', 'a2', 'b1']
  const cluster = await startTestCluster(t, {
    ...spec,
    hosts: spec.hosts.filter(h => hosts.includes(h.host)),
    vms: spec.vms.filter(v => hosts.includes(v.host)),
    extraMembers: ['x9'],
    log
  })
  const a1 = cluster.agents.get('a1')!
  const a2 = cluster.agents.get('a2')!
  await waitFor(() => [a1, a2, cluster.agents.get('b1')!].every(a => a.view.live(Date.now()).length === 3), 20_000, 'every agent to see the three agents live')
  t.deepEqual(a1.view.memberListMismatches(), [], 'the same member lists: no mismatch')

  // b1 comes back listing only the three hosts that run agents.
  await cluster.agents.get('b1')!.halt()
  const config = cluster.configs.get('b1')!
  cluster.configs.set('b1', { ...config, members: config.members.filter(m => m.host !== 'x9') })
  const b1 = await cluster.start('b1')
  t.not(b1.view.membersHash, a1.view.membersHash)
  const restarted = roundAt(Date.now(), a1.timing)
  const migrated = [a1, a2].map(a => a.counters.migrationsOk)

  await waitFor(() => [a1, a2].every(a => a.view.member('b1')?.state?.members === b1.view.membersHash), 20_000, 'a1 and a2 to hold b1\'s new state')
  for (const a of [a1, a2]) {
    t.deepEqual(a.view.memberListMismatches().map(m => m.host), ['b1'], `${a.host} lists b1 as a mismatch`)
    t.true(a.view.isUp('b1', Date.now()), `b1 stays live at ${a.host}: it is reported, not dropped`)
    t.is(a.counters.memberListMismatches, 1, `${a.host} counted the mismatch once`)
  }
  const status = buildStatus(a1, 0, Date.now())
  t.deepEqual(status.memberListMismatch, ['b1'], 'the API\'s status names it')
  t.true(formatStatus(status).some(l => l.startsWith('member list differs on b1')), '`heliotrope status` shows it')

  // Rounds after the restart in which b1 voted for the plan a1 took.
  const voted = (r: number): boolean => {
    const planner = a1.rounds.get(r)?.planner
    return planner !== undefined && a1.election.voters(r, planner).includes('b1')
  }
  const ended = (r: number): boolean => roundAt(Date.now(), a1.timing) > r + 1
  let rounds: number[] = []
  await waitFor(() => {
    rounds = [...a1.rounds.keys()].filter(r => r > restarted + 1 && ended(r) && voted(r))
    return rounds.length >= 2
  }, 40_000, 'two rounds in which b1 voted')
  for (const r of rounds) {
    const planner = a1.rounds.get(r)!.planner!
    t.true(a1.election.acked(r, planner) >= 2, `round ${r}: b1's vote arrived`)
    t.false(a1.rounds.get(r)!.acted === true, `round ${r}: no plan ran`)
    t.true(a1.rounds.get(r)!.notes?.some(n => n.includes('not counted, their member list differs: b1')) === true, `round ${r}: ${JSON.stringify(a1.rounds.get(r)!.notes)}`)
  }
  t.true(a1.counters.votesUncounted > 0, 'a1 counted the votes it did not count')
  t.deepEqual([a1, a2].map(a => a.counters.migrationsOk), migrated, 'nothing migrated once b1 disagreed')

  // The warning: once per agent for b1's hash, however many states it sent.
  const warned = lines.map(l => JSON.parse(l) as { msg: string, member?: string }).filter(l => l.msg.startsWith('member list mismatch') && l.member === 'b1')
  t.is(warned.length, 2, 'a1 and a2 each warned once about b1')
  t.log(`rounds ${rounds.join(', ')}: b1 voted, its vote was not counted, no plan ran; a1 did not count ${a1.counters.votesUncounted} votes`)
})
