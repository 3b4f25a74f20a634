import type { ClusterSettings } from '../settings.ts'

/**
 * The gossip messages (docs/design.md §3.2). Every message is an Envelope:
 * who speaks (host), for which round, with a sequence number that only goes
 * up per (host, topic), so replays and stale copies are recognised and
 * identical payloads never occur (gossipsub would drop them as duplicates).
 */

export const WIRE_VERSION = 1
/** Messages above this size are dropped before decoding. */
export const MAX_MESSAGE_BYTES = 256 * 1024
/** Digest bound: the top-K peers per VM plus one remainder entry. */
export const DIGEST_TOP_K = 16

export const TOPICS = ['host', 'traffic', 'plan', 'event'] as const
export type Topic = typeof TOPICS[number]

export interface Envelope<T extends Topic = Topic> {
  v: typeof WIRE_VERSION
  topic: T
  /** The speaking host's id (bound to its peer id by the membership list). */
  host: string
  round: number
  seq: number
  body: Bodies[T]
}

export interface Bodies {
  host: HostState
  traffic: TrafficDigest
  plan: PlanMessage
  event: EventMessage
}

export interface VmState {
  id: string
  addresses: string[]
  memoryMiB: number
  vcpus: number
  pinned: boolean
  /** True while a migration of it is in flight: planners leave it alone. */
  migrating: boolean
}

export interface HostState {
  dc: string
  memoryMiB: number
  vcpus: number
  /** Where other agents reach this host's hypervisor for migrations. */
  address: string
  vms: VmState[]
  /** sha256 of the topology file, hex: agents with different topologies must not plan together. */
  topology: string
  /**
   * sha256 of the sender's member list (the sorted `host peerId dc` entries
   * of its config), hex: a plan counts votes only from agents whose list
   * is ours (docs/design.md §5.3). Optional on the wire so an agent of an
   * older release is still seen (its vote just does not count).
   */
  members?: string
  /** Set when the host is leaving (graceful stop) or drained: no VMs may move to it. */
  leaving: boolean
  /**
   * Set while an operator drains the host for maintenance (with `leaving`):
   * planners move its VMs away. Sent only when true, so a state without it
   * reads the same to every agent.
   */
  draining?: boolean
  /**
   * Set on the states a host sends in its first rounds after it starts.
   * Hosts send their state only when it changes (their digest keeps them
   * live), so a newcomer would not learn an unchanged host's state: every
   * member answers a hello with its own state. Sent only when true.
   */
  hello?: boolean
  /**
   * The version of the cluster settings (lib/settings.ts) this host holds:
   * a member holding a newer record sends it again (docs/design.md §3.6).
   * Sent only when the host holds one, so a cluster that never set any
   * sends the states it always did.
   */
  settings?: number
  /**
   * A topology this host staged (a reload with a new topology file) and the
   * round it staged it in: every member switches to it together once all
   * have staged it (docs/design.md §3.8). Sent only while one is staged.
   */
  staged?: StagedTopology
}

/** A staged topology, as a HostState carries it. */
export interface StagedTopology {
  /** sha256 of the staged topology file, hex. */
  topology: string
  round: number
}

/** A VM's traffic to one peer (a VM id or an external prefix id), both directions. */
export interface PeerRate {
  peer: string
  /** bit/s the VM sends to the peer. */
  out: number
  /** bit/s the VM receives from the peer (counted here only for external prefixes). */
  in: number
}

export interface VmTraffic {
  vm: string
  peers: PeerRate[]
  /** bit/s beyond the top-K peers, summed (kept so totals stay honest). */
  restOut: number
}

export interface TrafficDigest {
  windowMs: number
  vms: VmTraffic[]
}

export interface PlannedMove {
  vm: string
  from: string
  to: string
  cost: number
}

export interface PlanMessage {
  /** The planner's rank in this round's election (0 = first choice). */
  rank: number
  planner: string
  /** The seq of each host's state the plan was computed from. */
  inputs: Record<string, number>
  initialCost: number
  finalCost: number
  moves: PlannedMove[]
}

export const EVENT_KINDS = ['migration-started', 'migration-done', 'migration-failed', 'takeover', 'leave', 'approve', 'pin', 'unpin', 'plan-ack', 'settings'] as const
export type EventKind = typeof EVENT_KINDS[number]

export interface EventMessage {
  kind: EventKind
  vm?: string
  from?: string
  to?: string
  detail?: string
  /** The round whose plan an operator approved (kind 'approve') or an agent accepted (kind 'plan-ack'). */
  round?: number
  /** The planner whose plan the agent accepted (kind 'plan-ack'). */
  planner?: string
  /** Migration metrics, when kind is migration-done. */
  totalMs?: number
  downtimeMs?: number
  bytes?: number
  /** The cluster settings record (kind 'settings'): set by an operator, or sent again to a member behind. */
  settings?: ClusterSettings
}
