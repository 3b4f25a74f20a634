import test from 'ava'
import { closestPeers, compareDistance, kadId, peerKadId, rankByDistance, xorDistance } from '../../../agent/net/mesh.ts'
import { makeMembers, startCluster } from './cluster.ts'
import type { ClusterNode } from '../../../agent/net/node.ts'

const roundKey = (r: number): Uint8Array => kadId(new TextEncoder().encode(`/heliotrope/test/round/${r}`))

test('XOR ranking: distances order as big-endian numbers and the nearest id ranks first', async t => {
  const ids = (await makeMembers(6)).map(m => m.peerId)
  const key = roundKey(1)
  const ranked = rankByDistance(key, [...ids, ids[0]!])
  t.is(ranked.length, 6, 'duplicates collapse')
  const target = kadId(key)
  const d = ranked.map(id => xorDistance(target, peerKadId(id)))
  for (let i = 1; i < d.length; i++) t.true(compareDistance(d[i - 1]!, d[i]!) < 0)
  t.deepEqual(xorDistance(Uint8Array.of(0b1010), Uint8Array.of(0b0110)), Uint8Array.of(0b1100))
  t.true(compareDistance(Uint8Array.of(0, 255), Uint8Array.of(1, 0)) < 0)
})

test('closest-peer lookups for the same key agree across 5 nodes and match the local ranking', async t => {
  t.timeout(60_000)
  const started = Date.now()
  const nodes = await startCluster(t, 5)
  const all = nodes.map(n => n.peerId)
  // Routing tables fill through identify and the first self-query.
  const deadline = Date.now() + 20_000
  while (nodes.some(n => n.libp2p.services.dht.routingTable.size < 4) && Date.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  t.log(`routing tables full after ${Date.now() - started} ms: ${nodes.map(n => n.libp2p.services.dht.routingTable.size).join(' ')}`)

  const KEYS = 10
  let agreed = 0
  let matchedLocal = 0
  const lookupStart = Date.now()
  for (let r = 0; r < KEYS; r++) {
    const key = roundKey(r)
    const answers = await Promise.all(nodes.map(async (n: ClusterNode) => await closestPeers(n, key, { timeoutMs: 10_000 })))
    if (answers.every(a => a.join() === answers[0]!.join())) agreed++
    if (answers.every(a => a.join() === rankByDistance(key, all).join())) matchedLocal++
  }
  t.log(`agreement ${agreed}/${KEYS} keys, ${matchedLocal}/${KEYS} equal to the local XOR ranking; ${((Date.now() - lookupStart) / KEYS / nodes.length).toFixed(0)} ms per lookup (5 in parallel)`)
  t.is(agreed, KEYS)
  t.is(matchedLocal, KEYS)
})

test('a lone node is its own closest peer at once', async t => {
  t.timeout(20_000)
  const [node] = await startCluster(t, 1) as [ClusterNode]
  t.deepEqual(await closestPeers(node, roundKey(7), { timeoutMs: 2_000 }), [node.peerId])
  t.deepEqual(await closestPeers(node, roundKey(7), { includeSelf: false }), [])
})
