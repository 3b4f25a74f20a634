/**
 * The auditor's rules (agent/cluster/tiered/auditor.ts) with a scripted
 * auditor on the other side: what counts as a miss, what is no verdict,
 * when a host accuses. The mesh test (tiered.test.ts) runs it against a
 * real hiding aggregator.
 */
import test from 'ava'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Auditor, AUDIT_MISSES } from '../../../agent/cluster/tiered/auditor.ts'
import { AggregatorRoles } from '../../../agent/cluster/tiered/roles.ts'
import type { RelayAnswer, RelayMessage } from '../../../lib/wire/relay.ts'
import type { Logger } from '../../../agent/log.ts'

const quiet: Logger = { debug () {}, info () {}, warn () {}, error () {}, child () { return quiet } } as unknown as Logger

async function setup (answer: (to: string) => RelayAnswer | Error): Promise<{ auditor: Auditor, asked: string[], accused: string[], clock: { now: number } }> {
  const members = await Promise.all(['a1', 'a2', 'b1', 'b2', 'c1', 'c2'].map(async host => ({ host, dc: host[0]!.toUpperCase(), peerId: peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString() })))
  const asked: string[] = []
  const accused: string[] = []
  const clock = { now: 1_000_000 }
  const auditor = new Auditor({
    host: 'a1',
    dc: 'A',
    roles: new AggregatorRoles('test', members),
    log: quiet,
    now: () => clock.now,
    graceMs: 1000,
    send: async (to: string, msg: RelayMessage) => {
      if (msg.kind !== 'audit' || msg.items.length !== 0) throw new Error('not an audit')
      asked.push(to)
      const a = answer(to)
      if (a instanceof Error) throw a
      return a
    },
    accuse: (aggregator) => { accused.push(aggregator) }
  })
  return { auditor, asked, accused, clock }
}

const held = (seq: number): RelayAnswer => ({ accepted: 0, dropped: 0, fresh: false, held: seq })

test('a digest the other DC holds is no miss; one it lacks twice in a row is an accusation of the aggregator that took it', async t => {
  let holds = 5
  const { auditor, asked, accused, clock } = await setup(() => held(holds))
  auditor.taken(5, 10, 'a2')
  clock.now += 5000
  await auditor.audit(11)
  t.is(asked.length, 1, 'one audit per round')
  t.is(auditor.missed, 0)
  // The next digests do not arrive there.
  holds = 5
  auditor.taken(6, 11, 'a2')
  clock.now += 5000
  await auditor.audit(12)
  t.is(auditor.missed, 1)
  t.deepEqual(accused, [], `one miss is not enough (${AUDIT_MISSES} in a row)`)
  auditor.taken(7, 12, 'a2')
  clock.now += 5000
  await auditor.audit(13)
  t.deepEqual(accused, ['a2'])
  t.is(auditor.accusations, 1)
  // The audits went to the other DCs' aggregators in turn, never our own DC.
  t.true(asked.every(h => !h.startsWith('a')), asked.join(','))
  t.true(new Set(asked.map(h => h[0])).size === 2, `both other DCs asked: ${asked.join(',')}`)
})

test('no verdict: an unanswered audit, a digest too young, one from another epoch, or one we aggregated ourselves', async t => {
  let down = true
  const { auditor, asked, accused, clock } = await setup(() => down ? new Error('timed out') : held(-1))
  // The other DCs' aggregators do not answer: no information, no miss.
  for (let r = 11; r <= 14; r++) {
    auditor.taken(r, r - 1, 'a2')
    clock.now += 5000
    await auditor.audit(r)
  }
  t.is(asked.length, 4, 'each round audited')
  t.is(auditor.missed, 0)
  t.deepEqual(accused, [])
  down = false
  const before = asked.length
  // Too young: taken moments ago.
  auditor.taken(100, 18, 'a2')
  clock.now += 10
  await auditor.audit(19)
  // From the previous epoch (round 19 is epoch 1, round 20 epoch 2).
  auditor.taken(101, 19, 'a2')
  clock.now += 5000
  await auditor.audit(20)
  // Ours: an aggregator does not hide from itself.
  auditor.taken(102, 21, 'a1')
  clock.now += 5000
  await auditor.audit(22)
  t.is(asked.length, before, 'none of these was audited')
  t.is(auditor.missed, 0)
})
