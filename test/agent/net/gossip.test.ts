import test from 'ava'
import { topicPeerCount, waitForTopicPeers } from '../../../agent/net/mesh.ts'
import { publish, subscribeTopic } from '../../../agent/net/pubsub.ts'
import { startCluster } from './cluster.ts'
import type { GossipMessage, Verdict } from '../../../agent/net/pubsub.ts'
import type { ClusterNode } from '../../../agent/net/node.ts'

const text = (m: GossipMessage): string => new TextDecoder().decode(m.data)
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

/** Resolves when `check` holds, polling; fails the test at the deadline. */
async function eventually (check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) return false
    await new Promise(resolve => setTimeout(resolve, 25))
  }
  return true
}

function collect (node: ClusterNode, topic: string, validate: (m: GossipMessage) => Verdict = () => 'accept'): { got: GossipMessage[], sub: ReturnType<typeof subscribeTopic> } {
  const got: GossipMessage[] = []
  const sub = subscribeTopic(node, topic, { validate, deliver: m => got.push(m) })
  return { got, sub }
}

for (const transport of ['tcp', 'memory'] as const) {
  test(`5 nodes over ${transport} form a mesh and a publish reaches all others`, async t => {
    t.timeout(40_000)
    const started = Date.now()
    const nodes = await startCluster(t, 5, { transport })
    const topic = nodes[0]!.topic('host')
    const inboxes = nodes.map(n => collect(n, topic).got)
    await Promise.all(nodes.map(async n => await waitForTopicPeers(n, topic, 4, { timeoutMs: 20_000 })))
    const subscribedMs = Date.now() - started
    await Promise.all(nodes.map(async n => await waitForTopicPeers(n, topic, 4, { kind: 'mesh', timeoutMs: 20_000 })))
    t.log(`${transport}: all subscribed after ${subscribedMs} ms, full mesh after ${Date.now() - started} ms (from first start)`)
    for (const n of nodes) {
      t.is(n.libp2p.getPeers().length, 4, 'each node is connected to the other four')
      t.is(topicPeerCount(n, topic, 'mesh'), 4)
    }

    const sentAt = Date.now()
    const recipients = await publish(nodes[2]!, topic, bytes('state of host 2'))
    t.is(recipients.length, 4)
    t.true(await eventually(() => inboxes.every((box, i) => i === 2 || box.length === 1), 5_000))
    t.log(`${transport}: publish delivered to 4 peers in ${Date.now() - sentAt} ms`)
    t.is(inboxes[2]!.length, 0, 'no echo to the publisher')
    for (const [i, box] of inboxes.entries()) {
      if (i === 2) continue
      t.is(text(box[0]!), 'state of host 2')
      t.is(box[0]!.from, nodes[2]!.peerId, 'the author is the signer')
    }
  })
}

test('a message its validator rejects is neither delivered nor forwarded', async t => {
  t.timeout(40_000)
  // A line a - b - c: the allowlists keep a and c apart, so c can only hear a through b.
  const nodes = await startCluster(t, 3, {
    allow: (i, m) => new Set(i === 1 ? [m[0]!.peerId, m[2]!.peerId] : [m[1]!.peerId]),
    hub: 1
  })
  const [a, b, c] = nodes as [ClusterNode, ClusterNode, ClusterNode]
  const topic = a.topic('plan')
  const validated: string[] = []
  const atB = collect(b, topic, m => {
    validated.push(text(m))
    return text(m).startsWith('bad') ? 'reject' : 'accept'
  })
  const atC = collect(c, topic)
  collect(a, topic)
  await waitForTopicPeers(a, topic, 1)
  await waitForTopicPeers(b, topic, 2, { kind: 'mesh' })
  await waitForTopicPeers(c, topic, 1, { kind: 'mesh' })
  t.false(a.libp2p.getPeers().some(p => p.toString() === c.peerId), 'a and c are not connected')

  await publish(a, topic, bytes('bad plan'))
  await publish(a, topic, bytes('good plan'))
  t.true(await eventually(() => atC.got.length >= 1, 10_000), 'the good plan crosses b')
  await new Promise(resolve => setTimeout(resolve, 500))
  t.deepEqual(atC.got.map(text), ['good plan'], 'c never sees the rejected message')
  t.deepEqual(atB.got.map(text), ['good plan'], 'b does not deliver what it rejected')
  t.deepEqual(validated.sort(), ['bad plan', 'good plan'])
  t.deepEqual(atB.sub.stats, { accepted: 1, rejected: 1, ignored: 0, errors: 0 })
})

test('a validator that throws counts as a rejection', async t => {
  t.timeout(30_000)
  const [a, b] = await startCluster(t, 2) as [ClusterNode, ClusterNode]
  const topic = a.topic('traffic')
  const atB = collect(b, topic, m => { if (text(m) === 'boom') throw new Error('malformed'); return 'accept' })
  collect(a, topic)
  await waitForTopicPeers(a, topic, 1)
  await publish(a, topic, bytes('boom'))
  await publish(a, topic, bytes('fine'))
  t.true(await eventually(() => atB.got.length === 1, 5_000))
  t.deepEqual(atB.got.map(text), ['fine'])
  t.deepEqual(atB.sub.stats, { accepted: 1, rejected: 1, ignored: 0, errors: 1 })
})

test('publish refuses a message over the size bound', async t => {
  t.timeout(20_000)
  const [a] = await startCluster(t, 1, { init: () => ({ maxMessageBytes: 1024 }) })
  await t.throwsAsync(publish(a!, a!.topic('host'), new Uint8Array(1025)), { name: 'MessageTooLargeError' })
})

test('the IP colocation penalty is configurable: peers sharing ::1 are scored by it', async t => {
  t.timeout(40_000)
  // With 4 peers on one IP, threshold 1 and weight -10 give (4 - 1)^2 * -10 = -90,
  // under gossipsub's graylist threshold (-80); weight 0 leaves scores at 0.
  const penalised = await startCluster(t, 5, { init: () => ({ gossip: { ipColocationFactorThreshold: 1, ipColocationFactorWeight: -10 } }) })
  const spared = await startCluster(t, 5, { init: () => ({ gossip: { ipColocationFactorThreshold: 1, ipColocationFactorWeight: 0 } }) })
  const topic = penalised[0]!.topic('host')
  for (const n of [...penalised, ...spared]) collect(n, topic)
  await Promise.all(spared.map(async n => await waitForTopicPeers(n, topic, 4)))
  const scores = (nodes: ClusterNode[]): number[] => nodes.flatMap(n =>
    n.libp2p.getPeers().map(p => n.libp2p.services.pubsub.getScore(p.toString())))
  t.true(await eventually(() => scores(penalised).length === 20 && scores(penalised).every(s => s === -90), 10_000), String(scores(penalised)))
  t.true(scores(spared).every(s => s === 0))
  t.is(topicPeerCount(penalised[0]!, topic, 'mesh'), 0, 'graylisted peers are not grafted')
})
