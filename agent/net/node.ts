/**
 * Builds the agent's libp2p node: TCP over IPv6 (or the in-memory transport
 * for simulation), a private network (PSK), noise, yamux, an allowlist gater,
 * identify, ping, gossipsub with strict signing and application validation,
 * and a Kademlia DHT private to the cluster.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { gossipsub, StrictSign } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { kadDHT } from '@libp2p/kad-dht'
import { memory } from '@libp2p/memory'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { CODE_P2P, multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { clusterPeerInfoMapper } from './addresses.ts'
import { allowlistGater } from './allowlist.ts'
import { dialBootstrap } from './bootstrap.ts'
import type { BootstrapOptions } from './bootstrap.ts'
import { parsePsk, pskKeys } from './keys.ts'
import { Keyring, keyringProtector } from './keyring-protector.ts'
import { fastMessageId } from './message-id.ts'
import { checkClusterName, clusterProtocol, clusterTopic } from './names.ts'
import {
  DEFAULT_CONNECTION_MANAGER, DEFAULT_CONNECTION_MONITOR, DEFAULT_DHT, DEFAULT_IP_COLOCATION_FACTOR_THRESHOLD,
  DEFAULT_IP_COLOCATION_FACTOR_WEIGHT, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_TCP_LISTEN
} from './tuning.ts'
import type { Allowlist } from './allowlist.ts'
import type { NodeTuning } from './tuning.ts'
import type { GossipSub, GossipSubComponents, GossipsubOpts, TopicValidatorResult } from '@libp2p/gossipsub'
import type { Identify } from '@libp2p/identify'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import type { KadDHTComponents, SingleKadDHT } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'
import { definedOnly } from '../../lib/defined.ts'

/**
 * The gossipsub object at run time is the library's GossipSub class; the
 * package exports only a narrower interface, so the members we rely
 * on are declared here.
 */
export interface GossipRouter extends GossipSub {
  /** Our open outbound gossip streams, by peer id string: a publish can only use these. */
  readonly streamsOutbound: ReadonlyMap<string, unknown>
  /** Peers in our mesh for `topic` (peer id strings). */
  getMeshPeers(topic: string): string[]
  /** Current gossip score of a peer (below the graylist threshold, its messages are ignored). */
  getScore(peerId: string): number
  /** Releases (Accept) or drops (Reject/Ignore) a message held for validation. */
  reportMessageValidationResult(msgId: string, propagationSource: string, acceptance: TopicValidatorResult): void
}

// A type alias, not an interface: libp2p's ServiceMap needs an index signature.
export type NetServices = {
  identify: Identify
  ping: Ping
  pubsub: GossipRouter
  dht: SingleKadDHT
}

export interface NodeInit extends NodeTuning {
  /** Cluster name; protocols and topics live under /heliotrope/<cluster>/. */
  cluster: string
  /** This agent's identity (see loadOrCreatePeerKey). */
  privateKey: PrivateKey
  /** The cluster's pnet key file bytes (see loadOrCreatePsk). */
  psk: Uint8Array
  /** Who may connect: member hosts and observers. */
  allow: Allowlist
  /** Peers not allowed that may still connect in, to ask for admission (see allowlistGater). */
  probation?: (peerId: string) => boolean
  /** Told of each inbound connection the gater refuses (the agent logs it: refusal-log.ts). */
  refused?: (peerId: string) => void
  /** 'tcp' (default) or 'memory' for in-process simulation. */
  transport?: 'tcp' | 'memory'
  /** Listen multiaddrs; default DEFAULT_TCP_LISTEN, or /memory/<peer id>. */
  listen?: string[]
  /** Addresses to announce instead of the listen addresses. */
  announce?: string[]
  /** Multiaddrs with /p2p/<peer id> to dial at bootstrap(). */
  bootstrap?: string[]
  /** IPv6 prefixes of the fleet besides loopback and ULA (kept by the DHT). */
  clusterPrefixes?: string[]
  /** When set, gossipsub ignores every other topic. */
  topics?: string[]
  /** Bound on gossip messages and request bodies; default DEFAULT_MAX_MESSAGE_BYTES. */
  maxMessageBytes?: number
  /** A DHT client asks but serves no one: no peer adds it to its routing table (default false: a server). */
  dhtClient?: boolean
  /** Members' addresses known beforehand (the config's inventory): put in the peer store, so dialing them needs no lookup. */
  known?: ReadonlyArray<{ peerId: string, addresses: readonly string[] }>
}

export interface ClusterNode {
  readonly libp2p: Libp2p<NetServices>
  readonly cluster: string
  readonly peerId: string
  readonly maxMessageBytes: number
  /** The cluster keys new connections use and accept: a reload swaps them (keyring-protector.ts). */
  readonly keyring: Keyring
  /** `/heliotrope/<cluster>/<name>` */
  topic(name: string): string
  /** `/heliotrope/<cluster>/<name>/<version>` */
  protocol(name: string, version?: string): string
  /** Listen addresses with /p2p/<peer id>, as others should dial them. */
  addresses(): string[]
  /** Dials the configured bootstrap peers; resolves with those connected. */
  bootstrap(options?: BootstrapOptions): Promise<string[]>
  stop(): Promise<void>
}

