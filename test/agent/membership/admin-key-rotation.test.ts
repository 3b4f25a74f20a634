/**
 * Rotating the cluster admin key with rounds going on (docs/design.md
 * §3.7.1): four agents with a static member list and e1 admitted by
 * certificate; `heliotrope admin-key rotate`'s rotation (in this process,
 * as key-rotation.test.ts runs `heliotrope key`'s steps: a CLI process
 * would take the agents' CPU on a 2-core machine) through b1's control
 * socket. Every agent trusts only the new key, no round goes without a plan
 * anywhere, e1 stays, an invitation of the old key is refused, one of the
 * new key admits e2, and a restarted agent comes back trusting the new key.
 */
import test from 'ava'
import { stat } from 'node:fs/promises'
import type { Agent } from '../../../agent/agent.ts'
import { buildStatus } from '../../../agent/api/status.ts'
import { rotateAdminKey } from '../../../agent/cli/admin-key-command.ts'
import { agentTrust } from '../../../agent/cli/invite-command.ts'
import { formatStatus } from '../../../agent/cli/status-command.ts'
import { adminKeyFingerprint, generateAdminKey, readAdminKey, signAdmin } from '../../../agent/membership/admin-key.ts'
import { MEMBERSHIP_TOPIC } from '../../../agent/membership/join-protocol.ts'
import { encodeBundle } from '../../../agent/membership/wire.ts'
import { publish } from '../../../agent/net/index.ts'
import { keyRecordBytes } from '../../../lib/admin-keys.ts'
import { buildToken } from '../../../agent/membership/invite.ts'
import { makeRevocation } from '../../../agent/membership/records.ts'
import { MembershipStore } from '../../../agent/membership/store.ts'
import { decodeToken } from '../../../agent/membership/token.ts'
import { roundAt } from '../../../lib/rounds.ts'
import { TEST_CLUSTER_NAME, waitFor } from '../mesh/harness.ts'
import { acceptToken, fourWithAdminKey, GENEROUS_MS, type LogLine } from './four.ts'

/** Rounds looked at on each side of the rotation: enough to see one lost, few enough to keep the test short (a round is 2 s). */
const ROUNDS_AROUND = 3

