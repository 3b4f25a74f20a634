/**
 * The source side of one live migration over an open QMP connection: set the
 * capabilities and parameters, start it, follow query-migrate to the end, and
 * cancel it at the deadline or when the guest dirties memory faster than the
 * link moves it (pre-copy then never converges), or when the driver stops
 * (its signal: the cancel goes out on this connection, still open). After a
 * failure the VM is left running on the source, and QEMU is asked to confirm.
 *
 * Once QEMU reports "completed" (with return-path: the target loaded the
 * state), the source's copy is paused for good and the target's waits
 * paused too (-S): the caller's hand-over asks the target to start it. Only
 * a target that says it dropped its copy makes the source resume; with no
 * answer both stay paused, never both running.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { HypervisorError } from '../types.ts'
import type { HandOverAnswer, MigrateOptions, MigrationResult } from '../types.ts'
import { ConvergenceWatch } from './convergence.ts'
import type { QmpClient } from './qmp.ts'
import { definedOnly } from '../../../lib/defined.ts'

/** How often query-migrate is polled, in ms. */
export const DEFAULT_MIGRATION_POLL_MS = 200
/**
 * Bandwidth cap when the caller sets none, in bytes/s (10 Gbit/s): QEMU's own
 * default of 32 MiB/s would silently cap faster links.
 */
export const DEFAULT_MAX_BANDWIDTH = 1_250_000_000
/** The pause QEMU may take for the final copy, in ms (QEMU's default). */
export const DEFAULT_DOWNTIME_LIMIT_MS = 300
/** How long the passes' dirty sets may stop shrinking before the migration is abandoned, in ms. */
export const DEFAULT_NOT_CONVERGING_MS = 15_000
/** Time for migrate_cancel to take effect, in ms. */
export const DEFAULT_CANCEL_TIMEOUT_MS = 15_000
/** XBZRLE page cache when xbzrle is on, in bytes. */
export const DEFAULT_XBZRLE_CACHE_BYTES = 64 * 1024 * 1024

/** One poll of query-migrate, for callers that chart a migration. */
export interface MigrationSample {
  elapsedMs: number
  status: string
  transferredBytes: number
  remainingBytes: number
  totalBytes: number
  /** QEMU's own estimate of the current transfer rate. */
  mbps: number
  dirtyBytesPerSec: number
  dirtySyncCount: number
  /** How much auto-converge slows the guest's vCPUs (0 when off). */
  cpuThrottlePercent: number
}

export interface MigrationTuning {
  /** Throttle the guest's vCPUs when it dirties memory faster than the link moves it. */
  autoConverge?: boolean
  /** Send deltas of re-dirtied pages instead of whole pages. */
  xbzrle?: boolean
  xbzrleCacheBytes?: number
  downtimeLimitMs?: number
  pollMs?: number
  notConvergingMs?: number
  onSample?: (sample: MigrationSample) => void
}

export type QemuMigrateOptions = MigrateOptions & MigrationTuning & {
  /** The driver is stopping: cancel on this (still open) connection, confirm, and return. */
  signal?: AbortSignal
}

/** Why a migration was cancelled when its signal fired. */
export const STOPPING_REASON = 'the agent is stopping'

/** The part of query-migrate's answer that is used here. */
interface MigrateInfo {
  status?: string
  'total-time'?: number
  downtime?: number
  'error-desc'?: string
  'cpu-throttle-percentage'?: number
  ram?: {
    transferred?: number
    remaining?: number
    total?: number
    mbps?: number
    'dirty-pages-rate'?: number
    'page-size'?: number
    'dirty-sync-count'?: number
  }
}

const ENDED = new Set(['completed', 'failed', 'cancelled'])

function sample (info: MigrateInfo, elapsedMs: number): MigrationSample {
  const ram = info.ram ?? {}
  return {
    elapsedMs,
    status: info.status ?? 'none',
    transferredBytes: ram.transferred ?? 0,
    remainingBytes: ram.remaining ?? 0,
    totalBytes: ram.total ?? 0,
    mbps: ram.mbps ?? 0,
    dirtyBytesPerSec: (ram['dirty-pages-rate'] ?? 0) * (ram['page-size'] ?? 4096),
    dirtySyncCount: ram['dirty-sync-count'] ?? 0,
    cpuThrottlePercent: info['cpu-throttle-percentage'] ?? 0
  }
}

/** Formats `tcp:[addr]:port`, the migration URI for an IPv6 target. */
export function tcpUri (address: string, port: number): string {
  return `tcp:[${address}]:${port}`
}

/**
 * Migrates the VM behind `qmp` to `uri`. Resolves with ok: false when the
 * migration fails, is cancelled or misses its deadline; throws a
 * HypervisorError when it cannot start or the monitor stops answering.
 */
