/**
 * What the local API answers, as JSON. The CLI commands and the console read
 * these shapes; keeping them in one file keeps both sides honest.
 */
import type { AgentEvent } from '../agent.ts'
import type { PeerRate, Topic } from '../../lib/wire/messages.ts'

export const API_VERSION = 1

export interface PlannerLimits {
  name: string
  maxMoves: number
  maxMovesPerHost: number
  minGain: number
  paybackSeconds: number
}

export interface SafetyLimits {
  maxInFlight: number
  maxInFlightPerHost: number
  cooldownRounds: number
  minImprovement: number
  approvalWindowRounds: number
}

export interface TopologyStatus {
  hash: string
  staged?: { hash: string, round: number, switchRound?: number, missing: string[] }
}

export interface StatusResponse {
  api: typeof API_VERSION
  cluster: string
  host: string
  peerId: string
  dc: string
  round: number
  /** Milliseconds into the current round, and the round's length. */
  roundElapsedMs: number
  roundPeriodMs: number
  /** 'active', 'leaving', or a mode the agent reports itself (safety controls). */
  mode: string
  members: { total: number, live: number, down: number, leaving: number, draining: number }
  /** Members whose latest state lists other members than we do (their votes do not count); absent when none. */
  memberListMismatch?: string[]
  /** Who plans the current round: the accepted planner, else the rank-0 candidate. */
  planner: { round: number, host?: string, rank?: number, accepted: boolean }
  /** The current round's planner candidates in rank order (frozen at planning time; until then, as they stand). */
  candidates: string[]
  inFlight: string[]
  /**
   * Where this agent's control socket is, so a command given only the API
   * address of an agent on the same machine can send it changes
   * (agent/cli/reach.ts). Absent from older agents.
   */
  controlSocket?: string
  /** Fingerprints of the cluster keys (sha256, 8 hex digits), the spoken one first; two or more during a rotation. Absent from older agents. */
  clusterKeys?: string[]
  /**
   * Signed membership's admin keys trusted now (fingerprints: sha256 of the
   * SPKI DER, 8 hex digits), the seq of the key record that named them (0:
   * the config's adminKey), key-record forks seen (a retired key in use),
   * and records ignored as signed by a retired key. Absent without an
   * adminKey, and from older agents.
   */
  adminKeys?: { fingerprints: string[], seq: number, forks: number, staleRecords: number }
  /**
   * The limits this agent plans under now: its config's planner and safety
   * sections, as the last reload left them (SIGHUP applies them live), with
   * the cluster settings over them. Absent from older agents.
   */
  limits?: { planner: PlannerLimits, safety: SafetyLimits }
  /**
   * The cluster settings (docs/operations.md, Cluster settings): the
   * record held (version 0: none) and each settable value in effect with
   * its source, the host's file or the cluster's record. Absent from older
   * agents.
   */
  settings?: ClusterSettingsView
  /**
   * Per gossip topic, the peers in this agent's gossipsub mesh (the ones it
   * forwards to), with the member's host name when the peer is one; a peer
   * without a host is an observer (a console) or not yet in the view.
   * Absent from older agents.
   */
  mesh?: Record<Topic, MeshPeer[]>
  /**
   * The topology this agent runs (sha256 of its file) and, while one is
   * staged (docs/design.md §3.8), the staged hash, the round it was staged,
   * and either the round every agent switches at or the up members that
   * have not staged it (nobody switches while one is missing). Absent from
   * older agents.
   */
  topology?: TopologyStatus
  startedAtMs: number
  uptimeMs: number
  nowMs: number
}

export interface MeshPeer {
  peerId: string
  host?: string
}

export interface MemberVm {
  id: string
  memoryMiB: number
  vcpus: number
  pinned: boolean
  migrating: boolean
  addresses: string[]
}

export interface MemberDigest {
  windowMs: number
  /** Per VM: its top peers by rate, and the sum of what it sends (bit/s). */
  vms: Array<{ vm: string, outBps: number, inBps: number, peers: PeerRate[], restOut: number }>
}

