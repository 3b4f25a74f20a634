/**
 * This host's migrations as a source: runs its moves of a final plan beside
 * the round loop (through the Executor), asks the targets over the migrate
 * protocol, and reports each start and outcome to the cluster. On stop,
 * migrations in flight get STOP_GRACE_MS to finish before the hypervisor
 * driver is stopped, which aborts them (the VM stays on its source).
 */
import type { Startable } from '@libp2p/interface'
import type { EventMessage, PlannedMove } from '../lib/wire/messages.ts'
import type { Cluster } from './cluster/index.ts'
import type { AgentCounters } from './counters.ts'
import type { HypervisorDriver, MigrationResult } from './drivers/types.ts'
import type { AgentEvent } from './events.ts'
import { Executor } from './executor.ts'
import { handOver, type HandOverContext } from './hand-over.ts'
import type { Logger } from './log.ts'
import { migrateProtocol, readMigrateResponse, type MigrateRequest, type MigrateResponse } from './migrate-protocol.ts'
import { request, type ClusterNode } from './net/index.ts'
import type { RoundRecords } from './round-records.ts'
import { definedOnly } from '../lib/defined.ts'

/** On stop, how long migrations in flight may take to finish before they are aborted. */
export const STOP_GRACE_MS = 5_000

export interface MigrationsComponents {
  node: ClusterNode
  hypervisor: HypervisorDriver
  cluster: Cluster
  records: RoundRecords
  counters: AgentCounters
  log: Logger
  now: () => number
  emit: (event: AgentEvent) => void
  publishEvent: (body: EventMessage) => Promise<void>
}

export interface MigrationsInit {
  host: string
  deadlineMs: number
}

export class Migrations implements Startable {
  private readonly c: MigrationsComponents
  private readonly executor: Executor
  private readonly migrating = new Set<string>()
  private executing: Promise<unknown> = Promise.resolve()
  /** Settling what a dead agent left (afterStart); the driver stops only after it. */
  private settling: Promise<unknown> = Promise.resolve()
  private stopped = false

  constructor (components: MigrationsComponents, init: MigrationsInit) {
    this.c = components
    this.executor = new Executor({
      host: init.host,
      driver: components.hypervisor,
      log: components.log.child('executor'),
      now: components.now,
      deadlineMs: init.deadlineMs,
      ask: async (host, req) => this.ask(host, req),
      started: async (move) => this.onStarted(move),
      finished: async (move, result) => this.onFinished(move, result)
    })
  }

  /** VMs this host is migrating away right now. */
  inFlight (): string[] {
    return [...this.migrating].sort()
  }

  isMigrating (vmId: string): boolean {
    return this.migrating.has(vmId)
  }

  /** Carries out this host's moves of a round's plan, beside the loop so the next round's gossip is not held up. */
  execute (round: number, moves: PlannedMove[], untilMs: number): void {
    const rec = this.c.records.record(round)
    const run = this.executor.run(round, moves, untilMs).then(outcomes => {
      rec.outcomes.push(...outcomes.map(o => ({ vm: o.move.vm, from: o.move.from, to: o.move.to, ok: o.result.ok, ...definedOnly({ error: o.result.error }) })))
    }).catch(err => { this.c.log.error('the round\'s migrations ended with an error', { round, error: (err as Error).message }) })
    this.executing = Promise.all([this.executing, run])
  }

  /** Nothing to start: the hypervisor driver starts with the agent (its stop is ours, see stop). */
  start (): void {}

  /**
   * Migrations a dead agent left on this host (kill -9, a crash) are
   * settled once the node is up: in the background, as a hand-over may wait
   * for the target's answer (hand-over.ts).
   */
  afterStart (): void {
    const settle = this.c.hypervisor.settleOutgoing
    if (settle === undefined) return
    this.settling = settle.call(this.c.hypervisor, async (vmId, move) => await handOver(this.handOverContext(), move.to, move.round, vmId))
      .then(async settled => {
        for (const s of settled) this.c.log[s.runsOn === 'unknown' ? 'error' : 'warn']('settled a migration left from before a restart', { vm: s.vmId, to: s.move.to, round: s.move.round, runsOn: s.runsOn, detail: s.detail })
        if (settled.length > 0) await this.c.cluster.publishState()
      })
      .catch(err => { this.c.log.error('could not settle the migrations left from before a restart', { error: (err as Error).message }) })
  }