export async function runMigration (qmp: QmpClient, uri: string, opts: QemuMigrateOptions): Promise<MigrationResult> {
  const started = Date.now()
  const pollMs = opts.pollMs ?? DEFAULT_MIGRATION_POLL_MS
  // deadlineMs is the time the migration may take, counted from this call (as the agent's executor passes it).
  if (!Number.isFinite(opts.deadlineMs) || opts.deadlineMs <= 0) throw new HypervisorError(`migration deadline ${opts.deadlineMs} ms is not a positive duration`)
  const deadline = started + opts.deadlineMs
  if (opts.handOver === undefined) throw new HypervisorError('a QEMU migration needs a hand-over: the target starts its copy only when the source says so')
  const before = await qmp.execute<MigrateInfo>('query-migrate')
  if (before.status !== undefined && !ENDED.has(before.status)) throw new HypervisorError(`a migration is already ${before.status}`)
  const wasRunning = (await qmp.execute<{ running: boolean }>('query-status')).running

  // Set every knob each time: a QEMU keeps them from an earlier migration.
  await qmp.execute('migrate-set-capabilities', {
    capabilities: [
      { capability: 'auto-converge', state: opts.autoConverge === true },
      { capability: 'xbzrle', state: opts.xbzrle === true },
      // The target reports a failed load back, so "completed" means it really runs there.
      { capability: 'return-path', state: true }
    ]
  })
  const parameters: Record<string, unknown> = {
    'max-bandwidth': Math.round(opts.maxBandwidth ?? DEFAULT_MAX_BANDWIDTH),
    'downtime-limit': opts.downtimeLimitMs ?? DEFAULT_DOWNTIME_LIMIT_MS
  }
  if (opts.xbzrle === true) parameters['xbzrle-cache-size'] = opts.xbzrleCacheBytes ?? DEFAULT_XBZRLE_CACHE_BYTES
  await qmp.execute('migrate-set-parameters', parameters)
  if (opts.signal?.aborted === true) return { ok: false, totalMs: Date.now() - started, error: `${STOPPING_REASON}: migration not started`, runsOn: 'source' }
  await qmp.execute('migrate', { uri })

  let followed: Followed
  try {
    followed = await follow(qmp, opts, started, deadline, pollMs)
  } catch (err) {
    // Lost track of it (monitor timeout, a throwing onSample): stop it rather than let it run unwatched.
    await qmp.execute('migrate_cancel').catch(() => undefined)
    await resumeIfStopped(qmp, wasRunning).catch(() => undefined)
    throw new HypervisorError(`migration to ${uri} abandoned: ${(err as Error).message}`)
  }
  const { reason, transferred } = followed
  let info = followed.info
  if (reason !== undefined) info = await cancel(qmp, pollMs)
  // Completed (also when it won the race against our cancel): the state is
  // on the target, which waits for the hand-over.
  if (info.status === 'completed') return await handOver(qmp, opts.handOver, info, started)
  await resumeIfStopped(qmp, wasRunning)
  return {
    ok: false,
    totalMs: Date.now() - started,
    bytes: info.ram?.transferred ?? transferred,
    error: reason ?? `migration ${info.status ?? 'ended'}: ${info['error-desc'] ?? 'no reason given'}`,
    runsOn: await confirmSource(qmp, wasRunning)
  }
}

/**
 * The hand-over after a completed migration. Our copy is paused
 * (postmigrate); the target's waits paused. 'started': ours is done with.
 * 'refused': the target holds no copy, so ours is the only one: resume it.
 * 'unknown': the target may have started its copy (an answer lost on the
 * way) or not; resuming ours could make two, so both stay paused and the
 * error says so, for an operator.
 */
async function handOver (qmp: QmpClient, ask: () => Promise<HandOverAnswer>, info: MigrateInfo, started: number): Promise<MigrationResult> {
  const moved = { totalMs: info['total-time'] ?? Date.now() - started, downtimeMs: info.downtime, bytes: info.ram?.transferred }
  const answer = await ask().catch((): HandOverAnswer => 'unknown')
  if (answer === 'started') return { ok: true, ...moved, runsOn: 'target' }
  if (answer === 'refused') {
    await qmp.execute('cont')
    const run = await qmp.execute<{ running: boolean }>('query-status').catch(() => ({ running: false }))
    return { ok: false, ...moved, error: 'the target dropped the arrived copy before the hand-over: the VM resumed here', runsOn: run.running ? 'source' : 'unknown' }
  }
  return { ok: false, ...moved, error: 'hand-over unconfirmed (the target did not answer): the VM is paused here and on the target; start one copy by hand (docs/operations.md)', runsOn: 'unknown' }
}

