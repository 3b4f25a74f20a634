import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import test from 'ava'
import { createLibp2p } from 'libp2p'
import { dialBootstrap } from '../../../agent/net/bootstrap.ts'
import { generatePsk } from '../../../agent/net/keys.ts'
import { createNode } from '../../../agent/net/node.ts'
import { LOOPBACK_LISTEN, startCluster } from './cluster.ts'
import type { ClusterNode } from '../../../agent/net/node.ts'

const DIAL_MS = 3_000

/** A node holding `psk` whose identity the cluster may or may not know. */
async function outsider (t: { teardown(fn: () => Promise<void>): void }, psk: Uint8Array): Promise<ClusterNode> {
  const node = await createNode({ cluster: 'test', privateKey: await generateKeyPair('Ed25519'), psk, allow: () => true, listen: LOOPBACK_LISTEN })
  t.teardown(async () => { await node.stop() })
  return node
}

/**
 * Whether `a` and `b` hold an open connection to each other once a refused
 * dial has played out. The refusing side decides after the handshake, so the
 * dialer's optimistic upgrade may return a connection that dies at once.
 */
async function linked (a: ClusterNode, b: { getConnections(): Array<{ remotePeer: { toString(): string }, status: string }> }, bId: string): Promise<boolean> {
  await new Promise(resolve => setTimeout(resolve, 500))
  const aToB = a.libp2p.getConnections().some(c => c.remotePeer.toString() === bId && c.status === 'open')
  const bToA = b.getConnections().some(c => c.remotePeer.toString() === a.peerId && c.status === 'open')
  return aToB || bToA
}

async function tryDial (dial: () => Promise<unknown>): Promise<void> {
  await dial().catch(() => {})
}

test('a peer with another pre-shared key cannot connect', async t => {
  t.timeout(30_000)
  const [member] = await startCluster(t, 1) as [ClusterNode]
  const stranger = await outsider(t, generatePsk())
  await t.throwsAsync(stranger.libp2p.dial(multiaddr(member.addresses()[0]!), { signal: AbortSignal.timeout(DIAL_MS) }))
  t.false(await linked(member, stranger.libp2p, stranger.peerId))
})

test('a peer without any pre-shared key cannot connect', async t => {
  t.timeout(30_000)
  const [member] = await startCluster(t, 1) as [ClusterNode]
  // A plain libp2p node: TCP, noise, yamux, and no private network.
  const plain = await createLibp2p({
    addresses: { listen: LOOPBACK_LISTEN },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
  t.teardown(async () => { await plain.stop() })
  await t.throwsAsync(plain.dial(multiaddr(member.addresses()[0]!), { signal: AbortSignal.timeout(DIAL_MS) }))
  t.false(await linked(member, plain, plain.peerId.toString()))
})

test('a key holder not on the allowlist is refused both ways; an allowlisted observer gets in', async t => {
  t.timeout(30_000)
  const psk = generatePsk()
  const observerKey = await generateKeyPair('Ed25519')
  const observerId = peerIdFromPrivateKey(observerKey).toString()
  const nodes = await startCluster(t, 2, { psk, allow: (_, m) => new Set([...m.map(x => x.peerId), observerId]) })
  const [member] = nodes as [ClusterNode]

  const intruder = await outsider(t, psk)
  t.deepEqual(await dialBootstrap(intruder.libp2p, member.addresses(), { timeoutMs: 1_500 }), [], 'bootstrap reports the refusal')
  await tryDial(async () => await intruder.libp2p.dial(multiaddr(member.addresses()[0]!), { signal: AbortSignal.timeout(DIAL_MS) }))
  t.false(await linked(member, intruder.libp2p, intruder.peerId))
  // The gater also stops our own dials to it, before any packet is sent.
  await t.throwsAsync(member.libp2p.dial(multiaddr(intruder.addresses()[0]!), { signal: AbortSignal.timeout(DIAL_MS) }), { name: 'DialDeniedError' })

  const observer = await createNode({ cluster: 'test', privateKey: observerKey, psk, allow: () => true, listen: LOOPBACK_LISTEN, bootstrap: member.addresses() })
  t.teardown(async () => { await observer.stop() })
  t.deepEqual(await observer.bootstrap({ timeoutMs: DIAL_MS }), [member.peerId])
  t.true(await linked(member, observer.libp2p, observerId))
})

test('an allowlist function is consulted on every connection', async t => {
  t.timeout(30_000)
  const psk = generatePsk()
  const members = new Set<string>()
  const [member] = await startCluster(t, 1, { psk, allow: () => (id: string) => members.has(id) }) as [ClusterNode]
  const joiner = await outsider(t, psk)
  const target = multiaddr(member.addresses()[0]!)
  await tryDial(async () => await joiner.libp2p.dial(target, { signal: AbortSignal.timeout(DIAL_MS) }))
  t.false(await linked(member, joiner.libp2p, joiner.peerId))
  members.add(joiner.peerId)
  await joiner.libp2p.dial(target, { signal: AbortSignal.timeout(DIAL_MS) })
  t.true(await linked(member, joiner.libp2p, joiner.peerId))
})

test('a peer on probation (signed membership) may connect in, never be dialled; one refused probation stays out', async t => {
  t.timeout(30_000)
  const psk = generatePsk()
  const newcomer = await outsider(t, psk)
  const revoked = await outsider(t, psk)
  const member = await createNode({ cluster: 'test', privateKey: await generateKeyPair('Ed25519'), psk, allow: () => false, probation: id => id === newcomer.peerId, listen: LOOPBACK_LISTEN })
  t.teardown(async () => { await member.stop() })
  const target = multiaddr(member.addresses()[0]!)
  // Asked before it connects in: once connected, a dial reuses that connection and no gater is asked.
  await t.throwsAsync(member.libp2p.dial(multiaddr(newcomer.addresses()[0]!), { signal: AbortSignal.timeout(DIAL_MS) }), { name: 'DialDeniedError' })
  await newcomer.libp2p.dial(target, { signal: AbortSignal.timeout(DIAL_MS) })
  t.true(await linked(member, newcomer.libp2p, newcomer.peerId), 'in on probation')
  await tryDial(async () => await revoked.libp2p.dial(target, { signal: AbortSignal.timeout(DIAL_MS) }))
  t.false(await linked(member, revoked.libp2p, revoked.peerId), 'no probation for it')
})
