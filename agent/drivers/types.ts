/**
 * The two plug-in points of a host: how traffic is measured (collectors) and
 * how VMs are listed and migrated (hypervisor drivers). One file per
 * implementation next to this one; the agent only sees these interfaces.
 */

/** Bytes one address sent another since the previous read. */
export interface CounterDelta {
  src: string
  dst: string
  bytes: number
}

export interface CollectorSample {
  /** Deltas since the previous read (the first read after start returns none). */
  deltas: CounterDelta[]
  /** Milliseconds covered by the deltas (time between the two reads). */
  windowMs: number
  /** Bytes seen but not attributable to a pair (e.g. the counter set was full). */
  uncountedBytes: number
}

export interface TrafficCollector {
  readonly name: string
  /** Sets up counting; throws a CollectorError with a clear reason when it cannot. */
  start (): Promise<void>
  /** Returns the counters since the previous read; `nowMs` is the caller's clock. */
  read (nowMs: number): Promise<CollectorSample>
  /** Removes whatever start() set up. */
  stop (): Promise<void>
  /** Collectors that filter in the kernel learn this host's VM addresses here. */
  setLocalAddresses? (addresses: readonly string[]): Promise<void>
}

/** A VM as the hypervisor reports it. */
export interface VmInfo {
  id: string
  status: 'running' | 'paused' | 'migrating' | 'incoming' | 'stopped'
  memoryMiB: number
  vcpus: number
  addresses: string[]
  /**
   * Hypervisor-specific arguments the target needs to start an identical
   * receiving VM (QEMU's hardware arguments). Only the VM's own host sends
   * them, for a move of the accepted plan; drivers refuse arguments they own.
   */
  args?: string[]
}

/** Where a migration goes: the target host's agent prepares it (reservation step). */
export interface MigrationTarget {
  /** The target host's IPv6 address as the hypervisor should reach it. */
  address: string
  /** Port or URI details the target's driver chose in prepareIncoming(). */
  port?: number
  uri?: string
}

export interface MigrationResult {
  ok: boolean
  totalMs: number
  downtimeMs?: number
  bytes?: number
  error?: string
  /**
   * Where the VM runs afterwards, as the driver confirmed it with the
   * hypervisor (after an abort on stop above all); unset when not checked.
   */
  runsOn?: 'source' | 'target' | 'unknown'
}

/**
 * What the target said when asked to start the copy that arrived:
 * 'started' it runs there now; 'refused' the target holds no copy (it
 * dropped it: the reservation expired or was cancelled), so the source's
 * copy is the only one; 'unknown' no answer (the link is down).
 */
export type HandOverAnswer = 'started' | 'refused' | 'unknown'

export interface MigrateOptions {
  /** Abort when not done by then. */
  deadlineMs: number
  /** Cap on the migration's bandwidth in bytes/s. */
  maxBandwidth?: number
  /**
   * The hand-over, for drivers whose target does not start the guest by
   * itself (QEMU: the target runs with -S). Called once the hypervisor
   * reports the state loaded on the target, while the source's copy is
   * paused for good; asks the target to start its copy. Without it a copy
   * could run on both hosts: the target starts as soon as its load is done,
   * and should the source not hear that (a WAN cut), it cancels and resumes.
   */
  handOver?: () => Promise<HandOverAnswer>
  /**
   * The move this migration carries out, for the driver's own record: should
   * the agent die before the hand-over, the restarted agent hands over to
   * this host (settleOutgoing).
   */
  move?: OutgoingMove
}

/** A migration's target host and round, as kept by a driver until the hand-over is settled. */
export interface OutgoingMove {
  to: string
  round: number
}

/** How a migration left unsettled by a dead agent ended after its restart. */
export interface SettledMigration {
  vmId: string
  move: OutgoingMove
  runsOn: 'source' | 'target' | 'unknown'
  detail: string
}

export interface HypervisorDriver {
  readonly name: string
  start (): Promise<void>
  /**
   * Aborts migrations in flight through a live connection to the
   * hypervisor (the VM stays on its source), confirms where each VM runs,
   * then lets go of the hypervisor. The VMs keep running.
   */
  stop (): Promise<void>
  /** The VMs running here: the source of truth for where a VM is. */
  list (): Promise<VmInfo[]>
  /**
   * Target side of the reservation step: get ready to receive `vm` (e.g.
   * start a QEMU with -incoming). Returns where the source should send it.
   */
  prepareIncoming (vm: VmInfo): Promise<MigrationTarget>
  /** Target side: the reservation expired or the migration failed; clean up. */
  cancelIncoming (vmId: string): Promise<void>
  /**
   * Target side, for drivers that use MigrateOptions.handOver: the source
   * let go of its copy; start the one that arrived. Idempotent (a copy
   * already running here is fine); throws when no arrived copy is here.
   */
  finishIncoming? (vmId: string): Promise<void>
  /**
   * Source side, after a restart, for drivers that use handOver: the
   * migrations a dead agent left. One still running is cancelled (nobody
   * watches it); one that completed is handed over through `ask` (the VM
   * waits paused on both hosts until then). Unknown outcomes stay recorded
   * for the next call.
   */
  settleOutgoing? (ask: (vmId: string, move: OutgoingMove) => Promise<HandOverAnswer>): Promise<SettledMigration[]>
  /** Source side: live-migrate `vmId` to `target`. Never leaves the VM on both hosts or none. */
  migrate (vmId: string, target: MigrationTarget, opts: MigrateOptions): Promise<MigrationResult>
}

export class CollectorError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'CollectorError'
  }
}

export class HypervisorError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'HypervisorError'
  }
}
