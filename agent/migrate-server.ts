/**
 * The migrate protocol's server: this host as a target. It admits a VM only
 * for a move of the plan it accepted (or an operator approved), keeps the
 * room in a ReservationBook, and hears the source's outcome.
 */
import type { Startable } from '@libp2p/interface'
import type { Ballot } from './ballot.ts'
import type { Cluster } from './cluster/index.ts'
import type { AgentConfig } from './config.ts'
import type { Controls } from './policy/controls.ts'
import type { AgentCounters } from './counters.ts'
import type { HypervisorDriver } from './drivers/types.ts'
import type { Logger } from './log.ts'
import { migrateProtocol, readMigrateRequest, type MigrateResponse } from './migrate-protocol.ts'
import { handle, type ClusterNode } from './net/index.ts'
import { ReservationBook } from './reservations.ts'

/** How much longer than a migration's deadline a reservation holds its room. */
export const RESERVATION_MARGIN_MS = 10_000

export interface MigrateServerComponents {
  node: ClusterNode
  hypervisor: HypervisorDriver
  cluster: Cluster
  ballot: Ballot
  controls: Controls
  counters: AgentCounters
  log: Logger
  now: () => number
}

export interface MigrateServerInit {
  config: AgentConfig
}

export class MigrateServer implements Startable {
  private readonly c: MigrateServerComponents
  private readonly reservations: ReservationBook

  constructor (components: MigrateServerComponents, init: MigrateServerInit) {
    this.c = components
    const { config } = init
    const { cluster, ballot, controls } = components
    this.reservations = new ReservationBook(components.hypervisor, {
      capacity: config.capacity,
      leaving: () => cluster.leaving || controls.refusesIncoming(),
      planned: (round, vmId, from) => ballot.accepted(round)?.plan.moves.some(m => m.vm === vmId && m.from === from && m.to === config.host) === true ||
        controls.approvedMove(round, vmId, from, config.host),
      now: components.now
    // A reservation must outlive the migration it admits, or its room could
    // be given away while the VM is still on its way (the cluster uses one
    // migration deadline, so our own bounds the source's).
    }, Math.max(config.reservationTtlMs, config.migrationDeadlineMs + RESERVATION_MARGIN_MS), components.log.child('reservations'))
  }

  async start (): Promise<void> {
    const { node } = this.c
    await handle(node, migrateProtocol(node), async (body, ctx) => this.onRequest(body, ctx.peer))
  }

  /**
   * Reservations live in memory: a VM still waiting to arrive from before a
   * restart has none any more, so its receiving side is cleaned up.
   */
  async afterStart (): Promise<void> {
    const { hypervisor, log } = this.c
    for (const vm of await hypervisor.list()) {
      if (vm.status !== 'incoming') continue
      log.warn('cancelling an incoming VM left from before a restart', { vm: vm.id })
      await hypervisor.cancelIncoming(vm.id).catch(err => log.warn('could not cancel it', { vm: vm.id, error: (err as Error).message }))
    }
  }

  /** Releases every reservation still held (a crash does not: the restart cleans up, see afterStart). */
  async stop (): Promise<void> {
    await this.reservations.stop()
  }

  private async onRequest (body: unknown, peer: string): Promise<MigrateResponse> {
    const r = await this.answer(body, peer)
    if (!r.ok) this.c.counters.migrateRefused[r.reason]++
    // A planner sent a VM here that does not fit: its view of us is out of
    // date (a state of ours was lost on its way), and with states sent only
    // on change nothing else would correct it soon.
    if (!r.ok && r.reason === 'no-room') this.c.cluster.resendState(this.c.now())
    return r
  }

  private async answer (body: unknown, peer: string): Promise<MigrateResponse> {
    // Observers may connect (the allowlist admits them) but never reserve room.
    const from = this.c.cluster.view.hostOfPeer(peer)
    if (from === undefined) return { ok: false, reason: 'not-member', detail: 'not a member of this cluster' }
    const req = readMigrateRequest(body)
    if (typeof req === 'string') return { ok: false, reason: 'bad-request', detail: req }
    if (req.op === 'reserve') return this.reservations.reserve(from, req.round, req.vm)
    if (req.op === 'commit') {
      const r = await this.reservations.commit(from, req.vmId)
      await this.c.cluster.publishState()
      return r
    }
    return this.reservations.cancel(from, req.vmId)
  }
}
