import test from 'ava'
import { faultyNode } from '../../lab/chaos/faulty-node.ts'
import { waitForTopicPeers } from '../../agent/net/mesh.ts'
import { publish, subscribeTopic } from '../../agent/net/pubsub.ts'
import { handle, request } from '../../agent/net/request.ts'
import { startCluster } from '../agent/net/cluster.ts'
import type { ClusterNode } from '../../agent/net/node.ts'

test('a chaos-wrapped node loses the gossip its faults drop and cannot reach a cut-off peer; the rest gets through', async t => {
  t.timeout(40_000)
  const [a, b, c] = await startCluster(t, 3, { transport: 'memory' }) as [ClusterNode, ClusterNode, ClusterNode]
  // b loses whatever c authors and cannot reach c; a and everything else are untouched.
  const wrapped = faultyNode(b, {
    dropGossip: (_topic, from) => from === c.peerId,
    cutOff: (peer) => peer === c.peerId ? 'host-c' : undefined
  })
  const topic = a.topic('host')
  const got: string[] = []
  subscribeTopic(wrapped, topic, { validate: () => 'accept', deliver: m => got.push(m.from) })
  subscribeTopic(a, topic, { validate: () => 'accept', deliver: () => {} })
  subscribeTopic(c, topic, { validate: () => 'accept', deliver: () => {} })
  await Promise.all([a, b, c].map(async n => await waitForTopicPeers(n, topic, 2, { timeoutMs: 20_000 })))
  await publish(c, topic, new TextEncoder().encode('from c'))
  await publish(a, topic, new TextEncoder().encode('from a'))
  const end = Date.now() + 5_000
  while (!got.includes(a.peerId) && Date.now() < end) await new Promise(resolve => setTimeout(resolve, 25))
  await new Promise(resolve => setTimeout(resolve, 300))
  t.deepEqual(got, [a.peerId], 'only a\'s message reached b')

  const migrate = a.protocol('migrate')
  for (const n of [a, c]) await handle(n, migrate, () => 'ok')
  await t.throwsAsync(request(wrapped, c.peerId, migrate, 'hi'), { message: 'no route to host-c' })
  t.is(await request(wrapped, a.peerId, migrate, 'hi'), 'ok', 'a peer not cut off is reached')
  t.is(wrapped.peerId, b.peerId, 'the wrapper is the same node')
})
