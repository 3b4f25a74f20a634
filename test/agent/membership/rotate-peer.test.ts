/**
 * Rotating a certified host's peer key with rounds going on (docs/operations.md,
 * Rotating a host's peer key): four static agents and e1, admitted by a
 * token, with two VMs. `heliotrope key rotate-peer`'s own function writes
 * e1's new key and invitation; e1 restarts as systemctl would (a graceful
 * stop, then a start). Its new peer id becomes a member everywhere, the old
 * one is refused as superseded and its connections (a node holding the old
 * key, as after a leak) are closed; e1's VMs stay accounted for throughout,
 * and no round goes without a plan on the other agents.
 */
import test from 'ava'
import { readFile } from 'node:fs/promises'
import { multiaddr } from '@multiformats/multiaddr'
import type { Agent } from '../../../agent/agent.ts'
import { buildStatus } from '../../../agent/api/status.ts'
import { rotatePeerKey } from '../../../agent/cli/rotate-peer-key.ts'
import { loadOrCreateAdminKey } from '../../../agent/membership/admin-key.ts'
import { buildToken } from '../../../agent/membership/invite.ts'
import { decodeToken } from '../../../agent/membership/token.ts'
import { createNode, parsePeerKey } from '../../../agent/net/index.ts'
import { replacedKeyFile } from '../../../agent/net/peer-key-rotation.ts'
import { roundAt } from '../../../lib/rounds.ts'
import { TEST_CLUSTER_NAME, waitFor } from '../mesh/harness.ts'
import { acceptToken, connected, fourWithAdminKey, GENEROUS_MS, type LogLine } from './four.ts'

/** Rounds watched after e1 takes part again: a missed plan caused by the switch of its peer id would show within them. */
const AFTER_ROUNDS = 3

