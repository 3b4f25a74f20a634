/**
 * The keyring protector with real libp2p nodes on [::1]: on the wire it is
 * @libp2p/pnet's, and the cluster key rotates in three steps with every pair
 * of nodes able to open new connections (checked by ping, which needs both
 * directions decrypted) after each host's step.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import test from 'ava'
import { createLibp2p } from 'libp2p'
import { generatePsk, parsePsk, pskKeys } from '../../../agent/net/keys.ts'
import { createNode, type ClusterNode } from '../../../agent/net/node.ts'
import { LOOPBACK_LISTEN } from './cluster.ts'

/** A dial that has not connected by then failed (a refused one fails at the first bytes). */
const DIAL_MS = 5_000

async function node (t: { teardown (fn: () => Promise<void>): void }, psk: Uint8Array): Promise<ClusterNode> {
  const n = await createNode({ cluster: 'test', privateKey: await generateKeyPair('Ed25519'), psk, allow: () => true, listen: LOOPBACK_LISTEN })
  t.teardown(async () => { await n.stop() })
  return n
}

/** Opens a new connection from `a` to `b` (closing any open one first) and pings over it. */
async function freshPing (a: ClusterNode, b: ClusterNode): Promise<boolean> {
  await a.libp2p.hangUp(peerIdFromString(b.peerId))
  try {
    await a.libp2p.dial(multiaddr(b.addresses()[0]!), { signal: AbortSignal.timeout(DIAL_MS) })
    await a.libp2p.services.ping.ping(peerIdFromString(b.peerId), { signal: AbortSignal.timeout(DIAL_MS) })
    return true
  } catch {
    return false
  }
}

const ring = (...files: Uint8Array[]): Uint8Array[] => files.flatMap(f => pskKeys(parsePsk(f)))

test('on the wire it is @libp2p/pnet: a stock pnet node with the same key connects both ways', async t => {
  const psk = generatePsk()
  const ours = await node(t, psk)
  const stockKey = await generateKeyPair('Ed25519')
  const stock = await createLibp2p({
    privateKey: stockKey,
    addresses: { listen: LOOPBACK_LISTEN },
    transports: [tcp()],
    connectionProtector: preSharedKey({ psk }),
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), ping: ping() }
  })
  t.teardown(async () => { await stock.stop() })
  await stock.dial(multiaddr(ours.addresses()[0]!), { signal: AbortSignal.timeout(DIAL_MS) })
  t.true((await stock.services.ping.ping(peerIdFromString(ours.peerId), { signal: AbortSignal.timeout(DIAL_MS) })) >= 0)
  // The next dialer closes the connection itself: a close by the other end is seen here a moment later.
  await ours.libp2p.hangUp(peerIdFromPrivateKey(stockKey))
  const stockAddr = stock.getMultiaddrs()[0]!.toString()
  await ours.libp2p.dial(multiaddr(stockAddr), { signal: AbortSignal.timeout(DIAL_MS) })
  t.true((await ours.libp2p.services.ping.ping(peerIdFromPrivateKey(stockKey), { signal: AbortSignal.timeout(DIAL_MS) })) >= 0)
})

test('the cluster key rotates in three steps, one host at a time, and every pair connects anew after each; a host left on the old key is refused and counted', async t => {
  t.timeout(120_000)
  const oldKey = generatePsk()
  const newKey = generatePsk()
  const nodes = [await node(t, oldKey), await node(t, oldKey), await node(t, oldKey)]
  const allPairsConnect = async (label: string): Promise<void> => {
    for (const a of nodes) {
      for (const b of nodes) {
        if (a !== b) t.true(await freshPing(a, b), `${label}: ${nodes.indexOf(a)} -> ${nodes.indexOf(b)}`)
      }
    }
  }
  await allPairsConnect('before')
  // 1. every host accepts the new key; 2. every host speaks it; 3. the old one is gone.
  const steps: Array<[string, Uint8Array[]]> = [
    ['accept new', ring(oldKey, newKey)],
    ['speak new', ring(newKey, oldKey)],
    ['drop old', ring(newKey)]
  ]
  for (const [label, keys] of steps) {
    for (const [i, n] of nodes.entries()) {
      n.keyring.set(keys)
      await allPairsConnect(`${label}, after host ${i}`)
    }
  }

  const left = await node(t, oldKey)
  t.false(await freshPing(left, nodes[0]!), 'a host still on the old key alone cannot connect')
  t.true(nodes[0]!.keyring.refused >= 1, 'and the member counted the refused connection')
})

test('open connections keep their key, also once it is removed from the ring; new ones need a shared key', async t => {
  const a = generatePsk()
  const b = generatePsk()
  const x = await node(t, a)
  const y = await node(t, a)
  t.true(await freshPing(x, y))
  y.keyring.set(ring(b))
  // The open connection still carries pings both ways.
  t.true((await x.libp2p.services.ping.ping(peerIdFromString(y.peerId), { signal: AbortSignal.timeout(DIAL_MS) })) >= 0)
  t.true((await y.libp2p.services.ping.ping(peerIdFromString(x.peerId), { signal: AbortSignal.timeout(DIAL_MS) })) >= 0)
  t.false(await freshPing(x, y), 'a new one finds no shared key')
  x.keyring.set(ring(a, b))
  t.false(await freshPing(x, y), 'accepting b is not enough: x still speaks a, which y dropped')
  x.keyring.set(ring(b, a))
  t.true(await freshPing(x, y))
})
