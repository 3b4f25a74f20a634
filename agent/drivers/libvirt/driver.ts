/**
 * The libvirt hypervisor driver, through virsh: list() asks libvirtd for
 * its active domains (list, dominfo, domstate, domifaddr); migrate() runs
 * `virsh migrate --live --p2p` to the target's libvirtd over IPv6 (the
 * transports are described in commands.ts). libvirt prepares the incoming
 * side itself, so prepareIncoming() only checks and says where to go.
 * A domain's name is its VM id.
 */
import { isIPv6 } from 'node:net'
import type { CommandRunner } from '../command.ts'
import { HypervisorError } from '../types.ts'
import type { HypervisorDriver, MigrateOptions, MigrationResult, MigrationTarget, VmInfo } from '../types.ts'
import {
  DEFAULT_ADDRESS_SOURCE, DEFAULT_LOCAL_URI, DEFAULT_TRANSPORT, migrateArgs, targetUri,
  type AddressSource, type LibvirtTransport
} from './commands.ts'
import { ipv6Addresses, parseDomifaddr, parseDominfo, parseDomstate, parseJobStats, parseNames, type DomInfo } from './parse.ts'
import { domainStatus } from './status.ts'
import { errorText, isNoDomain, Virsh } from './virsh.ts'
import { definedOnly } from '../../../lib/defined.ts'

/** Domains asked about at once in list(). */
export const LIST_CONCURRENCY = 4
/** After a deadline's abort, time for virsh migrate to return before we give up on it, in ms. */
export const ABORT_GRACE_MS = 30_000
/** On stop, how often domjobabort is sent again while virsh migrate has not returned, in ms. */
export const STOP_ABORT_RETRY_MS = 1_000
/**
 * On stop, how long virsh migrate may take to return after the aborts
 * before its process group is ended, in ms (an abort takes a second or
 * two); with the agent's 5 s grace inside the unit's TimeoutStopSec=30s.
 */
export const STOP_ABORT_WAIT_MS = 15_000

export interface LibvirtDriverOptions {
  /** This host's IPv6 address: where other hosts send migrations. */
  address: string
  /** The local libvirtd; qemu:///system by default. */
  uri?: string
  transport?: LibvirtTransport
  addressSource?: AddressSource
  binary?: string
  /** Runs virsh in this host's network, e.g. ['ip', 'netns', 'exec', 'host-a']. */
  prefix?: string[]
  run?: CommandRunner
  commandTimeoutMs?: number
}

/** What the driver takes from the host (the daemon's DriverComponents): its address. */
export type LibvirtComponents = Pick<LibvirtDriverOptions, 'address'>
/** Its own settings (the config section's): everything but the address. */
export type LibvirtInit = Omit<LibvirtDriverOptions, 'address'>

export class LibvirtDriver implements HypervisorDriver {
  readonly name = 'libvirt'
  readonly options: LibvirtDriverOptions
  readonly virsh: Virsh
  #started = false
  /** Migrations in flight from here: their virsh migrate's abort, and their end. */
  readonly #migrating = new Map<string, { abort: AbortController, done: Promise<unknown> }>()

  constructor (components: LibvirtComponents, init: LibvirtInit = {}) {
    const options: LibvirtDriverOptions = { ...init, address: components.address }
    this.options = options
    this.virsh = new Virsh({
      uri: options.uri ?? DEFAULT_LOCAL_URI,
      ...definedOnly({
        binary: options.binary,
        prefix: options.prefix,
        run: options.run,
        timeoutMs: options.commandTimeoutMs
      })
    })
  }

  get transport (): LibvirtTransport {
    return this.options.transport ?? DEFAULT_TRANSPORT
  }

  async start (): Promise<void> {
    if (!isIPv6(this.options.address)) throw new HypervisorError(`driver address ${this.options.address} is not an IPv6 address`)
    const r = await this.virsh.result(['version'])
    if (r.code !== 0) throw new HypervisorError(`cannot reach libvirtd at ${this.virsh.uri}: ${errorText(r)} (is libvirtd running?)`)
    this.#started = true
  }

