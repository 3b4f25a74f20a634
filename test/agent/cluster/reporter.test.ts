/**
 * The host's side of the tiered relay (agent/cluster/tiered/reporter.ts):
 * whom a report goes to, and what a broken stream to the aggregator does.
 * The aggregators are a function that records the target (the wire is
 * channel.ts's, tested there and in the mesh tests).
 */
import test from 'ava'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { AggregatorRoles } from '../../../agent/cluster/tiered/roles.ts'
import { Reporter } from '../../../agent/cluster/tiered/reporter.ts'
import { epochOf } from '../../../lib/roles.ts'
import type { RelayMessage, SignedItem } from '../../../lib/wire/relay.ts'
import { silentLogger } from '../../../agent/log.ts'

const item = (n: number): SignedItem => ({ e: new Uint8Array([n]), s: new Uint8Array(64) })

async function setup (): Promise<{ reporter: Reporter, ranking: string[], targets: string[], resent: () => number, round: number }> {
  const hosts = ['a1', 'a2', 'a3', 'a4']
  const peers = await Promise.all(hosts.map(async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()))
  const roles = new AggregatorRoles('test', hosts.map((host, i) => ({ host, dc: 'A', peerId: peers[i]! })))
  const round = 123
  const ranking = roles.ofDc('A', epochOf(round))
  // A host that aggregates for nobody: the last of the ranking.
  const me = ranking[ranking.length - 1]!
  const targets: string[] = []
  let resends = 0
  const reporter = new Reporter({
    host: me,
    dc: 'A',
    roles,
    log: silentLogger(),
    deliver: async (host: string, _msg: RelayMessage) => { targets.push(host) },
    newAggregator: () => { resends++ }
  })
  return { reporter, ranking, targets, resent: () => resends, round }
}

test('a broken stream to our aggregator sends the rest of the round to the next rank, with our state; rank 0 again next round', async t => {
  const { reporter, ranking, targets, resent, round } = await setup()
  await reporter.send(item(1), round, true)
  t.deepEqual(targets, [ranking[0]])
  t.is(reporter.aggregator(round), ranking[0])
  const before = resent()
  reporter.lost(ranking[0]!)
  t.is(resent(), before + 1, 'our state goes out again, to the next rank')
  t.is(reporter.aggregator(round), ranking[1])
  await reporter.send(item(2), round, true)
  t.deepEqual(targets, [ranking[0], ranking[1]])
  await reporter.send(item(3), round + 1, true)
  t.is(targets.at(-1), ranking[0], 'rank 0 is tried again the next round')
})

test('a broken stream to a host we do not report to changes nothing', async t => {
  const { reporter, ranking, targets, resent, round } = await setup()
  await reporter.send(item(1), round, true)
  const before = resent()
  reporter.lost(ranking[1]!)
  reporter.lost('someone-else')
  t.is(resent(), before)
  await reporter.send(item(2), round, true)
  t.deepEqual(targets, [ranking[0], ranking[0]])
})
