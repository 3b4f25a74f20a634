import test from 'ava'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createNode, loadOrCreatePeerKey, request, type ClusterNode } from '../../../agent/net/index.ts'
import { encodeEnvelope } from '../../../lib/wire/codec.ts'
import { encode } from 'cborg'
import { multiaddr } from '@multiformats/multiaddr'
import type { Envelope } from '../../../lib/wire/messages.ts'
import { roundAt } from '../../../lib/rounds.ts'
import { joinHandMember, startTestCluster, waitFor } from './harness.ts'
import { threeDcSpec } from './scenario.ts'

/**
 * A member that runs no agent but holds a valid key and the PSK: the worst
 * insider. Every forged, foreign, replayed, oversized or unelected message
 * it sends must be dropped, counted by reason, and change nothing.
 */
test('forged, foreign, replayed, oversized, unelected and flooding messages and bad reservations from a member or an observer are dropped and counted; rounds go on', async t => {
  const cluster = await startTestCluster(t, threeDcSpec({ roundPeriodMs: 2000, extraMembers: ['rogue'], observers: ['watcher'] }))
  const agents = [...cluster.agents.values()]
  const a1 = cluster.agents.get('a1')!
  await waitFor(() => agents.every(a => a.view.live(Date.now()).length === 6), 20_000, 'the mesh')
  const hand = await joinHandMember(t, cluster, 'rogue')
  const rogue = hand.node
  const round = (): number => roundAt(Date.now(), a1.timing)
  const { send, nextSeq } = hand
  const rogueState: Envelope<'host'> = { v: 1, topic: 'host', host: 'rogue', round: round(), seq: nextSeq(), body: { dc: 'A', memoryMiB: 1024, vcpus: 1, address: 'fd00::99', topology: a1.view.member('a1')!.state!.topology, leaving: false, vms: [] } }
  await send(rogueState)
  await waitFor(() => agents.every(a => a.view.member('rogue')?.state !== undefined), 15_000, 'the rogue\'s own state to be accepted')
  const a1Before = JSON.stringify(a1.view.member('a1')!.state)
  const drops = (reason: string): number[] => agents.map(a => a.view.drops[reason as keyof typeof a.view.drops])

  // 1. A forged host state: the rogue speaks for a1.
  await send({ ...rogueState, host: 'a1', seq: nextSeq(), body: { ...rogueState.body, vms: [] } })
  // 2. A digest for a VM that is not the rogue's.
  await send({ v: 1, topic: 'traffic', host: 'rogue', round: round(), seq: nextSeq(), body: { windowMs: 1000, vms: [{ vm: 'app0-0', peers: [{ peer: 'app0-1', out: 9e9, in: 0 }], restOut: 0 }] } })
  // 3. A replay: the rogue's first state again, as it was.
  await send(rogueState)
  // 4. An oversized message (within libp2p's frame limit, over the envelope bound).
  await send(encode({ ...rogueState, seq: nextSeq(), pad: "x".repeat(300_000) }), "host")
  // 5. A plan claiming rank 0 from a member that is not rank 0 this round
  // (the rogue is a live member, so in some rounds it is rank 0: skip those).
  const live = (): Array<{ host: string, peerId: string }> => a1.view.live(Date.now()).map(m => ({ host: m.host, peerId: m.peerId }))
  let r = round()
  for (let tries = 0; a1.election.ranking(r, live(), 0).indexOf('rogue') === 0 && tries < 5; tries++) {
    await waitFor(() => round() > r, 10_000, 'the next round')
    r = round()
  }
  const ranking = a1.election.ranking(r, live(), 0)
  t.not(ranking.indexOf('rogue'), 0)
  await send({ v: 1, topic: 'plan', host: 'rogue', round: r, seq: nextSeq(), body: { rank: 0, planner: 'rogue', inputs: {}, initialCost: 1, finalCost: 0, moves: [{ vm: 'app0-0', from: 'a1', to: 'b1', cost: 0 }] } })

  const expect = ['impersonation', 'foreign-vm', 'replay', 'oversized', 'not-elected']
  await waitFor(() => expect.every(reason => drops(reason).every(n => n >= 1)), 15_000, `drops counted for ${expect.join(", ")}`).catch(err => { t.log(Object.fromEntries(expect.map(r => [r, drops(r)]))); throw err })
  for (const reason of expect) t.log(`${reason}: dropped by ${drops(reason).filter(n => n >= 1).length}/${agents.length} agents`)
  // The forgery claimed a1 lives at the rogue's address with no VMs.
  for (const a of agents) t.is(a.view.member('a1')!.state!.address, JSON.parse(a1Before).address, `${a.host} kept a1's own state`)
  for (const a of agents) t.false(a.view.member('rogue')!.digest?.vms.some(v => v.vm === 'app0-0') ?? false)
  t.false(agents.some(a => a.rounds.get(r)?.planner === 'rogue'), 'nobody accepted the unelected plan')

  // 6. A replay of an old, authentic plan (what gossip would re-deliver once
  // its seen-cache forgot the message): same bytes, same author.
  const captured: Array<{ env: Envelope, from: string }> = []
  const stopCapture = a1.observe(e => { if (e.type === 'gossip' && e.topic === 'plan') captured.push({ env: e.env, from: a1.view.member(e.env.host)!.peerId }) })
  // Any round's plan will do; 15 rounds of 2 s, generous: in one full run
  // on the busy two-core machine 5 rounds passed without a plan reaching
  // a1's gossip (cause not found; alone the test passed in 24 s).
  await waitFor(() => captured.length > 0, 30_000, 'a plan to capture')
  stopCapture()
  const old = captured[0]!
  // Replayed later, when every agent has long had it.
  await waitFor(() => round() > old.env.round + 1, 10_000, 'a later round')
  // Replayed to an agent other than its author.
  const b1 = agents.find(a => a.host !== old.env.host && a.host !== 'a1')!
  const replays = b1.view.drops.replay
  // White-box: hand the captured message to b1's validator as gossip would (its cluster layer's inbound dispatch).
  const verdict = (b1 as unknown as { cluster: { inbound: { validate (topic: string, msg: object): string } } }).cluster.inbound.validate('plan', { topic: 'plan', data: encodeEnvelope(old.env), from: old.from, seqno: 0n, via: old.from, msgId: 'replayed' })
  t.is(verdict, 'ignore')
  t.is(b1.view.drops.replay, replays + 1, 'counted as a replay')

  // 7. A reservation for a move no accepted plan contains.
  const refused = await request(rogue, a1.peerId, rogue.protocol('migrate', '1.0.0'), { op: 'reserve', round: round(), vm: { id: 'evil', status: 'running', memoryMiB: 1, vcpus: 1, addresses: [] } }) as { ok: boolean, reason?: string }
  t.deepEqual([refused.ok, refused.reason], [false, 'not-in-plan'])
  const malformed = await request(rogue, a1.peerId, rogue.protocol('migrate', '1.0.0'), { op: 'reserve', round: -1 }) as { ok: boolean, reason?: string }
  t.deepEqual([malformed.ok, malformed.reason], [false, 'bad-request'])

  // 7b. A migrate request from a non-member: an observer (allowlisted, so it
  // connects; the console is one) sends a well-formed reservation. Were the
  // member check gone, it would be judged against the plan ('not-in-plan'),
  // so only 'not-member' shows the check.
  const watcherKey = await loadOrCreatePeerKey(join(cluster.dir, 'watcher'))
  const watcher: ClusterNode = await createNode({ cluster: 'test', privateKey: watcherKey.key, psk: await readFile(join(cluster.dir, 'psk')), allow: () => true, listen: ['/ip6/::1/tcp/0'] })
  t.teardown(async () => watcher.stop())
  const refusedBefore = { ...a1.counters.migrateRefused }
  const stranger = await request(watcher, multiaddr(a1.addresses()[0]!), watcher.protocol('migrate', '1.0.0'), { op: 'reserve', round: round(), vm: { id: 'app1-1', status: 'running', memoryMiB: 1024, vcpus: 1, addresses: ['fd00:1::1:2'] } }) as { ok: boolean, reason?: string }
  t.deepEqual([stranger.ok, stranger.reason], [false, 'not-member'])
  // Every refusal is counted by reason (/metrics: heliotrope_migrate_refused_total).
  t.is(a1.counters.migrateRefused['not-member'], refusedBefore['not-member'] + 1, 'the stranger\'s request counted as not-member')
  t.true(a1.counters.migrateRefused['not-in-plan'] >= 1 && a1.counters.migrateRefused['bad-request'] >= 1, 'the rogue\'s refusals counted too')
  t.log(`a1 refused migrate requests: ${JSON.stringify(a1.counters.migrateRefused)}`)

  // 8. A flood: 400 valid-looking states from one member in a burst.
  const limited = agents.map(a => a.view.drops['rate-limited'])
  for (let i = 0; i < 400; i++) void send({ ...rogueState, seq: nextSeq() })
  await waitFor(() => agents.every((a, i) => a.view.drops['rate-limited'] > limited[i]! + 300), 20_000, 'the flood to be cut off')
  t.log(`flood: ${agents.map((a, i) => a.view.drops['rate-limited'] - limited[i]!).join(', ')} of 400 rate-limited per agent`)

  // The agents stay healthy and keep serving rounds. A plan is accepted only
  // until the next round's rank-0 deadline (2 s here), and on a busy
  // two-core CI machine, with the six agents and the flooder in one process
  // beside other test files, one agent now and then hears a plan too late
  // (seen twice in CI: 1-2 agents missing one round). What a flood must not
  // do is stop an agent: so of the next six rounds at least three are served
  // by every agent, and each agent accepts a plan in at least four.
  // (Agreement under a flood is logged, not asserted; rounds.test.ts
  // measures agreement on a quiet mesh.)
  const ROUNDS = 6
  const first = round() + 1
  // Six rounds of 2 s; generous because the machine is shared (see above).
  await waitFor(() => round() > first + ROUNDS - 1, 60_000, `${ROUNDS} more rounds`)
  let served = 0
  let agreed = 0
  const accepted = agents.map(() => 0)
  for (let r2 = first; r2 < first + ROUNDS; r2++) {
    const planners = agents.map(a => a.rounds.get(r2)?.planner)
    planners.forEach((p, i) => { if (p !== undefined) accepted[i]!++ })
    if (planners.every(p => p !== undefined)) served++
    else t.log(`round ${r2}: not every agent accepted a plan (${planners.join(',')})`)
    if (planners.every(p => p !== undefined && p === planners[0])) agreed++
  }
  t.log(`after the flood: ${served}/${ROUNDS} rounds served by every agent, ${agreed}/${ROUNDS} with one planner everywhere; plans accepted per agent: ${accepted.join(', ')}`)
  t.true(served >= 3, `at least 3 of ${ROUNDS} rounds served by every agent (${served})`)
  agents.forEach((a, i) => t.true(accepted[i]! >= 4, `${a.host} accepted a plan in ${accepted[i]} of ${ROUNDS} rounds`))
})