/**
 * A migration whose agent died before it ended, found after the restart:
 * one still in progress is cancelled (nobody watches it, and its hand-over
 * would find no one to make it); a completed one is handed over now; one
 * that ended otherwise left the VM here, which QEMU resumed.
 */
export async function settleMigration (qmp: QmpClient, ask: () => Promise<HandOverAnswer>): Promise<{ runsOn: 'source' | 'target' | 'unknown', detail: string }> {
  let info = await qmp.execute<MigrateInfo>('query-migrate')
  const running = info.status !== undefined && !ENDED.has(info.status)
  if (running) info = await cancel(qmp, DEFAULT_MIGRATION_POLL_MS)
  if (info.status === 'completed') {
    const r = await handOver(qmp, ask, info, Date.now())
    return { runsOn: r.runsOn ?? 'unknown', detail: r.ok ? 'completed while its agent was down; handed over now' : r.error ?? 'hand-over failed' }
  }
  // The guest ran when the migration began (the executor moves running VMs).
  await resumeIfStopped(qmp, true)
  return { runsOn: await confirmSource(qmp, true), detail: running ? 'still in progress with nobody watching it: cancelled' : `migration ${info.status ?? 'none'}: the VM stayed here` }
}

/**
 * After a failed or cancelled migration, asks QEMU where the VM is: here
 * when the migration ended without completing and the guest runs (or was
 * paused before and still is); 'unknown' otherwise, for an operator.
 */
async function confirmSource (qmp: QmpClient, wasRunning: boolean): Promise<'source' | 'unknown'> {
  try {
    const migration = (await qmp.execute<MigrateInfo>('query-migrate')).status
    const run = await qmp.execute<{ running: boolean }>('query-status')
    const ended = migration === undefined || migration === 'cancelled' || migration === 'failed'
    return ended && run.running === wasRunning ? 'source' : 'unknown'
  } catch {
    return 'unknown'
  }
}

interface Followed {
  /** Why the migration must be cancelled; undefined when it ended by itself. */
  reason: string | undefined
  info: MigrateInfo
  /** The last RAM stats seen: a cancelled migration's final answer has none. */
  transferred: number | undefined
}

/** Polls query-migrate until the migration ends or must be cancelled. */
async function follow (qmp: QmpClient, opts: QemuMigrateOptions, started: number, deadline: number, pollMs: number): Promise<Followed> {
  const watch = new ConvergenceWatch(opts.notConvergingMs ?? DEFAULT_NOT_CONVERGING_MS)
  let transferred: number | undefined
  for (;;) {
    // An abort wakes the wait: the cancel goes out at once.
    await sleep(pollMs, undefined, definedOnly({ signal: opts.signal })).catch(() => undefined)
    const info = await qmp.execute<MigrateInfo>('query-migrate')
    const now = Date.now()
    const s = sample(info, now - started)
    transferred = info.ram?.transferred ?? transferred
    opts.onSample?.(s)
    if (ENDED.has(s.status)) return { reason: undefined, info, transferred }
    if (opts.signal?.aborted === true) return { reason: `${STOPPING_REASON}: migration cancelled (${s.remainingBytes} bytes were still to send)`, info, transferred }
    if (now >= deadline) return { reason: `deadline of ${opts.deadlineMs} ms reached (${s.remainingBytes} bytes still to send)`, info, transferred }
    const reason = watch.observe(s)
    if (reason !== undefined) return { reason, info, transferred }
  }
}

/** Cancels and waits until the migration has ended one way or the other. */
async function cancel (qmp: QmpClient, pollMs: number): Promise<MigrateInfo> {
  await qmp.execute('migrate_cancel')
  const deadline = Date.now() + DEFAULT_CANCEL_TIMEOUT_MS
  for (;;) {
    const info = await qmp.execute<MigrateInfo>('query-migrate')
    if (info.status === undefined || ENDED.has(info.status)) return info
    if (Date.now() >= deadline) throw new HypervisorError(`migrate_cancel did not take effect within ${DEFAULT_CANCEL_TIMEOUT_MS} ms (status ${info.status})`)
    await sleep(pollMs)
  }
}

/**
 * QEMU restarts the source after a failed migration itself; this makes sure.
 * Never after a completed one: the VM then runs on the target.
 */
async function resumeIfStopped (qmp: QmpClient, wasRunning: boolean): Promise<void> {
  if (!wasRunning) return
  if ((await qmp.execute<MigrateInfo>('query-migrate')).status === 'completed') return
  const status = await qmp.execute<{ running: boolean, status: string }>('query-status')
  if (!status.running) await qmp.execute('cont')
}
