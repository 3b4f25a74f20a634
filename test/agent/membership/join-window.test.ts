import test from 'ava'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Agent } from '../../../agent/agent.ts'
import { loadOrCreateAdminKey } from '../../../agent/membership/admin-key.ts'
import { buildToken } from '../../../agent/membership/invite.ts'
import { JOIN_PROTOCOL, type JoinAnswer } from '../../../agent/membership/join-protocol.ts'
import { makeInvitation } from '../../../agent/membership/records.ts'
import { createNode, loadOrCreatePeerKey, request } from '../../../agent/net/index.ts'
import { multiaddr } from '@multiformats/multiaddr'
import { roundAt } from '../../../lib/rounds.ts'
import { TEST_CLUSTER_NAME, waitFor } from '../mesh/harness.ts'
import { acceptToken, connected, fourWithAdminKey, GENEROUS_MS, type LogLine } from './four.ts'

/**
 * How long after it starts e1's invitation becomes valid: longer than an
 * agent's start on the busy test machine, so e1 is up before; and longer
 * than the members' probation bound (10 s), so they close it once and it
 * must come back by itself.
 */
const VALID_IN_MS = 12_000
/** e1's membership lasts three rounds of 2 s: it runs out while the test watches. */
const MEMBER_FOR_MS = 6_000

test.serial('a host started before its invitation is valid says why and joins once it is, without a restart; its certificate runs out and every member refuses it as expired; an expired invitation is refused', async t => {
  const lines: LogLine[] = []
  const { cluster, newcomer, adminKeyFile } = await fourWithAdminKey(t, lines)
  const members = [...cluster.agents.values()]
  const a1 = cluster.agents.get('a1')!
  const timing = a1.timing
  const admin = await loadOrCreateAdminKey(adminKeyFile)

  const notBefore = Date.now() + VALID_IN_MS
  const { token } = await buildToken(cluster.configs.get('a1')!, admin, { host: 'e1', dc: 'B', now: Date.now(), notBefore, memberForMs: MEMBER_FOR_MS, bootstrap: cluster.bootstrap })
  await acceptToken(cluster, newcomer, token)
  const e1 = await cluster.start('e1')
  const e1Peer = e1.node.peerId
  t.true(Date.now() < notBefore, 'e1 runs before its invitation is valid')
  await waitFor(() => lines.some(l => l.level === 'warn' && /not a member yet: this host's invitation is not valid yet/.test(l.msg)), GENEROUS_MS, 'e1 to say why it is not a member yet')
  const said = lines.find(l => /invitation is not valid yet/.test(l.msg))!
  t.regex(String(said.detail), /the invitation is valid from .* \(in \d+ s\)/)
  t.log(`e1 said: ${said.msg} (${String(said.detail)})`)
  t.true(members.every(a => a.view.member('e1') === undefined), 'nobody admitted it early')
  await waitFor(() => lines.some(l => /^refused a peer: not a member, and not admitted within the probation bound/.test(l.msg) && l.peer === e1Peer), GENEROUS_MS, 'a member to close e1 after its probation')
  t.true(lines.some(l => /on probation/.test(l.msg) && l.peer === e1Peer), 'members log the peer on probation')

  await waitFor(() => [...members, e1].every(a => a.view.member('e1') !== undefined && a.view.membersHash === e1.view.membersHash), GENEROUS_MS, 'e1 admitted once its invitation is valid')
  const joinedAfter = Date.now() - notBefore
  t.log(`e1 admitted everywhere ${joinedAfter} ms after its invitation became valid (it retries every ${Math.min(5_000, Math.max(1_000, timing.periodMs / 2))} ms)`)
  t.true(joinedAfter < timing.periodMs * 2, `within two rounds of becoming valid (${joinedAfter} ms)`)

  // Its certificate runs out: each member removes it as expired and cuts it off then (a timer at the expiry).
  const until = notBefore + MEMBER_FOR_MS
  await waitFor(() => members.every(a => a.view.member('e1') === undefined && !connected(a, e1Peer)), GENEROUS_MS, 'every member to drop e1 when its certificate runs out')
  const goneAfter = Date.now() - until
  t.log(`e1 removed and its connections closed at every member ${goneAfter} ms after its certificate ran out`)
  t.true(goneAfter < timing.periodMs, `within a round of the expiry (${goneAfter} ms)`)
  const env = { v: 1, topic: 'traffic', host: 'e1', round: roundAt(Date.now(), timing), seq: Date.now() * 1000, body: { vms: [] } } as unknown as Parameters<Agent['view']['check']>[0]
  for (const a of members) t.like(a.view.check(env, e1Peer), { ok: false, reason: 'expired' })
  t.true(lines.some(l => /member removed \(expired\)/.test(l.msg) && l.member === 'e1'), 'members log the removal')

  // A stranger with the PSK and an invitation whose join window is over: on probation, asks, is refused with the reason.
  const key = await loadOrCreatePeerKey(join(cluster.dir, 'late'))
  const late = await createNode({ cluster: TEST_CLUSTER_NAME, privateKey: key.key, psk: await readFile(join(cluster.dir, 'psk')), allow: () => true, listen: ['/ip6/::1/tcp/0'], bootstrap: cluster.bootstrap })
  t.teardown(async () => late.stop())
  const stale = makeInvitation(admin, { cluster: TEST_CLUSTER_NAME, host: 'late', dc: 'A', now: Date.now() - 120_000, ttlMs: 60_000 })
  const answer = await request(late, multiaddr(a1.addresses()[0]!), late.protocol(JOIN_PROTOCOL, '1'), { invitation: stale }, { timeoutMs: 20_000 }) as JoinAnswer
  t.like(answer, { admitted: false, reason: 'expired' })
  t.regex((answer as { detail: string }).detail, /could be used until .*ask for a new token/)
  t.true(lines.some(l => l.msg === 'refused a joining peer' && l.why === 'expired'), 'a1 logs the refusal')
})
