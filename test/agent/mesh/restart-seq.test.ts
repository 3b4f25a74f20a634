import test from 'ava'
import { startCluster } from '../../../lab/sim/cluster.ts'
import { TEST_CLUSTER_NAME, waitFor } from './harness.ts'
import { threeDcSpec } from './scenario.ts'

/**
 * A host whose clock steps back across a restart: its sequence numbers
 * still rise (they start above the mark it stored), so its peers take its
 * messages instead of dropping them as replays until its clock catches up.
 */
test('sequence numbers after a restart with the clock stepped back a minute are above those before, and peers take them', async t => {
  let skewMs = 0
  const spec = threeDcSpec({ roundPeriodMs: 2000 })
  const cluster = await startCluster({
    ...spec,
    hosts: spec.hosts.filter(h => h.host === 'a1' || h.host === 'b1'),
    vms: spec.vms.filter(v => v.host === 'a1' || v.host === 'b1'),
    cluster: TEST_CLUSTER_NAME,
    transport: 'tcp',
    agentOptions: host => host === 'b1' ? { clock: () => Date.now() + skewMs } : {}
  })
  t.teardown(async () => cluster.close())
  const seqsOf = (agent: { observe: (l: (e: { type: string, env?: { seq: number } }) => void) => unknown }): number[] => {
    const seen: number[] = []
    agent.observe(e => { if (e.type === 'published' && e.env !== undefined) seen.push(e.env.seq) })
    return seen
  }
  const a1 = cluster.agents.get('a1')!
  const before = seqsOf(cluster.agents.get('b1')!)
  await waitFor(() => a1.view.member('b1')!.seq.host >= 0 && before.length >= 3, 20_000, 'b1 heard by a1, and a few of its messages')

  // b1 restarts (not a1: a1 is the seed b1 dials to rejoin).
  await cluster.agents.get('b1')!.halt()
  skewMs = -60_000
  const b1 = await cluster.start('b1')
  const after = seqsOf(b1)
  const replaysAtA1 = a1.view.drops.replay
  const lastBefore = Math.max(...before)
  // Its hello and the next states reach a1 and are taken.
  await waitFor(() => after.length >= 2 && a1.view.member('b1')!.seq.host > lastBefore, 20_000, 'a1 to take b1\'s messages after the restart')
    .catch(err => { t.log({ after, lastBefore, atA1: a1.view.member('b1')!.seq, replays: a1.view.drops.replay }); throw err })
  t.true(Math.min(...after) > lastBefore, `first after the restart ${Math.min(...after)} > last before ${lastBefore}`)
  t.is(a1.view.drops.replay, replaysAtA1, 'a1 dropped none of them as a replay')
  t.log(`before: ${before.length} messages up to ${lastBefore}; after (clock 60 s back): from ${Math.min(...after)}, ${after.length} messages`)
})
