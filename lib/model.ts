/**
 * The data model: what a snapshot of the platform holds. These are plain
 * JSON-shaped records (the snapshot format, `version` 1); `instance.ts`
 * compiles them into indexed arrays for the planners.
 */

export const SNAPSHOT_VERSION = 1

/** A data center: one vertex of the thesis's graph (section 4.2.1). */
export interface DataCenter {
  id: string
}

/** A directed WAN edge between two DCs. */
export interface Link {
  from: string
  to: string
  /** Capacity in bit/s. */
  capacityBps: number
  /** Optional price of traffic in currency units per GB (10^9 bytes). */
  pricePerGB?: number
  /** Optional one-way latency in milliseconds. */
  latencyMs?: number
}

/** A compute server with a hypervisor; runs one agent. */
export interface Host {
  id: string
  dc: string
  memoryMiB: number
  vcpus: number
  /** Drained for maintenance: its VMs are to move away (and it takes none). */
  draining?: boolean
}

/** A guest. `host` is where it runs now; `pinned` VMs are never moved. */
export interface Vm {
  id: string
  host: string
  addresses: string[]
  memoryMiB: number
  vcpus: number
  pinned?: boolean
  /** Optional application group (informational; generators set it). */
  group?: string
}

/**
 * Addresses outside the platform (clients on the Internet), summed per
 * prefix and attached to the DC whose ingress serves them.
 */
export interface ExternalPrefix {
  id: string
  prefix: string
  dc: string
}

/**
 * A directed traffic rate. `src` and `dst` name a VM or an external prefix
 * (ids are unique across both); at least one end is a VM.
 */
export interface Flow {
  src: string
  dst: string
  bps: number
}

export interface Snapshot {
  version: typeof SNAPSHOT_VERSION
  dcs: DataCenter[]
  links: Link[]
  hosts: Host[]
  vms: Vm[]
  prefixes: ExternalPrefix[]
  flows: Flow[]
  /** Placement rules (lib/rules.ts): no plan ever breaks one. */
  rules?: PlacementRule[]
}

/**
 * A group (VMs with that `group`) keeps members in at least `minDcs` DCs
 * and at most `maxPerDc` in any one DC: replicas stay apart.
 */
export interface SpreadRule {
  kind: 'spread'
  group: string
  minDcs?: number
  maxPerDc?: number
}

/** A group's members all live in one DC (affinity). */
export interface TogetherRule {
  kind: 'together'
  group: string
}

/** A VM, or every member of a group, never runs in these DCs. */
export interface AvoidRule {
  kind: 'avoid'
  vm?: string
  group?: string
  dcs: string[]
}

export type PlacementRule = SpreadRule | TogetherRule | AvoidRule

/** One planned migration. Hosts are host ids; `cost` is the cost after it. */
export interface Move {
  vm: string
  from: string
  to: string
  fromDc: string
  toDc: string
  cost: number
  /** Why: the cost change this move alone brought, and the link it relieved most. */
  gain: number
  relieves?: string
}

export interface Plan {
  planner: string
  initialCost: number
  finalCost: number
  moves: Move[]
  /** Why the planner stopped: decisions are data. */
  stopped: StopReason
  /**
   * The moves as steps, in order: how many moves each step holds (the sum
   * is moves.length). A step is carried out whole; only after a whole step
   * is the cost at most the start, and each step lowers it. Absent: every
   * move is a step of its own.
   */
  steps?: number[]
  /**
   * The first `mends` moves mend broken placement rules
   * (lib/planners/rules-first.ts): made whatever they cost, so the plan's
   * cost may rise over them. Absent: none.
   */
  mends?: number
}

export type StopReason =
  | 'converged'        // no move lowers the cost (by at least the minimum gain)
  | 'no-capacity'      // the best move had no room in any target (Algorithm 1's usual end)
  | 'move-limit'       // the per-round migration limit was reached
  | 'no-traffic'       // nothing crosses a WAN link
