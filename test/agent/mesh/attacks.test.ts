import test from 'ava'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createNode, loadOrCreatePeerKey, publish, waitForTopicPeers, type ClusterNode } from '../../../agent/net/index.ts'
import { encodeEnvelope } from '../../../lib/wire/codec.ts'
import { encode } from 'cborg'
import type { Envelope } from '../../../lib/wire/messages.ts'
import { roundAt } from '../../../lib/rounds.ts'
import { startTestCluster, waitFor } from './harness.ts'
import { threeDcSpec } from './scenario.ts'

/**
 * A member that runs no agent but holds a valid key and the PSK: the worst
 * insider. Every forged, foreign, replayed, oversized or unelected message
 * it sends must be dropped, counted by reason, and change nothing.
 */
test('forged, foreign, replayed, oversized and unelected messages from a member are dropped and counted; rounds go on', async t => {
  const cluster = await startTestCluster(t, threeDcSpec({ roundPeriodMs: 2000, extraMembers: ['rogue'] }))
  const agents = [...cluster.agents.values()]
  const a1 = cluster.agents.get('a1')!
  await waitFor(() => agents.every(a => a.view.live(Date.now()).length === 6), 20_000, 'the mesh')
  const key = await loadOrCreatePeerKey(join(cluster.dir, 'rogue'))
  const rogue: ClusterNode = await createNode({
    cluster: 'test',
    privateKey: key.key,
    psk: await readFile(join(cluster.dir, 'psk')),
    allow: () => true,
    listen: ['/ip6/::1/tcp/0'],
    bootstrap: cluster.bootstrap,
    gossip: { ipColocationFactorWeight: 0 }
  })
  t.teardown(async () => rogue.stop())
  await rogue.bootstrap()
  for (const topic of ['host', 'traffic', 'plan']) rogue.libp2p.services.pubsub.subscribe(rogue.topic(topic))
  await waitForTopicPeers(rogue, rogue.topic('plan'), 3)
  const round = (): number => roundAt(Date.now(), a1.timing)
  let seq = Date.now() * 1000
  const send = async (env: Envelope | Uint8Array, topic = (env as Envelope).topic): Promise<void> => {
    await publish(rogue, rogue.topic(topic), env instanceof Uint8Array ? env : encodeEnvelope(env))
  }
  const rogueState: Envelope<'host'> = { v: 1, topic: 'host', host: 'rogue', round: round(), seq: ++seq, body: { dc: 'A', memoryMiB: 1024, vcpus: 1, address: 'fd00::99', topology: a1.view.member('a1')!.state!.topology, leaving: false, vms: [] } }
  await send(rogueState)
  await waitFor(() => agents.every(a => a.view.member('rogue')?.state !== undefined), 15_000, 'the rogue\'s own state to be accepted')
  const a1Before = JSON.stringify(a1.view.member('a1')!.state)
  const drops = (reason: string): number[] => agents.map(a => a.view.drops[reason as keyof typeof a.view.drops])

  // 1. A forged host state: the rogue speaks for a1.
  await send({ ...rogueState, host: 'a1', seq: ++seq, body: { ...rogueState.body, vms: [] } })
  // 2. A digest for a VM that is not the rogue's.
  await send({ v: 1, topic: 'traffic', host: 'rogue', round: round(), seq: ++seq, body: { windowMs: 1000, vms: [{ vm: 'app0-0', peers: [{ peer: 'app0-1', out: 9e9, in: 0 }], restOut: 0 }] } })
  // 3. A replay: the rogue's first state again, as it was.
  await send(rogueState)
  // 4. An oversized message (within libp2p's frame limit, over the envelope bound).
  await send(encode({ ...rogueState, seq: ++seq, pad: "x".repeat(300_000) }), "host")
  // 5. A plan for the current round from a peer that is not its planner.
  const r = round()
  const ranking = a1.election.ranking(r, a1.view.live(Date.now()).map(m => ({ host: m.host, peerId: m.peerId })), Date.now())
  await send({ v: 1, topic: 'plan', host: 'rogue', round: r, seq: ++seq, body: { rank: 0, planner: 'rogue', inputs: {}, initialCost: 1, finalCost: 0, moves: [{ vm: 'app0-0', from: 'a1', to: 'b1', cost: 0 }] } })

  const expect = ['impersonation', 'foreign-vm', 'replay', 'oversized']
  if (ranking.indexOf('rogue') !== 0) expect.push('not-elected')
  await waitFor(() => expect.every(reason => drops(reason).every(n => n >= 1)), 15_000, `drops counted for ${expect.join(", ")}`).catch(err => { t.log(Object.fromEntries(expect.map(r => [r, drops(r)]))); throw err })
  for (const reason of expect) t.log(`${reason}: dropped by ${drops(reason).filter(n => n >= 1).length}/${agents.length} agents`)
  t.is(JSON.stringify(a1.view.member('a1')!.state), a1Before, 'a1 state unchanged by the forgery')
  for (const a of agents) t.false(a.view.member('rogue')!.digest?.vms.some(v => v.vm === 'app0-0') ?? false)
  t.false(agents.some(a => a.rounds.get(r)?.planner === 'rogue'), 'nobody accepted the unelected plan')

  // The agents stay healthy: the next rounds are planned and agreed as usual.
  const next = round() + 1
  await waitFor(() => round() > next, 10_000, 'another round')
  const planners = agents.map(a => a.rounds.get(next)?.planner)
  t.true(planners[0] !== undefined && planners.every(p => p === planners[0]), `round ${next} agreed: ${planners.join(',')}`)
})