test.serial('the admin key rotates with rounds going on: every agent trusts only the new key, no round without a plan, members kept; the old key invites nobody, the new one does; a restart keeps the new trust; a host down through a rotation catches up', async t => {
  t.timeout(600_000)
  const lines: LogLine[] = []
  const { cluster, newcomer, adminKeyFile, newcomers } = await fourWithAdminKey(t, lines, {}, { e2: true })
  const agents = (): Agent[] => [...cluster.agents.values()]
  const a1 = cluster.agents.get('a1')!
  const timing = a1.timing
  const oldKey = await readAdminKey(adminKeyFile)

  // A certified member: e1, admitted from a token of the old key.
  const { token } = await buildToken(cluster.configs.get('a1')!, oldKey, { host: 'e1', dc: 'B', now: Date.now(), bootstrap: cluster.bootstrap })
  await acceptToken(cluster, newcomer, token)
  const e1 = await cluster.start('e1')
  const e1Peer = e1.node.peerId
  await waitFor(() => agents().every(a => a.view.member('e1') !== undefined && a.view.membersHash === e1.view.membersHash), GENEROUS_MS, 'every agent to list e1')

  // Rounds going on: wait until ROUNDS_AROUND rounds in a row were planned on all five agents.
  const plannedEverywhere = (r: number): boolean => agents().every(a => a.rounds.get(r)?.planner !== undefined)
  const steadySince = (r: number): boolean => Array.from({ length: ROUNDS_AROUND }, (_, i) => r - i).every(plannedEverywhere)
  await waitFor(() => steadySince(roundAt(Date.now(), timing) - 1), GENEROUS_MS * 2, `${ROUNDS_AROUND} rounds in a row planned on every agent`)
  const hashBefore = a1.view.membersHash

  // The rotation, through b1's control socket, as `heliotrope admin-key rotate --socket` runs it.
  const rotatedAt = Date.now()
  const rotation = await rotateAdminKey(adminKeyFile, cluster.configs.get('b1')!.controlSocket)
  if (!rotation.ok) { t.fail(rotation.error); return }
  const newKey = rotation.publicKey
  t.regex(rotation.lines.join('\n'), new RegExp(`new admin key ${rotation.fingerprint}`))
  const trustsNewOnly = (a: Agent): boolean => { const k = a.membership!.adminTrust().keys; return k.length === 1 && k[0] === newKey }
  await waitFor(() => agents().every(trustsNewOnly), GENEROUS_MS, 'every agent to trust only the new key')
  const trustedIn = Date.now() - rotatedAt
  t.log(`every agent trusted only the new key ${trustedIn} ms after the rotation started (a round is ${timing.periodMs} ms)`)

  // The files: admin.key is the new key, the old one kept beside it, both mode 0600.
  t.is((await readAdminKey(adminKeyFile)).publicKey, newKey)
  t.is((await readAdminKey(rotation.retiredFile)).publicKey, oldKey.publicKey)
  t.true(rotation.retiredFile.endsWith(`admin.key.retired-${adminKeyFingerprint(oldKey.publicKey)}`))
  t.is((await stat(rotation.retiredFile)).mode & 0o777, 0o600)
  t.is((await stat(adminKeyFile)).mode & 0o777, 0o600)

  // Rounds: every round from ROUNDS_AROUND before the rotation to ROUNDS_AROUND after it has a plan on every agent.
  const rotationRound = roundAt(rotatedAt, timing)
  const from = rotationRound - ROUNDS_AROUND
  const to = rotationRound + ROUNDS_AROUND
  await waitFor(() => roundAt(Date.now(), timing) > to + 1, GENEROUS_MS, `round +${ROUNDS_AROUND + 2}`)
  for (let r = from; r <= to; r++) {
    for (const a of agents()) t.not(a.rounds.get(r)?.planner, undefined, `round ${r - rotationRound >= 0 ? '+' : ''}${r - rotationRound} on ${a.host}`)
  }
  t.log(`rounds ${from - rotationRound}..+${to - rotationRound} around the rotation: every one with a plan on all ${agents().length} agents`)
  // The members did not change, so neither did the member-list hash: no vote stopped counting.
  for (const a of agents()) {
    t.is(a.view.membersHash, hashBefore, `${a.host}'s member list`)
    t.is(a.membership!.records.standing(e1Peer, Date.now()), 'member', `e1 is still a member at ${a.host}`)
  }
  t.true(lines.some(l => l.msg.startsWith('admin keys changed')), 'agents log the change of keys')
  const status = buildStatus(a1, Date.now() - 1000, Date.now())
  t.deepEqual(status.adminKeys, { fingerprints: [rotation.fingerprint], seq: 1, forks: 0, staleRecords: status.adminKeys!.staleRecords })
  t.true(formatStatus(status).includes(`admin key  ${rotation.fingerprint} (seq 1)`), '`heliotrope status` shows it')
  // The retired key cannot rotate again.
  const again = await rotateAdminKey(rotation.retiredFile, cluster.configs.get('c1')!.controlSocket)
  t.like(again, { ok: false })
  t.regex(again.ok ? '' : again.error, /not an admin key the agent trusts/)
  // Nor revoke: `members remove` with the retired file is refused, saying why.
  const revokeOld = await a1.membership!.revoke(makeRevocation(oldKey, TEST_CLUSTER_NAME, 'e1', Date.now()))
  t.like(revokeOld, { ok: false })
  t.regex(revokeOld.ok ? '' : revokeOld.error, /rotated away/)

  // An invitation of the old key (the check in invite is passed over: the cluster is what must refuse it).
  const e2config = newcomers.get('e2')!
  const stale = await buildToken(cluster.configs.get('a1')!, oldKey, { host: 'e2', dc: 'C', now: Date.now(), bootstrap: cluster.bootstrap, trustedKeys: [oldKey.publicKey] })
  await acceptToken(cluster, e2config, stale.token)
  const refusedE2 = await cluster.start('e2')
  await waitFor(() => lines.some(l => l.msg === 'refused a joining peer' && l.host === 'e2' && l.why === 'retired-key'), GENEROUS_MS, 'a member to refuse the old key\'s invitation, saying why')
  t.true(agents().filter(a => a !== refusedE2).every(a => a.view.member('e2') === undefined), 'nobody lists e2')
  await refusedE2.stop()
  cluster.agents.delete('e2')

  // `heliotrope invite` on a1's host: it asks a1 which keys are trusted now (its control socket) and signs with the new admin.key.
  const trustedKeys = await agentTrust(cluster.configs.get('a1')!)
  t.deepEqual(trustedKeys, [newKey])
  const fresh = (await buildToken(cluster.configs.get('a1')!, await readAdminKey(adminKeyFile), { host: 'e2', dc: 'C', now: Date.now(), bootstrap: cluster.bootstrap, ...(trustedKeys !== undefined ? { trustedKeys } : {}) })).token
  t.is(decodeToken(fresh).adminKey, newKey, 'the token carries the new public key')
  await t.throwsAsync(buildToken(cluster.configs.get('a1')!, oldKey, { host: 'e2', dc: 'C', now: Date.now(), bootstrap: cluster.bootstrap, trustedKeys: [newKey] }), { message: /rotated away/ }, 'invite refuses the retired key')
  await acceptToken(cluster, e2config, fresh)
  const e2 = await cluster.start('e2')
  await waitFor(() => agents().every(a => a.view.member('e2') !== undefined && a.view.membersHash === e2.view.membersHash), GENEROUS_MS, 'every agent to list e2, admitted by the new key\'s invitation')
  t.deepEqual(e2.membership!.adminTrust().keys, [newKey], 'e2 trusts the new key, from its config')

  // A restart after the rotation: c1 comes back trusting the new key, from its state directory.
  const oldC1 = cluster.agents.get('c1')!
  await oldC1.stop()
  const stored = await new MembershipStore(cluster.configs.get('c1')!.stateDir).load()
  t.is(stored.keyRecords?.length, 1)
  const c1 = await cluster.start('c1')
  t.deepEqual(c1.membership!.adminTrust().keys, [newKey], 'c1 trusts the new key from its start')
  t.is(c1.membership!.adminTrust().seq, 1)
  await waitFor(() => agents().every(a => a.view.member('e1') !== undefined && a.view.member('e2') !== undefined && a.view.membersHash === c1.view.membersHash), GENEROUS_MS, 'c1 to list e1 and e2 with everyone')
  t.true(agents().every(trustsNewOnly), 'every agent, restarted or new, trusts only the new key')

  // A host down through a second rotation catches up once it is live again (the others send their records when it comes back).
  const oldA2 = cluster.agents.get('a2')!
  await oldA2.stop()
  cluster.agents.delete('a2')
  const second = await rotateAdminKey(adminKeyFile, cluster.configs.get('b1')!.controlSocket)
  if (!second.ok) { t.fail(second.error); return }
  const trustsOnly = (a: Agent, key: string, seq: number): boolean => { const k = a.membership!.adminTrust(); return k.keys.length === 1 && k.keys[0] === key && k.seq === seq }
  await waitFor(() => agents().every(a => trustsOnly(a, second.publicKey, 2)), GENEROUS_MS, 'every running agent to trust the second new key')
  const a2 = await cluster.start('a2')
  const backAt = Date.now()
  t.true(trustsOnly(a2, newKey, 1), 'a2 starts with what it held: the first rotation')
  await waitFor(() => trustsOnly(a2, second.publicKey, 2), GENEROUS_MS, 'a2 to catch up with the second rotation')
  t.log(`a2, down through the second rotation, trusted its key ${Date.now() - backAt} ms after its start (a round is ${timing.periodMs} ms)`)
  t.true(a2.view.member('e1') !== undefined && a2.view.member('e2') !== undefined && a2.view.membersHash === a1.view.membersHash, 'a2 lists e1 and e2 as everyone does')

  // The retired first key signs a competing record for seq 1 (a leaked key in use), gossiped by a1: every agent had the honest record in its chain, and keeps it.
  const rogueKey = generateAdminKey()
  const body = { cluster: TEST_CLUSTER_NAME, keys: [rogueKey.publicKey], seq: 1 }
  const rogue = { body, sig: signAdmin(oldKey, keyRecordBytes(body)) }
  await publish(a1.node, a1.node.topic(MEMBERSHIP_TOPIC), encodeBundle({ keyRecords: [rogue], certificates: [], revocations: [] }))
  await waitFor(() => lines.some(l => l.level === 'error' && l.msg.startsWith('two admin key records with the same seq')), GENEROUS_MS, 'the fork logged at error level')
  // a1 does not hear its own message; its mesh peers take the record aside (not new: it changes nothing), so it spreads no further.
  const sawFork = agents().filter(a => a.membership!.adminTrust().forks === 1).map(a => a.host)
  t.log(`the fork seen by ${sawFork.join(' ')}`)
  t.true(sawFork.length > 0)
  // A round later, for any change to show.
  const forkRound = roundAt(Date.now(), timing)
  await waitFor(() => roundAt(Date.now(), timing) > forkRound + 1, GENEROUS_MS, 'a round after the fork')
  for (const a of agents()) {
    t.true(trustsOnly(a, second.publicKey, 2), `${a.host} keeps the honest chain`)
    t.is(a.view.membersHash, a1.view.membersHash, `${a.host} keeps its members`)
  }
})