export interface MemberView {
  host: string
  peerId: string
  self: boolean
  dc?: string
  /** 'up', 'down' (silent too long, or never heard), 'draining' (emptied for maintenance, by `heliotrope drain`) or 'leaving' (shutting down). */
  status: 'up' | 'down' | 'draining' | 'leaving'
  lastSeenMs?: number
  /** How long ago we last heard from it; absent when never. */
  agoMs?: number
  capacity?: { memoryMiB: number, vcpus: number }
  used?: { memoryMiB: number, vcpus: number }
  vms: MemberVm[]
  digest?: MemberDigest
  seq: Record<string, number>
  /** The member-list hash its latest state carries (absent: no state, or an older agent). */
  membersHash?: string
  /** False when that hash is not ours: its votes do not count (docs/design.md §5.3). Absent without a state. */
  sameMembers?: boolean
  /** The topology hash its latest state runs, and the one it staged with its round (docs/design.md §3.8). Absent without a state. */
  topology?: { hash: string, staged?: { hash: string, round: number } }
}

export interface LinkLoad {
  link: string
  from: string
  to: string
  capacityBps: number
  loadBps: number
  utilization: number
}

export interface ViewResponse {
  host: string
  nowMs: number
  members: MemberView[]
  /** Dropped gossip since start, by reason. */
  drops: Record<string, number>
  /** The cost of the placement in the latest snapshot and each WAN link's load in it. */
  cost?: number
  links: LinkLoad[]
  /** VMs marked migrating in the gossiped states: the mesh's migrations in flight. */
  migrating: Array<{ vm: string, host: string }>
}

export interface MoveWhy {
  vm: string
  from: string
  to: string
  fromDc?: string
  toDc?: string
  /** The plan's cost after this move. */
  cost: number
  /** How much this move lowered the cost. */
  gain: number
  /** The WAN link it relieved most, when this agent planned the round. */
  relieves?: string
  /** One line an operator reads. */
  why: string
}

export interface RoundView {
  round: number
  /** The candidates in rank order (as this agent ranked them at planning time). */
  ranking: string[]
  planner?: string
  rank?: number
  /** True when this agent computed the accepted plan itself. */
  plannedHere: boolean
  costBefore?: number
  costAfter?: number
  moves: MoveWhy[]
  /** Why the planner stopped, when this agent planned. */
  stopped?: string
  /** What the safety controls made of this agent's plan (run, evacuate, in-flight-limit, below-min-improvement, nothing-to-do), when it planned. */
  verdict?: string
  planMs?: number
  /** True when this agent started carrying out its share of the accepted plan: in mode approve only once approved, in dry-run and observe never (absent from older agents). */
  acted?: boolean
  /** Mode approve: what became of the round's plan here (awaiting, approved, superseded, lapsed, refused). */
  approval?: string
  outcomes: Array<{ vm: string, from?: string, to: string, ok: boolean, error?: string }>
}

export interface PlanResponse {
  host: string
  current: number
  /** The newest round with an accepted plan, as /rounds shows it; null before the first. */
  plan: RoundView | null
  /** Mode approve: the plan waiting for an operator (only the newest waits), else null. */
  awaitingApproval: unknown
}

export interface RoundsResponse {
  host: string
  current: number
  rounds: RoundView[]
}

/** An agent event as the /events stream sends it, plus the stream's own notices. */
export type StreamEvent =
  | AgentEvent
  | { type: 'hello', host: string, peerId: string, dc: string, atMs: number }
  | { type: 'lagged', missed: number, atMs: number }

export const EVENT_TYPES = ['gossip', 'drop', 'published', 'plan-accepted', 'migration'] as const

export interface ClusterSettingsView {
  version: number
  setBy?: string
  atMs?: number
  effective: Array<{ key: string, value: string | number, source: 'file' | 'cluster' }>
}
