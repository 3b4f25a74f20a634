/**
 * Defaults for the knobs that decide whether a cluster holds together, and a
 * preset for many agents on one machine. The defaults suit a fleet where every
 * agent has its own address; the crowded preset is for the lab and for
 * simulation, where dozens of agents share ::1 and two CPU cores.
 */
import type { PeerScoreParams, PeerScoreThresholds } from '@libp2p/gossipsub/score'
import type { KadDHTInit } from '@libp2p/kad-dht'
import type { ConnectionManagerInit, ConnectionMonitorInit } from 'libp2p'

/** Where a production agent listens. */
export const DEFAULT_TCP_LISTEN: readonly string[] = ['/ip6/::/tcp/4001']

/** Largest gossip message or request/response body, in bytes. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1 << 20

/**
 * Gossipsub's P6 penalty for many peers behind one IP: weight and the count
 * above which it applies. These are gossipsub's own defaults; they guard a
 * real fleet against one machine posing as many hosts.
 */
export const DEFAULT_IP_COLOCATION_FACTOR_WEIGHT = -5
export const DEFAULT_IP_COLOCATION_FACTOR_THRESHOLD = 10

export interface GossipTuning {
  /** P6 weight, <= 0; 0 turns the colocation penalty off. */
  ipColocationFactorWeight?: number
  /** Peers on one IP allowed before P6 applies. */
  ipColocationFactorThreshold?: number
  /** IPs exempt from P6 (exact address strings, as gossipsub compares them). */
  ipColocationFactorWhitelist?: string[]
  /** Any other score parameters (topic scores, behaviour penalty, ...). */
  scoreParams?: Partial<PeerScoreParams>
  scoreThresholds?: Partial<PeerScoreThresholds>
  /** Mesh degree (gossipsub D, Dlo, Dhi) and heartbeat period in ms. */
  D?: number
  Dlo?: number
  Dhi?: number
  heartbeatInterval?: number
}

/** DHT settings a caller may change; protocol, mode and address mapper are fixed. */
export type DhtTuning = Omit<KadDHTInit, 'protocol' | 'clientMode' | 'peerInfoMapper'>

/**
 * The DHT runs its first self-query after 100 ms instead of 1 s: until it has
 * run, lookups wait, and after it the routing tables of a fresh cluster agree
 * sooner, so every agent ranks the same planner. Later self-queries every
 * minute instead of five pick up hosts that joined since.
 */
export const DEFAULT_DHT: DhtTuning = {
  initialQuerySelfInterval: 100,
  querySelfInterval: 60_000
}

/**
 * libp2p refuses more than 5 inbound connections per second from one IP and
 * more than 10 half-open upgrades; both are generous against strangers but
 * refuse a cluster (re)starting at once. Membership is closed by the PSK and
 * the allowlist, so the limits can be looser.
 */
export const DEFAULT_CONNECTION_MANAGER: ConnectionManagerInit = {
  inboundConnectionThreshold: 20,
  maxIncomingPendingConnections: 32
}

/**
 * libp2p pings each connection every 10 s and aborts it when the ping misses
 * an adaptive timeout (at least 5 s). A 15 s period and a 15 s floor keep a
 * loaded host from cutting its own links.
 */
export const DEFAULT_CONNECTION_MONITOR: ConnectionMonitorInit = {
  pingInterval: 15_000,
  pingTimeout: { minTimeout: 15_000, maxTimeout: 60_000 }
}

export interface NodeTuning {
  gossip?: GossipTuning
  connectionManager?: ConnectionManagerInit
  connectionMonitor?: ConnectionMonitorInit
  dht?: DhtTuning
}

/**
 * Many agents on one machine (lab, simulation): every peer shares one IP, so
 * the colocation penalty would push them all below the gossip thresholds;
 * every agent dials the same bootstrap peer within a second; and pings queue
 * behind CPU-bound work, so they get long timeouts.
 *
 * The DHT keeps at most 32 contacts (4 buckets of 8). kad-dht's own table
 * (64 buckets of 20) holds every member of a cluster below about a thousand
 * and pings, so dials, each new contact: at 200 agents on two cores the
 * resulting full mesh (about 20,000 connections) took most of the CPU
 * (docs/benchmarks.md, "At scale"). Coarser buckets make lookups ask more
 * peers, which costs little in a cluster this size. A fleet keeps the
 * defaults: each host has its own CPU for its connections.
 */
export const CROWDED_HOST_TUNING: NodeTuning = {
  gossip: { ipColocationFactorWeight: 0 },
  connectionManager: {
    inboundConnectionThreshold: 1_000,
    maxIncomingPendingConnections: 256,
    dialTimeout: 30_000,
    addressDialTimeout: 30_000,
    inboundUpgradeTimeout: 30_000
  },
  connectionMonitor: {
    pingInterval: 30_000,
    pingTimeout: { minTimeout: 30_000, maxTimeout: 120_000 }
  },
  dht: { kBucketSize: 8, prefixLength: 2 }
}