test.serial('a certified host rotates its peer key with one restart: the new peer id is a member everywhere, the old one refused as superseded and cut off, its VMs accounted for, no round without a plan on the others', async t => {
  t.timeout(300_000)
  const lines: LogLine[] = []
  const vms = ['v1', 'v2']
  const { cluster, newcomer, adminKeyFile } = await fourWithAdminKey(t, lines, {
    vms: vms.map((id, i) => ({ id, host: 'e1', memoryMiB: 1024, vcpus: 1, addresses: [`fd00:2::${i + 1}`] }))
  })
  const others = [...cluster.agents.values()]
  const timing = others[0]!.timing
  const admin = await loadOrCreateAdminKey(adminKeyFile)
  const invite = async (): Promise<string> => (await buildToken(cluster.configs.get('a1')!, admin, { host: 'e1', dc: 'B', now: Date.now(), bootstrap: cluster.bootstrap })).token
  await acceptToken(cluster, newcomer, await invite())
  let e1 = await cluster.start('e1')
  const oldPeer = e1.node.peerId
  const hasVms = (a: Agent): boolean => vms.every(id => a.view.member('e1')?.state?.vms.some(v => v.id === id) === true)
  await waitFor(() => others.every(a => a.view.member('e1')?.peerId === oldPeer && hasVms(a) && a.view.agreesOnMembers('e1')), GENEROUS_MS, 'e1 admitted, its state (two VMs) heard everywhere')
  const planned = (a: Agent, r: number): boolean => a.rounds.get(r)?.planner !== undefined
  await waitFor(() => others.every(a => planned(a, roundAt(Date.now(), timing) - 1)), GENEROUS_MS, 'a round planned everywhere')
  // Rounds going on: from here to the end, every round must have a plan on every other agent.
  const first = roundAt(Date.now(), timing) - 1

  // From here on, every 10 ms: does every other agent still list e1 with its two VMs?
  let samples = 0
  const missing: string[] = []
  const watch = setInterval(() => { samples++; for (const a of others) if (!hasVms(a)) missing.push(`${a.host}@${Date.now()}`) }, 10)
  t.teardown(() => { clearInterval(watch) })

  // The operator's command, in this process (a CLI process would take the agents' CPU; its errors: test/agent/config/rotate-peer.test.ts).
  const config = cluster.configs.get('e1')!
  const said = await rotatePeerKey(config, decodeToken(await invite()), Date.now())
  t.log(said.join('\n'))
  t.true(said.some(l => /systemctl restart heliotrope/.test(l)))

  // systemctl restart: a graceful stop. Then, before e1 is back, a node with
  // the old key (a leaked one, say) connects to every member: it is e1 to them until the new certificate.
  await e1.stop()
  const oldKey = parsePeerKey(new Uint8Array(await readFile(replacedKeyFile(config.stateDir, oldPeer))))
  const thief = await createNode({ cluster: TEST_CLUSTER_NAME, privateKey: oldKey, psk: await readFile(config.pskFile), allow: () => true, listen: ['/ip6/::1/tcp/0'], bootstrap: [] })
  t.teardown(async () => thief.stop())
  t.is(thief.peerId, oldPeer)
  for (const a of others) await thief.libp2p.dial(multiaddr(a.addresses()[0]!))
  await waitFor(() => others.every(a => connected(a, oldPeer)), GENEROUS_MS, 'the old key connected to every member')

  const restartedAt = Date.now()
  e1 = await cluster.start('e1')
  const newPeer = e1.node.peerId
  t.not(newPeer, oldPeer)
  const all = [...others, e1]
  await waitFor(() => all.every(a => a.view.member('e1')?.peerId === newPeer && a.view.membersHash === e1.view.membersHash), GENEROUS_MS, 'every agent to list e1 under its new peer id')
  const admittedAt = Date.now()
  t.log(`e1's new peer id a member everywhere ${admittedAt - restartedAt} ms after its start (a round is ${timing.periodMs} ms)`)
  await waitFor(() => others.every(a => !connected(a, oldPeer)), GENEROUS_MS, 'every member to close the old peer id\'s connections')
  t.log(`the old peer id's connections closed everywhere ${Date.now() - admittedAt} ms after the admission`)

  // The old peer id: superseded in the records, its messages dropped as such, its dials refused.
  const env = { v: 1, topic: 'traffic', host: 'e1', round: roundAt(Date.now(), timing), seq: Date.now() * 1000, body: { vms: [] } } as unknown as Parameters<Agent['view']['check']>[0]
  for (const a of others) t.like(a.view.check(env, oldPeer), { ok: false, reason: 'superseded' })
  const dials = await Promise.allSettled(others.map(async a => await thief.libp2p.dial(multiaddr(a.addresses()[0]!), { signal: AbortSignal.timeout(5_000) }).then(async () => await thief.libp2p.services.ping.ping(a.node.libp2p.peerId, { signal: AbortSignal.timeout(5_000) }))))
  t.true(dials.every(d => d.status === 'rejected'), 'no member takes the old peer id back')
  await waitFor(() => lines.some(l => l.msg === 'refused a connection from a peer that is not a member' && l.peer === oldPeer && /replaced by a newer one/.test(String(l.why))), GENEROUS_MS, 'members to say why they refused the old peer id')
  t.true(lines.some(l => /peer key replaced \(superseded\)/.test(l.msg) && l.member === 'e1' && l.newPeer === newPeer), 'members log the replacement')

  // e1 takes part again under its new id: live everywhere, its state (with the new member list) heard, its VMs on it.
  await waitFor(() => others.every(a => a.view.live(Date.now()).some(m => m.host === 'e1') && a.view.agreesOnMembers('e1') && hasVms(a)) && e1.view.live(Date.now()).length === 5, GENEROUS_MS, 'e1 to take part again')
  const back = roundAt(Date.now(), timing)
  // Three more rounds, one of them (at least) with e1 holding the plan: it votes and acts under its new id.
  const last = back + AFTER_ROUNDS
  await waitFor(() => others.every(a => planned(a, last)) && [...e1.rounds.values()].some(r => r.round > back && r.plan !== undefined), GENEROUS_MS, `${AFTER_ROUNDS} more rounds planned everywhere`)
  clearInterval(watch)
  t.deepEqual((await cluster.world.vms()).filter(v => v.host === 'e1').map(v => v.id).sort(), vms, 'the VMs are still on e1')
  t.is(missing.length, 0, `e1's VMs were missing from a view in ${missing.length} of ${samples} samples: ${missing.slice(0, 5).join(' ')}`)
  t.log(`e1's two VMs listed by every other agent in all ${samples} samples (every 10 ms) through the rotation`)
  const status = buildStatus(e1, restartedAt, Date.now())
  t.is(status.peerId, newPeer, '/status shows the new peer id')

  // Every round from before the rotation to after e1 came back has a plan on every other agent.
  t.log(`the rotation spanned rounds ${first}..${last} (${last - first + 1}); e1 restarted in round ${roundAt(restartedAt, timing)}, admitted in ${roundAt(admittedAt, timing)}`)
  for (let r = first; r <= last; r++) for (const a of others) t.true(planned(a, r), `round ${r} on ${a.host}: ${JSON.stringify(a.rounds.get(r)?.notes ?? null)}`)

  // Durable: c1 restarted knows e1 by its new peer id from its state directory, and refuses the old one, before any peer answers.
  await cluster.agents.get('c1')!.stop()
  const c1 = await cluster.start('c1')
  t.is(c1.view.member('e1')?.peerId, newPeer, 'c1 lists e1 under its new peer id from its start')
  t.like(c1.view.check(env, oldPeer), { ok: false, reason: 'superseded' })
  t.is(c1.view.membersHash, e1.view.membersHash)
})
