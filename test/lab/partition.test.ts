/**
 * Partitions in the lab: real agents in namespaces (follow-the-sun, 4 DCs x
 * 1 host), the router splitting the DCs two against two, then three against
 * one, each held six rounds. A side without a strict majority of the
 * members neither plans (once it noticed the split) nor acts; at most one
 * plan runs in any round; the three-host side goes on planning; after the
 * heal every agent accepts one plan again. Each agent's /status just before
 * the heal shows its own side live, so the split really took.
 */
import { labChaosLog } from '../../lab/chaos/lab-table.ts'
import { followTheSunChaos, labTest } from './helpers.ts'

const test = await labTest('test/lab/partition.test.ts')

test('partitions 2|2 and 3|1: the minority plans and acts nothing, at most one plan per round, every agent agrees again after the heal', async t => {
  const r = await followTheSunChaos(t, ['split-2-2', 'split-3-1'])
  for (const line of labChaosLog(r)) t.log(line)
  t.deepEqual(r.violations, [])
  t.deepEqual(r.splitDetails, [], 'at most one plan acted on per round')
  t.deepEqual(r.crashes, [])
  t.deepEqual(r.partitions.map(p => p.kind), ['split-2-2', 'split-3-1'])
  for (const p of r.partitions) {
    t.log(`${p.kind}: sides ${p.sides.map(s => s.join(',')).join(' | ')}; live seen ${JSON.stringify(p.liveSeen)}; judged rounds ${p.judged.join('-')}; majority agreed in ${p.majorityRounds}; all agreed ${p.agreedAfterRounds ?? 'never'} rounds after the heal`)
    for (const side of p.sides) for (const host of side) t.is(p.liveSeen[host], side.length, `${p.kind}: ${host} sees its own side live, and only it`)
    t.true(p.judged[1] >= p.judged[0] + 1, `${p.kind}: at least two rounds judged`)
    t.deepEqual(p.minorityPlans, [], `${p.kind}: no minority plan`)
    t.deepEqual(p.minorityActs, [], `${p.kind}: no minority act`)
    t.not(p.agreedAfterRounds, undefined, `${p.kind}: every agent accepted one plan after the heal`)
  }
  const threeOne = r.partitions.find(p => p.kind === 'split-3-1')!
  t.true(threeOne.majorityRounds >= 1, 'the three-host side went on planning')
})
