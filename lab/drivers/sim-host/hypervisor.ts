/**
 * The `sim` hypervisor: VMs live in a SimWorld directory; a migration takes
 * memory / bandwidth (times `timeScale`) and then rewrites the VM's file to
 * name the target host, atomically. It fails when told to (SimWorld.setFailing),
 * when the deadline passes first, or when the target no longer awaits the VM
 * (it cancelled the incoming VM, for example after a restart); in each case
 * the VM stays on the source. An awaited VM is listed at the target as
 * 'incoming', so the target's room counts it, as a real hypervisor's would.
 */
import { HypervisorError, type HypervisorDriver, type MigrateOptions, type MigrationResult, type MigrationTarget, type VmInfo } from '../../../agent/drivers/types.ts'
import { SimWorld } from './world.ts'

/** What the sim hypervisor takes from the host (the daemon's DriverComponents). */
export interface SimHypervisorComponents {
  host: string
  address: string
}

export interface SimHypervisorInit {
  /** The world's directory, or a SimWorld to share (lab/sim/shared-world.ts). */
  world: string | SimWorld
  bandwidthBps: number
  timeScale: number
}

const BITS_PER_MIB = 8 * 1024 * 1024

export class SimHypervisor implements HypervisorDriver {
  readonly name = 'sim'
  private readonly world: SimWorld
  private readonly init: SimHypervisorInit & SimHypervisorComponents
  private readonly inFlight = new Map<string, AbortController>()

  constructor (components: SimHypervisorComponents, init: SimHypervisorInit) {
    this.init = { ...init, host: components.host, address: components.address }
    this.world = typeof init.world === 'string' ? new SimWorld(init.world) : init.world
  }

  async start (): Promise<void> {}

  async stop (): Promise<void> {
    for (const c of this.inFlight.values()) c.abort()
  }

  async list (): Promise<VmInfo[]> {
    const [vms, awaited] = await Promise.all([this.world.vms(), this.world.incomingAt(this.init.host)])
    const incoming = new Set(awaited)
    return vms
      .filter(v => v.host === this.init.host || incoming.has(v.id))
      .map(v => ({ id: v.id, status: v.host !== this.init.host ? 'incoming' : this.inFlight.has(v.id) ? 'migrating' : 'running', memoryMiB: v.memoryMiB, vcpus: v.vcpus, addresses: v.addresses }))
  }

  async prepareIncoming (vm: VmInfo): Promise<MigrationTarget> {
    await this.world.setIncoming(vm.id, this.init.host, true)
    return { address: this.init.address, uri: `sim:${this.init.host}` }
  }

  async cancelIncoming (vmId: string): Promise<void> {
    await this.world.setIncoming(vmId, this.init.host, false)
  }

  async migrate (vmId: string, target: MigrationTarget, opts: MigrateOptions): Promise<MigrationResult> {
    const vm = await this.world.vm(vmId)
    if (vm === undefined || vm.host !== this.init.host) throw new HypervisorError(`VM ${vmId} does not run on ${this.init.host}`)
    if (this.inFlight.has(vmId)) throw new HypervisorError(`VM ${vmId} is already migrating`)
    const to = target.uri?.startsWith('sim:') === true ? target.uri.slice(4) : undefined
    if (to === undefined || to === '') throw new HypervisorError(`not a sim target: ${JSON.stringify(target)}`)
    const started = Date.now()
    const ms = vm.memoryMiB * BITS_PER_MIB / (opts.maxBandwidth !== undefined ? Math.min(opts.maxBandwidth * 8, this.init.bandwidthBps) : this.init.bandwidthBps) * 1000 * this.init.timeScale
    const abort = new AbortController()
    this.inFlight.set(vmId, abort)
    try {
      const fails = (await this.world.failing()).has(vmId)
      const slow = (await this.world.slowdown())[vmId] ?? 1
      const duration = ms * slow
      const finished = await sleep(Math.min(fails ? duration / 2 : duration, opts.deadlineMs), abort.signal)
      if (!finished) return { ok: false, totalMs: Date.now() - started, error: 'aborted: the agent is stopping' }
      if (fails) return { ok: false, totalMs: Date.now() - started, error: 'simulated failure' }
      if (duration > opts.deadlineMs) return { ok: false, totalMs: Date.now() - started, error: `deadline of ${opts.deadlineMs} ms passed` }
      if (!await this.world.isIncoming(vmId, to)) return { ok: false, totalMs: Date.now() - started, error: `${to} no longer awaits the VM (it cancelled the incoming VM)` }
      await this.world.write({ ...vm, host: to })
      await this.world.setIncoming(vmId, to, false)
      return { ok: true, totalMs: Date.now() - started, downtimeMs: Math.min(50, ms), bytes: vm.memoryMiB * 1024 * 1024 }
    } finally {
      this.inFlight.delete(vmId)
    }
  }
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep (ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise(resolve => {
    if (signal.aborted) { resolve(false); return }
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(true) }, ms)
    const onAbort = (): void => { clearTimeout(timer); resolve(false) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
