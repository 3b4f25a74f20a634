/** What the parts of the cluster layer share, and what it reports upwards. */
import type { RoundTiming } from '../../lib/rounds.ts'
import type { ReplicatedView } from '../../lib/view.ts'
import type { Envelope, Topic } from '../../lib/wire/messages.ts'
import type { RelayKind } from '../../lib/wire/relay.ts'
import type { Logger } from '../log.ts'
import type { ClusterNode } from '../net/index.ts'

/** What the cluster layer reports as it runs (the agent layer adds its own kinds: agent/events.ts). */
export type ClusterEvent =
  | { type: 'gossip', topic: Topic, env: Envelope, from: string, atMs: number }
  | { type: 'drop', topic: Topic, reason: string, peer: string, atMs: number }
  | { type: 'published', topic: Topic, env: Envelope, bytes: number, atMs: number }

/** The cluster layer's share of the agent's counters. */
export interface ClusterCounters {
  published: number
  messagesIn: Record<Topic, number>
  /** Bytes the collector saw but could not attribute to a pair (a full set): the digest under-reports by this much. */
  uncountedBytes: number
  /** Members found sending another member-list hash than ours, once per member and hash (docs/design.md §5.3). */
  memberListMismatches: number
  /** Times this host caught its aggregator hiding its digests (tiered, auditor.ts) and left it for the epoch. */
  aggregatorsAccused: number
  /** Times this host found itself with no connection and dialed its bootstrap peers again (rejoin.ts). */
  rejoins: number
  /**
   * Relay requests (tiered, docs/design.md §9.8) this agent sent and
   * answered, by kind. Each exchange is two frames, the request and its
   * answer: frames in = served + answers to what we sent.
   */
  relaySent: Record<RelayKind, number>
  relayServed: Record<RelayKind, number>
  /** Signed items in the relay requests this agent sent, by kind (a batch carries many). */
  relayItemsSent: Record<RelayKind, number>
  /** Gossip messages each neighbour passed on to us (by its peer id), whatever became of them: bounded by the allowlist. */
  messagesVia: Map<string, number>
}

/** One cluster layer's shared parts: its node, the view it keeps, its clock, where it reports. */
export interface ClusterContext {
  host: string
  node: ClusterNode
  view: ReplicatedView
  timing: RoundTiming
  log: Logger
  now: () => number
  emit: (event: ClusterEvent) => void
  counters: ClusterCounters
}