/** Creates and starts a node. */
export async function createNode (init: NodeInit): Promise<ClusterNode> {
  const cluster = checkClusterName(init.cluster)
  const keyring = new Keyring(pskKeys(parsePsk(init.psk)))
  const transport = init.transport ?? 'tcp'
  const peerId = peerIdFromPrivateKey(init.privateKey).toString()
  const maxMessageBytes = init.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  const listen = init.listen ?? (transport === 'tcp' ? [...DEFAULT_TCP_LISTEN] : [`/memory/${peerId}`])
  const g = init.gossip ?? {}
  // Parsed before the node exists: a bad inventory entry fails the start, naming the member.
  const known = (init.known ?? []).filter(k => k.peerId !== peerId).map(k => {
    try {
      return { peerId: peerIdFromString(k.peerId), multiaddrs: k.addresses.map(a => multiaddr(a).decapsulateCode(CODE_P2P)) }
    } catch (err) {
      throw new TypeError(`member ${k.peerId}: bad address in ${JSON.stringify(k.addresses)}: ${(err as Error).message}`)
    }
  })

  const gossipOptions: Partial<GossipsubOpts> = {
    ...definedOnly({
      D: g.D,
      Dlo: g.Dlo,
      Dhi: g.Dhi,
      heartbeatInterval: g.heartbeatInterval
    }),
    // Every message carries its author's signature; unsigned ones are dropped.
    globalSignaturePolicy: StrictSign,
    // Duplicates (one per mesh peer) are dropped before their signature is checked again.
    fastMsgIdFn: fastMessageId,
    // Messages are held until the application says Accept (see pubsub.ts).
    asyncValidation: true,
    emitSelf: false,
    // publish() reports its recipients instead of throwing on an empty topic.
    allowPublishToZeroTopicPeers: true,
    // A closed cluster: no floodsub fallback, no peer exchange.
    fallbackToFloodsub: false,
    doPX: false,
    maxInboundDataLength: maxMessageBytes,
    ...definedOnly({ allowedTopics: init.topics }),
    scoreParams: {
      ...g.scoreParams,
      IPColocationFactorWeight: g.ipColocationFactorWeight ?? DEFAULT_IP_COLOCATION_FACTOR_WEIGHT,
      IPColocationFactorThreshold: g.ipColocationFactorThreshold ?? DEFAULT_IP_COLOCATION_FACTOR_THRESHOLD,
      IPColocationFactorWhitelist: new Set(g.ipColocationFactorWhitelist ?? [])
    },
    ...definedOnly({ scoreThresholds: g.scoreThresholds })
  }

  const libp2p = await createLibp2p<NetServices>({
    privateKey: init.privateKey,
    nodeInfo: { name: 'heliotrope' },
    addresses: { listen, ...definedOnly({ announce: init.announce }) },
    transports: transport === 'tcp' ? [tcp()] : [memory()],
    connectionProtector: keyringProtector(keyring),
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: allowlistGater(init.allow, init.probation, init.refused),
    connectionManager: { ...DEFAULT_CONNECTION_MANAGER, ...init.connectionManager },
    connectionMonitor: { ...DEFAULT_CONNECTION_MONITOR, ...init.connectionMonitor },
    services: {
      identify: identify(),
      ping: ping(),
      // The factory returns the GossipSub class, whose extra methods
      // GossipRouter declares (see above).
      pubsub: gossipsub(gossipOptions) as (components: GossipSubComponents) => GossipRouter,
      // kadDHT() is typed as the multi-DHT interface; a single DHT has a routing table.
      dht: kadDHT({
        ...DEFAULT_DHT,
        ...init.dht,
        protocol: clusterProtocol(cluster, 'kad'),
        clientMode: init.dhtClient ?? false,
        peerInfoMapper: clusterPeerInfoMapper(init.clusterPrefixes)
      }) as (components: KadDHTComponents) => SingleKadDHT
    }
  })

  for (const k of known) await libp2p.peerStore.merge(k.peerId, { multiaddrs: k.multiaddrs })
  const bootstrapAddrs = [...(init.bootstrap ?? [])]
  return {
    libp2p,
    cluster,
    peerId,
    maxMessageBytes,
    keyring,
    topic: (name) => clusterTopic(cluster, name),
    protocol: (name, version) => clusterProtocol(cluster, name, version),
    // Memory listen addresses come back without /p2p/<id>; dialers need it.
    addresses: () => libp2p.getMultiaddrs().map(ma => {
      const text = ma.toString()
      return text.includes('/p2p/') ? text : `${text}/p2p/${peerId}`
    }),
    bootstrap: async (options) => await dialBootstrap(libp2p, bootstrapAddrs, options),
    stop: async () => { await libp2p.stop() }
  }
}