  /**
   * Aborts migrations in flight through libvirtd (domjobabort on a fresh
   * connection, again each STOP_ABORT_RETRY_MS: the job may not have
   * started yet), and waits for each virsh migrate to return, which then
   * confirms the domain runs here. Should virsh not return within
   * STOP_ABORT_WAIT_MS, its process group is ended. The domains keep running
   * under libvirtd.
   */
  async stop (): Promise<void> {
    this.#started = false
    await Promise.all([...this.#migrating].map(async ([id, m]) => {
      let ended = false
      void m.done.finally(() => { ended = true })
      const giveUp = Date.now() + STOP_ABORT_WAIT_MS
      while (!ended && Date.now() < giveUp) {
        await this.virsh.result(['domjobabort', '--', id]).catch(() => undefined)
        await Promise.race([m.done.catch(() => undefined), new Promise(resolve => setTimeout(resolve, STOP_ABORT_RETRY_MS))])
      }
      if (!ended) m.abort.abort()
      await m.done.catch(() => undefined)
    }))
  }

  async list (): Promise<VmInfo[]> {
    this.#requireStarted()
    const names = parseNames(await this.virsh.text(['list', '--name']))
    const out: VmInfo[] = []
    for (let i = 0; i < names.length; i += LIST_CONCURRENCY) {
      const batch = await Promise.all(names.slice(i, i + LIST_CONCURRENCY).map(async n => await this.#describe(n)))
      for (const vm of batch) if (vm !== undefined) out.push(vm)
    }
    return out.sort((a, b) => a.id.localeCompare(b.id))
  }

  async prepareIncoming (vm: VmInfo): Promise<MigrationTarget> {
    this.#requireStarted()
    const here = await this.#dominfo(vm.id)
    if (here?.id !== undefined) throw new HypervisorError(`VM ${vm.id} already runs here (domain id ${here.id})`)
    // libvirt's own Prepare phase starts the receiving QEMU when the source asks.
    return { address: this.options.address, uri: targetUri(this.transport, this.options.address) }
  }

  async cancelIncoming (vmId: string): Promise<void> {
    this.#requireStarted()
    const info = await this.#dominfo(vmId)
    if (info?.id === undefined) return // libvirt already removed the failed incoming domain
    const { state, reason } = parseDomstate(await this.virsh.text(['domstate', '--reason', '--', vmId]))
    // Never destroy a domain that arrived: after a completed migration it is the only copy.
    if (domainStatus(state, reason, false) !== 'incoming') throw new HypervisorError(`VM ${vmId} is ${state}${reason !== undefined ? ` (${reason})` : ''} here, not waiting for a migration; not cancelling`)
    await this.virsh.text(['destroy', '--', vmId])
  }

  async migrate (vmId: string, target: MigrationTarget, opts: MigrateOptions): Promise<MigrationResult> {
    this.#requireStarted()
    if (!Number.isFinite(opts.deadlineMs) || opts.deadlineMs <= 0) throw new HypervisorError(`migration deadline ${opts.deadlineMs} ms is not a positive duration`)
    if (this.#migrating.has(vmId)) throw new HypervisorError(`VM ${vmId} is already being migrated`)
    const uri = target.uri?.startsWith('qemu+') === true ? target.uri : undefined
    const args = migrateArgs({ domain: vmId, address: target.address, transport: this.transport, ...definedOnly({ uri, maxBandwidth: opts.maxBandwidth }) })
    const dest = uri ?? targetUri(this.transport, target.address)
    const abort = new AbortController()
    const done = this.#migrate(vmId, args, dest, opts.deadlineMs, abort.signal)
    this.#migrating.set(vmId, { abort, done })
    try {
      return await done
    } finally {
      this.#migrating.delete(vmId)
    }
  }

  async #migrate (vmId: string, args: string[], dest: string, deadlineMs: number, signal: AbortSignal): Promise<MigrationResult> {
    const started = Date.now()
    let timedOut = false
    // On the deadline, abort the job: libvirt then resumes the domain here and drops the target's copy.
    const timer = setTimeout(() => {
      timedOut = true
      void this.virsh.result(['domjobabort', '--', vmId]).catch(() => undefined)
    }, deadlineMs)
    try {
      const r = await this.virsh.result(args, { timeoutMs: deadlineMs + ABORT_GRACE_MS, signal })
      const totalMs = Date.now() - started
      if (r.code !== 0) {
        const why = errorText(r)
        if (!this.#started) return { ok: false, totalMs, error: `the agent is stopping: migration aborted: ${why}`, runsOn: await this.#whereIs(vmId) }
        return { ok: false, totalMs, error: timedOut ? `deadline of ${deadlineMs} ms passed, migration aborted: ${why}` : why }
      }
      return { ok: true, totalMs, ...await this.#completedStats(vmId, dest), runsOn: 'target' }
    } finally {
      clearTimeout(timer)
    }
  }

  /** After an abort on stop: 'source' when the domain runs here, 'target' when it left, else 'unknown'. */
  async #whereIs (vmId: string): Promise<'source' | 'target' | 'unknown'> {
    try {
      const info = await this.#dominfo(vmId)
      if (info === undefined) return 'target' // --undefinesource: a completed migration leaves nothing here
      if (info.id === undefined) return 'unknown' // defined but not running
      const { state } = parseDomstate(await this.virsh.text(['domstate', '--reason', '--', vmId]))
      return state === 'running' ? 'source' : 'unknown'
    } catch {
      return 'unknown'
    }
  }

  /** The target's record of the finished job: downtime and bytes (exact, from --rawstats). Missing stats are not an error. */
  async #completedStats (vmId: string, dest: string): Promise<{ downtimeMs?: number, bytes?: number }> {
    const r = await this.virsh.result(['domjobinfo', '--completed', '--rawstats', '--keep-completed', '--', vmId], { uri: dest }).catch(() => undefined)
    if (r === undefined || r.code !== 0) return {}
    const stats = parseJobStats(r.stdout)
    const downtime = stats.get('downtime')
    const bytes = stats.get('data_processed') ?? stats.get('memory_processed')
    return definedOnly({ downtimeMs: downtime, bytes })
  }

  #requireStarted (): void {
    if (!this.#started) throw new HypervisorError('libvirt driver not started')
  }

  /** dominfo, or undefined when the domain is not (or no longer) here. */
  async #dominfo (name: string): Promise<DomInfo | undefined> {
    const r = await this.virsh.result(['dominfo', '--', name])
    if (isNoDomain(r)) return undefined
    if (r.code !== 0) throw new HypervisorError(`virsh dominfo ${name} failed: ${errorText(r)}`)
    return parseDominfo(r.stdout)
  }

  async #describe (name: string): Promise<VmInfo | undefined> {
    const info = await this.#dominfo(name)
    if (info?.id === undefined) return undefined // left between list and dominfo, or not active
    let reason: string | undefined
    if (info.state === 'paused') {
      const r = await this.virsh.result(['domstate', '--reason', '--', name])
      if (r.code === 0) reason = parseDomstate(r.stdout).reason
    }
    const source: AddressSource = this.options.addressSource ?? DEFAULT_ADDRESS_SOURCE
    const a = await this.virsh.result(['domifaddr', '--full', '--source', source, '--', name])
    // No guest agent, no lease: the VM is still here, only without addresses.
    const addresses = a.code === 0 ? ipv6Addresses(parseDomifaddr(a.stdout)) : []
    return {
      id: info.name,
      status: domainStatus(info.state, reason, this.#migrating.has(name)),
      memoryMiB: Math.ceil(info.maxMemoryKiB / 1024),
      vcpus: info.vcpus,
      addresses
    }
  }
}
