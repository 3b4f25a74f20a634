/**
 * Target side of the migrate protocol: a reservation book. It admits a VM
 * only for a move in the plan this agent accepted for the round, from the
 * VM's own host, when the room left (capacity - running VMs - other
 * reservations) takes it. Reservations expire, releasing the room and the
 * hypervisor's incoming slot. Every change (admit, commit, cancel, expiry)
 * runs one at a time: a commit that starts the arrived copy and an expiry
 * that ends it must never interleave.
 */
import type { HypervisorDriver, MigrationTarget, VmInfo } from './drivers/types.ts'
import type { Logger } from './log.ts'
import type { MigrateResponse } from './migrate-protocol.ts'

interface Reservation {
  vm: VmInfo
  from: string
  round: number
  expiresAt: number
  timer: ReturnType<typeof setTimeout>
}

export interface ReservationContext {
  capacity: { memoryMiB: number, vcpus: number }
  leaving: () => boolean
  /** Is "move vm from `from` to us" in the plan we accepted for `round`? */
  planned: (round: number, vmId: string, from: string) => boolean
  now: () => number
}

export class ReservationBook {
  private readonly held = new Map<string, Reservation>()
  private readonly driver: HypervisorDriver
  private readonly ttlMs: number
  private readonly log: Logger
  private readonly ctx: ReservationContext
  /** Changes run one at a time (see the file's comment). */
  private queue: Promise<unknown> = Promise.resolve()

  constructor (driver: HypervisorDriver, ctx: ReservationContext, ttlMs: number, log: Logger) {
    this.driver = driver
    this.ctx = ctx
    this.ttlMs = ttlMs
    this.log = log
  }

  get size (): number {
    return this.held.size
  }

  reserve (from: string, round: number, vm: VmInfo): Promise<MigrateResponse> {
    return this.serial(async () => this.admit(from, round, vm))
  }

  private serial<T> (fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn)
    this.queue = next.catch(() => undefined)
    return next
  }

  private async admit (from: string, round: number, vm: VmInfo): Promise<MigrateResponse> {
    if (this.ctx.leaving()) return { ok: false, reason: 'leaving', detail: 'this host is leaving or drained' }
    if (!this.ctx.planned(round, vm.id, from)) return { ok: false, reason: 'not-in-plan', detail: `no accepted plan of round ${round} moves ${vm.id} from ${from} here` }
    const earlier = this.held.get(vm.id)
    if (earlier !== undefined && earlier.from !== from) return { ok: false, reason: 'busy', detail: `${vm.id} is already reserved by ${earlier.from}` }
    // The same source asking again (it restarted mid-migration, or retries):
    // its earlier attempt is over, so that reservation makes way for this one.
    if (earlier !== undefined) await this.release(vm.id, 'superseded by a new request from its source')
    const running = await this.driver.list()
    if (running.some(v => v.id === vm.id)) return { ok: false, reason: 'busy', detail: `${vm.id} already runs here` }
    const usedMem = sum(running, v => v.memoryMiB) + sum([...this.held.values()], r => r.vm.memoryMiB)
    const usedCpu = sum(running, v => v.vcpus) + sum([...this.held.values()], r => r.vm.vcpus)
    if (usedMem + vm.memoryMiB > this.ctx.capacity.memoryMiB || usedCpu + vm.vcpus > this.ctx.capacity.vcpus) {
      return { ok: false, reason: 'no-room', detail: `needs ${vm.memoryMiB} MiB/${vm.vcpus} vCPUs, ${this.ctx.capacity.memoryMiB - usedMem} MiB/${this.ctx.capacity.vcpus - usedCpu} left` }
    }
    let target: MigrationTarget
    try {
      target = await this.driver.prepareIncoming(vm)
    } catch (err) {
      return { ok: false, reason: 'busy', detail: `hypervisor cannot receive: ${(err as Error).message}` }
    }
    // A drain (or leave) set while the hypervisor prepared wins over this
    // admission: answering yes now would start a move into a draining host.
    if (this.ctx.leaving()) {
      try { await this.driver.cancelIncoming(vm.id) } catch (err) { this.log.warn('cancelIncoming failed', { vm: vm.id, error: (err as Error).message }) }
      return { ok: false, reason: 'leaving', detail: 'this host is leaving or drained' }
    }
    const expiresAt = this.ctx.now() + this.ttlMs
    const timer = setTimeout(() => { void this.serial(async () => { await this.release(vm.id, 'expired') }) }, this.ttlMs)
    timer.unref?.()
    this.held.set(vm.id, { vm, from, round, expiresAt, timer })
    this.log.info('reserved', { vm: vm.id, from, round })
    return { ok: true, target, expiresAt }
  }

  /**
   * The source reports the migration done (for a hand-over driver: it let
   * go of its copy): start the arrived copy, and the VM counts as running
   * here. Asked again after a lost answer, a VM that already runs here is
   * the same yes; 'unknown-reservation' means no copy of ours will ever run.
   */
  commit (from: string, vmId: string): Promise<MigrateResponse> {
    return this.serial(async () => {
      const r = this.held.get(vmId)
      if (r === undefined || r.from !== from) {
        const here = (await this.driver.list()).find(v => v.id === vmId)
        if (here?.status === 'running') return { ok: true }
        return { ok: false, reason: 'unknown-reservation', detail: `no reservation of ${vmId} from ${from}` }
      }
      try {
        await this.driver.finishIncoming?.(vmId)
      } catch (err) {
        // Kept: the source asks again, or the expiry ends the copy and the source resumes its own.
        this.log.warn('could not start the arrived VM', { vm: vmId, from, error: (err as Error).message })
        return { ok: false, reason: 'busy', detail: `could not start the arrived VM: ${(err as Error).message}` }
      }
      clearTimeout(r.timer)
      this.held.delete(vmId)
      return { ok: true }
    })
  }

  cancel (from: string, vmId: string): Promise<MigrateResponse> {
    return this.serial(async () => {
      const r = this.held.get(vmId)
      if (r === undefined || r.from !== from) return { ok: false, reason: 'unknown-reservation', detail: `no reservation of ${vmId} from ${from}` }
      await this.release(vmId, 'cancelled')
      return { ok: true }
    })
  }

  private async release (vmId: string, why: string): Promise<void> {
    const r = this.held.get(vmId)
    if (r === undefined) return
    clearTimeout(r.timer)
    this.held.delete(vmId)
    this.log.info('reservation released', { vm: vmId, why })
    try { await this.driver.cancelIncoming(vmId) } catch (err) { this.log.warn('cancelIncoming failed', { vm: vmId, error: (err as Error).message }) }
  }

  async stop (): Promise<void> {
    for (const id of [...this.held.keys()]) await this.release(id, 'stopping')
  }
}

function sum<T> (xs: T[], f: (x: T) => number): number {
  return xs.reduce((s, x) => s + f(x), 0)
}
