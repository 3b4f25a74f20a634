/**
 * Rejoin: a host with no connection dials its bootstrap peers again. Real
 * libp2p nodes on [::1]: B knows A's address but has never reached it (as
 * a host whose 20 s of bootstrap dials all went unanswered).
 */
import test from 'ava'
import { peerIdFromString } from '@libp2p/peer-id'
import { createNode } from '../../../agent/net/node.ts'
import { generatePsk } from '../../../agent/net/keys.ts'
import { Rejoin } from '../../../agent/cluster/rejoin.ts'
import { silentLogger } from '../../../agent/log.ts'
import { LOOPBACK_LISTEN, makeMembers } from '../net/cluster.ts'

test('a host with no connection dials its bootstrap peers again; one with a connection does not', async t => {
  const [a, b] = await makeMembers(2)
  const psk = generatePsk()
  const allow = new Set([a!.peerId, b!.peerId])
  const nodeA = await createNode({ cluster: 'test', privateKey: a!.privateKey, psk, allow, listen: LOOPBACK_LISTEN })
  t.teardown(async () => { await nodeA.stop() })
  const nodeB = await createNode({ cluster: 'test', privateKey: b!.privateKey, psk, allow, listen: LOOPBACK_LISTEN, bootstrap: nodeA.addresses() })
  t.teardown(async () => { await nodeB.stop() })
  const counters = { rejoins: 0 }
  const rejoin = new Rejoin({ node: nodeB, log: silentLogger(), counters })

  t.is(nodeB.libp2p.getConnections().length, 0, 'B starts alone')
  rejoin.check()
  await rejoin.settled()
  t.is(counters.rejoins, 1)
  t.true(nodeB.libp2p.getConnections(peerIdFromString(nodeA.peerId)).length > 0, 'B reached A')
  // A enters B's DHT table once identify has said A serves it; until then B would rightly try again.
  await until(() => nodeB.libp2p.services.dht.routingTable.size > 0, 'A in B\'s routing table')

  rejoin.check()
  await rejoin.settled()
  t.is(counters.rejoins, 1, 'no second attempt while connected')

  // A drops B (and forgets it); B is alone again and rejoins.
  await nodeA.libp2p.hangUp(peerIdFromString(nodeB.peerId))
  await nodeB.libp2p.hangUp(peerIdFromString(nodeA.peerId))
  t.is(nodeB.libp2p.getConnections().length, 0)
  rejoin.check()
  await rejoin.settled()
  t.is(counters.rejoins, 2)
  t.true(nodeB.libp2p.getConnections(peerIdFromString(nodeA.peerId)).length > 0, 'B reached A again')
})

test('a stop ends an attempt in flight at once, and no attempt follows it', async t => {
  const [a, b] = await makeMembers(2)
  const psk = generatePsk()
  const allow = new Set([a!.peerId, b!.peerId])
  // A listened once and is gone: B's dials are refused, and bootstrap would retry for 20 s.
  const gone = await createNode({ cluster: 'test', privateKey: a!.privateKey, psk, allow, listen: LOOPBACK_LISTEN })
  const addresses = gone.addresses()
  await gone.stop()
  const nodeB = await createNode({ cluster: 'test', privateKey: b!.privateKey, psk, allow, listen: LOOPBACK_LISTEN, bootstrap: addresses })
  t.teardown(async () => { await nodeB.stop() })
  const counters = { rejoins: 0 }
  const rejoin = new Rejoin({ node: nodeB, log: silentLogger(), counters })
  rejoin.check()
  t.is(counters.rejoins, 1)
  const started = Date.now()
  await rejoin.stop()
  // Bootstrap's own deadline is 20 s; only the abort ends it well before (15 s leaves room for a busy machine).
  t.true(Date.now() - started < 15_000, `stopped after ${Date.now() - started} ms`)
  rejoin.check()
  t.is(counters.rejoins, 1, 'no attempt after the stop')
})

/** Polls `check` every 20 ms; the 30 s deadline is far above the few ms identify takes, for a busy machine. */
async function until (check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 30_000
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}
