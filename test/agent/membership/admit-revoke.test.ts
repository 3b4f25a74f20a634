import test from 'ava'
import type { Agent } from '../../../agent/agent.ts'
import { loadOrCreateAdminKey } from '../../../agent/membership/admin-key.ts'
import { buildToken } from '../../../agent/membership/invite.ts'
import { MembershipStore } from '../../../agent/membership/store.ts'
import { roundAt } from '../../../lib/rounds.ts'
import { heliotrope } from '../cli-run.ts'
import { TEST_CLUSTER_NAME, waitFor } from '../mesh/harness.ts'
import { acceptToken, connected, fourWithAdminKey, GENEROUS_MS, type LogLine } from './four.ts'

test.serial('a running 4-agent cluster admits a fifth host from a token without restarts, then revokes it: its connections close and its messages are dropped as revoked', async t => {
  const lines: LogLine[] = []
  const { cluster, newcomer, adminKeyFile } = await fourWithAdminKey(t, lines)
  const members = [...cluster.agents.values()]
  const a1 = cluster.agents.get('a1')!
  const timing = a1.timing
  const hashBefore = a1.view.membersHash

  const admin = await loadOrCreateAdminKey(adminKeyFile)
  const { token } = await buildToken(cluster.configs.get('a1')!, admin, { host: 'e1', dc: 'B', now: Date.now(), bootstrap: cluster.bootstrap })
  await acceptToken(cluster, newcomer, token)
  const startedAt = Date.now()
  const e1 = await cluster.start('e1')
  const e1Peer = e1.node.peerId
  const all = [...members, e1]
  await waitFor(() => all.every(a => a.view.member('e1') !== undefined && a.view.membersHash === e1.view.membersHash), GENEROUS_MS, 'every agent to list e1, with one member-list hash')
  const admittedAt = Date.now()
  t.not(a1.view.membersHash, hashBefore, 'the member list changed')
  t.is(e1.view.members().length, 5)
  t.log(`e1 admitted by every agent ${admittedAt - startedAt} ms after its start (a round is ${timing.periodMs} ms)`)
  // Votes count again once every state carries the new hash: each agent sends its state as soon as its list changes.
  await waitFor(() => all.every(a => all.every(b => a.view.agreesOnMembers(b.config.host))), GENEROUS_MS, 'every agent to see every state carry the new member-list hash')
  const agreedIn = Date.now() - admittedAt
  t.log(`every state carried the new member-list hash ${agreedIn} ms after the admission`)
  t.true(agreedIn < timing.periodMs, `within a round (${agreedIn} ms)`)

  // Taking part: within two rounds every agent has e1 live, agreeing on the member list (its vote counts), and e1 holds the round's plan.
  const admittedRound = roundAt(admittedAt, timing)
  // An agent ranks a round's candidates only when no plan reached it before its deadline (agent/planning.ts): an empty ranking is no verdict.
  const rankings = (round: number): string[][] => [...members, e1].map(a => a.rounds.get(round)?.ranking ?? []).filter(r => r.length > 0)
  const rankedAll = (round: number): boolean => rankings(round).length > 0 && rankings(round).every(r => r.includes('e1'))
  await waitFor(() => members.every(a => a.view.live(Date.now()).some(m => m.host === 'e1') && a.view.agreesOnMembers('e1')) &&
    e1.view.live(Date.now()).length === 5 && [...e1.rounds.values()].some(r => r.round > admittedRound && r.plan !== undefined) &&
    [...e1.rounds.keys()].some(round => round > admittedRound && rankedAll(round)), GENEROUS_MS, 'e1 to take part')
  // Measured by round, not by when the poll saw it: the first round whose rankings all held e1, and the first e1 held a plan of.
  const ranked = Math.min(...[...e1.rounds.keys()].filter(round => round > admittedRound && rankedAll(round)))
  const planned = Math.min(...[...e1.rounds.values()].filter(r => r.round > admittedRound && r.plan !== undefined).map(r => r.round))
  t.log(`e1 ranked as a planner candidate by every agent that ranked round +${ranked - admittedRound} after its admission, and held round +${planned - admittedRound}'s plan; live everywhere, its votes counted`)
  if (ranked - admittedRound > 2) {
    for (let r = admittedRound + 1; r <= ranked; r++) t.log(`round +${r - admittedRound}: ${[...members, e1].map(a => `${a.config.host}:[${a.rounds.get(r)?.ranking.join(' ') ?? '-'}]`).join(' ')}`)
  }
  t.true(Math.max(ranked, planned) - admittedRound <= 2, `within two rounds (ranked +${ranked - admittedRound}, plan +${planned - admittedRound})`)
  const last = Math.max(...e1.rounds.keys())
  for (let r = admittedRound + 2; r <= last; r++) t.true(rankings(r).every(x => x.includes('e1')), `from the second round on, no ranking without e1 (round +${r - admittedRound})`)
  t.true(lines.some(l => l.msg === 'member admitted' && l.member === 'e1'), 'members log the admission')

  // Durable: c1 restarted knows e1 from its state directory, before any peer answers (read from its file, as start() may already have heard them).
  const oldC1 = cluster.agents.get('c1')!
  await oldC1.stop()
  const stored = await new MembershipStore(cluster.configs.get('c1')!.stateDir).load()
  t.deepEqual(stored.certificates.map(c => [c.invitation.body.host, c.peerId]), [['e1', e1Peer]])
  const c1 = await cluster.start('c1')
  t.truthy(c1.view.member('e1'), 'c1 lists e1 from its start')
  t.is(c1.view.membersHash, e1.view.membersHash)
  members.splice(members.indexOf(oldC1), 1, c1)
  await waitFor(() => connected(c1, e1Peer) || c1.view.live(Date.now()).some(m => m.host === 'e1'), GENEROUS_MS, 'c1 to hear e1 again')

  // Revoke through b1's control socket, as the operator would. The CLI's
  // own start (a node process, a second or two here) is not the cluster's
  // doing: the time counts from the first agent holding the revocation,
  // watched every 10 ms (far below a round).
  let revokedAt: number | undefined
  const watch = setInterval(() => { if (revokedAt === undefined && members.some(a => a.view.member('e1') === undefined)) revokedAt = Date.now() }, 10)
  const rm = await heliotrope(['members', 'remove', 'e1', '--admin-key', adminKeyFile, '--cluster', TEST_CLUSTER_NAME, '--socket', cluster.configs.get('b1')!.controlSocket])
  t.is(rm.code, 0, rm.err)
  t.regex(rm.out, /revoked e1/)
  await waitFor(() => members.every(a => a.view.member('e1') === undefined && !connected(a, e1Peer)), GENEROUS_MS, 'every member to drop e1 and close its connections')
  clearInterval(watch)
  const closedIn = Date.now() - revokedAt!
  t.log(`e1's connections closed at every member ${closedIn} ms after the revocation`)
  t.true(closedIn < timing.periodMs, `within a round (${closedIn} ms; a round is ${timing.periodMs} ms)`)
  t.true(members.every(a => a.view.membersHash === a1.view.membersHash && a.view.membersHash === hashBefore), 'back to the four members\' hash everywhere')
  // Its messages: whatever still arrives is dropped as revoked, not as a stranger's.
  const env = { v: 1, topic: 'traffic', host: 'e1', round: roundAt(Date.now(), timing), seq: Date.now() * 1000, body: { vms: [] } } as unknown as Parameters<Agent['view']['check']>[0]
  for (const a of members) t.like(a.view.check(env, e1Peer), { ok: false, reason: 'revoked' })
  // It cannot come back: every member's gater refuses it.
  const dials = await Promise.allSettled(members.map(async a => await e1.node.libp2p.dial(a.node.libp2p.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(5_000) }).then(async () => await e1.node.libp2p.services.ping.ping(a.node.libp2p.peerId, { signal: AbortSignal.timeout(5_000) }))))
  t.true(dials.every(d => d.status === 'rejected'), 'no member takes e1 back')
  await waitFor(() => lines.some(l => l.msg === 'refused a connection from a peer that is not a member' && l.peer === e1Peer && /revoked/.test(String(l.why))), GENEROUS_MS, 'members to say whom they refused, and why')
  const drops = members.reduce((n, a) => n + a.view.drops.revoked, 0)
  t.log(`messages of e1 dropped as revoked at the members: ${drops}`)
  t.true(lines.some(l => /member removed \(revoked\)/.test(l.msg) && l.member === 'e1'), 'members log the removal')
})
