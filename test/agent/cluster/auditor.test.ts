/**
 * The auditor's rules (agent/cluster/tiered/auditor.ts) with a scripted
 * auditor on the other side: what counts as a miss, what is no verdict,
 * when a host accuses. The mesh test (tiered.test.ts) runs it against a
 * real hiding aggregator.
 */
import test from 'ava'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Auditor, AUDIT_EVERY, AUDIT_MISSES } from '../../../agent/cluster/tiered/auditor.ts'
import { spreadOffsetMs } from '../../../lib/rounds.ts'
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

/** a1's audit rounds while nothing is missing: one in AUDIT_EVERY, at its own offset. */
const offset = spreadOffsetMs('a1/audit', AUDIT_EVERY)
const firstAuditFrom = (round: number): number => round + ((offset - round) % AUDIT_EVERY + AUDIT_EVERY) % AUDIT_EVERY

test('a digest the other DC holds is no miss; one it lacks twice in a row is an accusation of the aggregator that took it', async t => {
  const holds = 5
  const { auditor, asked, accused, clock } = await setup(() => held(holds))
  // Epoch 2 (rounds 20-29); digests taken in one round are audited from the next.
  const r1 = firstAuditFrom(21)
  auditor.taken(5, 20, 'a2')
  clock.now += 5000
  await auditor.audit(r1)
  t.is(asked.length, 1, 'audited in its round')
  t.is(auditor.missed, 0)
  // Between its audit rounds, a host does not audit while nothing is missing.
  auditor.taken(6, r1, 'a2')
  clock.now += 5000
  await auditor.audit(r1 + 1)
  t.is(asked.length, 1, 'not audited between')
  // The digest of r1 does not arrive there: a miss in the next audit round, then an audit every round.
  await auditor.audit(r1 + AUDIT_EVERY)
  t.is(asked.length, 2)
  t.is(auditor.missed, 1)
  t.deepEqual(accused, [], `one miss is not enough (${AUDIT_MISSES} in a row)`)
  auditor.taken(7, r1 + AUDIT_EVERY, 'a2')
  clock.now += 5000
  await auditor.audit(r1 + AUDIT_EVERY + 1)
  t.is(asked.length, 3, 'audited the round right after a miss')
  t.deepEqual(accused, ['a2'])
  t.is(auditor.accusations, 1)
  // The audits went to other DCs' aggregators, never our own DC's.
  t.true(asked.every(h => !h.startsWith('a')), asked.join(','))
})

test('no verdict: an unanswered audit, a digest too young, one from another epoch, or one we aggregated ourselves', async t => {
  let down = true
  const { auditor, asked, accused, clock } = await setup(() => down ? new Error('timed out') : held(-1))
  // The other DCs' aggregators do not answer: no information, no miss.
  for (let r = 21; r <= 29; r++) {
    auditor.taken(r, r - 1, 'a2')
    clock.now += 5000
    await auditor.audit(r)
  }
  t.is(asked.length, 3, 'audited in one round of every three')
  t.is(auditor.missed, 0)
  t.deepEqual(accused, [])
  down = false
  const before = asked.length
  // Too young: taken moments ago.
  const r = firstAuditFrom(32)
  auditor.taken(100, r - 1, 'a2')
  clock.now += 10
  await auditor.audit(r)
  // From the previous epoch (round 39 is epoch 3, round 40 and after epoch 4).
  auditor.taken(101, 39, 'a2')
  clock.now += 5000
  await auditor.audit(firstAuditFrom(40))
  // Ours: an aggregator does not hide from itself.
  auditor.taken(102, 50, 'a1')
  clock.now += 5000
  await auditor.audit(firstAuditFrom(51))
  t.is(asked.length, before, 'none of these was audited')
  t.is(auditor.missed, 0)
})

test('misses from one DC alone are no accusation: that DC may be cut off or overloaded; an aggregator that hides, hides from all', async t => {
  // DC B's aggregator never holds our digests (its link from our aggregator is cut); DC C's does not answer (overloaded).
  const { auditor, asked, accused, clock } = await setup(to => to.startsWith('b') ? held(-1) : new Error('timed out'))
  for (let r = 21; r <= 29; r++) {
    auditor.taken(r, r - 1, 'a2')
    clock.now += 5000
    await auditor.audit(r)
  }
  t.true(asked.some(h => h.startsWith('b')) && asked.some(h => h.startsWith('c')), `both DCs asked: ${asked.join(',')}`)
  t.true(auditor.missed >= 2, `the misses at B are counted (${auditor.missed})`)
  t.deepEqual(accused, [], 'but no accusation')
})
