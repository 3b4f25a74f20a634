/**
 * Views of the overlay the agent needs: whether a topic has peers yet (a
 * publish right after subscribing reaches nobody, because subscriptions
 * travel on the next exchange with each peer), and which members are closest
 * to a key in the DHT's own XOR metric (the planner election).
 */
import { createHash } from 'node:crypto'
import { EventTypes } from '@libp2p/kad-dht'
import { peerIdFromString } from '@libp2p/peer-id'
import { TopicPeersTimeoutError } from './errors.ts'
import type { ClusterNode } from './node.ts'

/** Default wait for a topic's peers, in ms. */
export const DEFAULT_TOPIC_WAIT_MS = 15_000
/** How often waitForTopicPeers looks again between events, in ms. */
export const TOPIC_POLL_MS = 100
/** Default bound on a closest-peers lookup, in ms. */
export const DEFAULT_LOOKUP_TIMEOUT_MS = 10_000

export interface TopicWaitOptions {
  /**
   * 'subscribers' (default): subscribed peers we hold a gossip stream to,
   * the ones our publish reaches; 'mesh': peers grafted into our mesh for
   * the topic, the ones that forward.
   */
  kind?: 'subscribers' | 'mesh'
  timeoutMs?: number
  signal?: AbortSignal
}

/**
 * Number of peers `node` sees on `topic`. A subscription is learned over the
 * peer's stream to us, before our stream to it is open, and until then a
 * publish skips it: subscribers count only once both exist.
 */
export function topicPeerCount (node: ClusterNode, topic: string, kind: 'subscribers' | 'mesh' = 'subscribers'): number {
  const pubsub = node.libp2p.services.pubsub
  if (kind === 'mesh') return meshPeers(node, topic).length
  return pubsub.getSubscribers(topic).filter(p => pubsub.streamsOutbound.has(p.toString())).length
}

/** The peers grafted into `node`'s mesh for `topic` (peer id strings, sorted): those it forwards every message to. */
export function meshPeers (node: ClusterNode, topic: string): string[] {
  return [...node.libp2p.services.pubsub.getMeshPeers(topic)].sort()
}

/** gossipsub's score of each peer it knows (connected gossip peers), by peer id: below 0 it starts to be shunned. */
export function peerScores (node: ClusterNode): Array<{ peerId: string, score: number }> {
  const pubsub = node.libp2p.services.pubsub
  return pubsub.getPeers().map(p => p.toString()).sort().map(peerId => ({ peerId, score: pubsub.getScore(peerId) }))
}

/**
 * Resolves once `topic` has at least `min` peers of the given kind; throws
 * TopicPeersTimeoutError at the deadline.
 */
export async function waitForTopicPeers (node: ClusterNode, topic: string, min: number, options: TopicWaitOptions = {}): Promise<number> {
  const kind = options.kind ?? 'subscribers'
  const timeoutMs = options.timeoutMs ?? DEFAULT_TOPIC_WAIT_MS
  const pubsub = node.libp2p.services.pubsub
  const count = (): number => topicPeerCount(node, topic, kind)
  if (count() >= min) return count()
  return await new Promise<number>((resolve, reject) => {
    const check = (): void => {
      const n = count()
      if (n >= min) { done(); resolve(n) }
    }
    const timer = setTimeout(() => { done(); reject(new TopicPeersTimeoutError(topic, min, count(), timeoutMs)) }, timeoutMs)
    // Subscriptions change on 'subscription-change', the mesh on graft; an
    // outbound stream opening has no event, hence the short poll.
    const events = ['subscription-change', 'gossipsub:graft'] as const
    const poll = setInterval(check, TOPIC_POLL_MS)
    const onAbort = (): void => { done(); reject(options.signal?.reason) }
    const done = (): void => {
      clearTimeout(timer)
      clearInterval(poll)
      for (const e of events) pubsub.removeEventListener(e, check)
      options.signal?.removeEventListener('abort', onAbort)
    }
    for (const e of events) pubsub.addEventListener(e, check)
    options.signal?.addEventListener('abort', onAbort)
  })
}

/** The DHT's id for a key or peer: sha256 of its bytes (of the multihash, for a peer). */
export function kadId (bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

/** The DHT id of a peer id string. */
export function peerKadId (peerId: string): Uint8Array {
  return kadId(peerIdFromString(peerId).toMultihash().bytes)
}

/** Bytewise XOR of two equal-length ids. */
export function xorDistance (a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) throw new RangeError(`ids differ in length: ${a.length} and ${b.length}`)
  return a.map((x, i) => x ^ b[i]!)
}

/** Orders two distances as big-endian numbers: negative when `a` is closer. */
export function compareDistance (a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!
    if (d !== 0) return d
  }
  return a.length - b.length
}

/**
 * Sorts peer ids by XOR distance of their DHT id from the DHT id of `key`,
 * nearest first: the same order a closest-peers lookup for `key` yields, so
 * agents holding the same member list rank the same planner.
 */
export function rankByDistance (key: Uint8Array, peerIds: Iterable<string>): string[] {
  const target = kadId(key)
  return [...new Set(peerIds)]
    .map(id => ({ id, d: xorDistance(target, peerKadId(id)) }))
    .sort((x, y) => compareDistance(x.d, y.d))
    .map(x => x.id)
}

export interface LookupOptions {
  timeoutMs?: number
  signal?: AbortSignal
  /** Rank this node among the results (the DHT never returns its caller); default true. */
  includeSelf?: boolean
}

/**
 * Asks the DHT for the peers closest to `key` (up to its bucket size, 20) and
 * returns their ids nearest first. With an empty routing table the answer is
 * this node alone rather than a wait for peers that may never come.
 */
export async function closestPeers (node: ClusterNode, key: Uint8Array, options: LookupOptions = {}): Promise<string[]> {
  const includeSelf = options.includeSelf ?? true
  const dht = node.libp2p.services.dht
  const found: string[] = includeSelf ? [node.peerId] : []
  if (dht.routingTable.size === 0) return found
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS)
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout])
  for await (const event of dht.getClosestPeers(key, { signal })) {
    if (event.type === EventTypes.FINAL_PEER) found.push(event.peer.id.toString())
  }
  return rankByDistance(key, found)
}