  private handOverContext (): HandOverContext {
    return { ask: async (host, req) => this.ask(host, req), now: this.c.now, stopping: () => this.stopped }
  }

  beforeStop (): void {
    this.stopStarting()
  }

  /** No new migration starts, and those waiting for a reservation give up (a crash ends here: see Agent.halt). */
  stopStarting (): void {
    this.stopped = true
    this.executor.stop()
  }

  /** Resolves once every migration started here has ended and been reported (a halt waits for it after aborting them). */
  async settled (): Promise<void> {
    await Promise.all([this.executing, this.settling]).catch(() => undefined)
  }

  /**
   * Migrations in flight finish within the grace period, or the driver
   * aborts them (the VM stays on its source); either way they are reported.
   */
  async stop (): Promise<void> {
    const grace = new Promise(resolve => setTimeout(resolve, STOP_GRACE_MS).unref())
    await Promise.race([this.settled(), grace])
    await this.c.hypervisor.stop()
    await this.executing.catch(() => undefined)
  }

  private async onStarted (move: PlannedMove): Promise<void> {
    this.migrating.add(move.vm)
    this.c.emit({ type: 'migration', vm: move.vm, from: move.from, to: move.to, phase: 'started', atMs: this.c.now() })
    await this.tell(move, async () => {
      await this.c.publishEvent({ kind: 'migration-started', vm: move.vm, from: move.from, to: move.to })
      await this.c.cluster.publishState()
    })
  }

  private async onFinished (move: PlannedMove, result: MigrationResult): Promise<void> {
    this.migrating.delete(move.vm)
    if (result.ok) this.c.counters.migrationsOk++; else this.c.counters.migrationsFailed++
    this.c.emit({ type: 'migration', vm: move.vm, from: move.from, to: move.to, phase: result.ok ? 'done' : 'failed', totalMs: result.totalMs, ...definedOnly({ detail: result.error, downtimeMs: result.downtimeMs, bytes: result.bytes }), atMs: this.c.now() })
    await this.tell(move, async () => {
      await this.c.publishEvent({
        kind: result.ok ? 'migration-done' : 'migration-failed',
        vm: move.vm,
        from: move.from,
        to: move.to,
        totalMs: result.totalMs,
        ...definedOnly({
          downtimeMs: result.downtimeMs,
          bytes: result.bytes,
          detail: result.error
        })
      })
      await this.c.cluster.publishState()
    })
  }

  /**
   * Tells the cluster about a move. A message that cannot go out (the node
   * stopping under a halt, a send failing) does not undo the move or stop
   * the others: the move is recorded here, and the next state says where
   * the VM runs.
   */
  private async tell (move: PlannedMove, send: () => Promise<void>): Promise<void> {
    try {
      await send()
    } catch (err) {
      this.c.log.warn('could not tell the cluster about a migration', { vm: move.vm, to: move.to, error: (err as Error).message })
    }
  }

  /** The migrate protocol's client side: one request to the agent of `host`. */
  private async ask (host: string, req: MigrateRequest): Promise<MigrateResponse> {
    const peer = this.c.cluster.view.member(host)?.peerId
    if (peer === undefined) return { ok: false, reason: 'not-member', detail: `unknown host ${host}` }
    const answer = readMigrateResponse(await request(this.c.node, peer, migrateProtocol(this.c.node), req))
    // The executor counts a throw as a failed attempt; a malformed answer must not reach the driver.
    if (typeof answer === 'string') throw new Error(`malformed answer from ${host}: ${answer}`)
    return answer
  }
}
