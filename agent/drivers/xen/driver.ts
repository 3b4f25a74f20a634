/**
 * The Xen hypervisor driver, through xl (see commands.ts for the ssh
 * transport). list() joins `xl list` (run state) with `xl list -l`
 * (configuration); Domain-0 is never a VM. Untested on a live Xen host:
 * the tests replay outputs from Xen's documentation and libxl's JSON.
 */
import { isIPv6 } from 'node:net'
import { runCommand, showCommand, type CommandResult, type CommandRunner } from '../command.ts'
import { HypervisorError } from '../types.ts'
import type { HypervisorDriver, MigrateOptions, MigrationResult, MigrationTarget, VmInfo } from '../types.ts'
import { checkDomainName, DEFAULT_SSH_COMMAND, DEFAULT_SSH_USER, DEFAULT_XL, migrateArgs } from './commands.ts'
import { ipv6Of, parseXlList, parseXlListLong } from './parse.ts'
import { INCOMING_SUFFIX, MIGRATED_AWAY_SUFFIX, vmIdOf, xenStatus } from './status.ts'
import { definedOnly } from '../../../lib/defined.ts'

/** Time for one query (xl list) before it counts as hung, in ms. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 15_000
/** After SIGTERM to an xl migrate's process group, time before SIGKILL, in ms. */
export const XL_KILL_GRACE_MS = 5_000

export interface XenDriverOptions {
  /** This host's IPv6 address: where other hosts' xl connects (ssh). */
  address: string
  binary?: string
  /** xl's -s: the command that reaches the target; it runs `<cmd> HOST xl migrate-receive`. */
  sshCommand?: string
  sshUser?: string
  /** Runs xl in this host's network, e.g. ['ip', 'netns', 'exec', 'host-a']. */
  prefix?: string[]
  run?: CommandRunner
  commandTimeoutMs?: number
}

/** What the driver takes from the host (the daemon's DriverComponents): its address. */
export type XenComponents = Pick<XenDriverOptions, 'address'>
/** Its own settings (the config section's): everything but the address. */
export type XenInit = Omit<XenDriverOptions, 'address'>

export class XenDriver implements HypervisorDriver {
  readonly name = 'xen'
  readonly options: XenDriverOptions
  #started = false
  /** Migrations in flight from here: how to end each xl migrate, and its end. */
  readonly #migrating = new Map<string, { abort: AbortController, done: Promise<unknown> }>()
  readonly #run: CommandRunner

  constructor (components: XenComponents, init: XenInit = {}) {
    const options: XenDriverOptions = { address: components.address, ...init }
    this.options = options
    this.#run = options.run ?? runCommand
  }

  async start (): Promise<void> {
    if (!isIPv6(this.options.address)) throw new HypervisorError(`driver address ${this.options.address} is not an IPv6 address`)
    const r = await this.#xl(['info'])
    if (r.code !== 0) throw new HypervisorError(`cannot run ${this.options.binary ?? DEFAULT_XL} info: ${errorText(r)} (is this a Xen dom0 with xencommons running?)`)
    this.#started = true
  }

  /**
   * Ends every xl migrate in flight, with its process group (xl and the ssh
   * it forked): SIGTERM, SIGKILL after XL_KILL_GRACE_MS. Each migrate()
   * then asks `xl list` where its domain runs and says so in its result.
   */
  async stop (): Promise<void> {
    this.#started = false
    const inFlight = [...this.#migrating.values()]
    for (const m of inFlight) m.abort.abort()
    await Promise.allSettled(inFlight.map(async m => await m.done))
  }

  async list (): Promise<VmInfo[]> {
    this.#requireStarted()
    const rows = parseXlList(await this.#text(['list']))
    const configs = new Map(parseXlListLong(await this.#text(['list', '-l'])).map(c => [c.domid, c]))
    const out: VmInfo[] = []
    for (const row of rows) {
      if (row.domid === 0) continue // Domain-0 hosts the agent; it is not a VM to move
      const config = configs.get(row.domid)
      // Created or gone between the two calls: the next list() sees it settled.
      if (config === undefined || config.name !== row.name) continue
      const { id, migration } = vmIdOf(row.name)
      out.push({
        id,
        status: xenStatus(row.state, migration, this.#migrating.has(id)),
        memoryMiB: config.maxMemKiB !== undefined ? Math.ceil(config.maxMemKiB / 1024) : row.memMiB,
        vcpus: config.maxVcpus ?? row.vcpus,
        addresses: ipv6Of(config.ips)
      })
    }
    return out.sort((a, b) => a.id.localeCompare(b.id))
  }

  /** Nothing to start: the source's ssh runs xl migrate-receive here. Refuses a VM that already runs here. */
  async prepareIncoming (vm: VmInfo): Promise<MigrationTarget> {
    this.#requireStarted()
    checkDomainName(vm.id)
    if ((await this.list()).some(v => v.id === vm.id)) throw new HypervisorError(`VM ${vm.id} already has a domain here`)
    return { address: this.options.address }
  }

  /** Destroys a leftover NAME--incoming (xl normally destroys a failed one itself); never the arrived NAME. */
  async cancelIncoming (vmId: string): Promise<void> {
    this.#requireStarted()
    const here = (await this.list()).find(v => v.id === vmId)
    if (here === undefined) return
    if (here.status !== 'incoming') throw new HypervisorError(`VM ${vmId} is ${here.status} here, not waiting for a migration; not cancelling`)
    await this.#text(['destroy', checkDomainName(`${vmId}${INCOMING_SUFFIX}`)])
  }

  /**
   * Runs `xl migrate`. At the deadline xl gets SIGTERM: during the live copy
   * the domain keeps running here; past xl's point of no return it may be
   * left as NAME--migratedaway, which list() reports as migrating, for an
   * operator to check both ends (xl's own advice in that case).
   */
  async migrate (vmId: string, target: MigrationTarget, opts: MigrateOptions): Promise<MigrationResult> {
    this.#requireStarted()
    if (!Number.isFinite(opts.deadlineMs) || opts.deadlineMs <= 0) throw new HypervisorError(`migration deadline ${opts.deadlineMs} ms is not a positive duration`)
    if (this.#migrating.has(vmId)) throw new HypervisorError(`VM ${vmId} is already being migrated`)
    const args = migrateArgs({ domain: vmId, address: target.address, sshCommand: this.options.sshCommand ?? DEFAULT_SSH_COMMAND, sshUser: this.options.sshUser ?? DEFAULT_SSH_USER })
    const abort = new AbortController()
    const done = this.#migrate(vmId, args, opts.deadlineMs, abort.signal)
    this.#migrating.set(vmId, { abort, done })
    try {
      return await done
    } finally {
      this.#migrating.delete(vmId)
    }
  }

  async #migrate (vmId: string, args: string[], deadlineMs: number, signal: AbortSignal): Promise<MigrationResult> {
    const started = Date.now()
    // The runner's timeout is the deadline; SIGTERM, the conventional stop (what it leaves: see above).
    const r = await this.#xl(args, deadlineMs, 'SIGTERM', signal)
    const totalMs = Date.now() - started
    if (r.code === 0) return { ok: true, totalMs, runsOn: 'target' }
    const why = errorText(r)
    const timedOut = r.signal !== null && totalMs >= deadlineMs
    const error = signal.aborted ? `the agent is stopping: xl migrate ended: ${why}` : timedOut ? `deadline of ${deadlineMs} ms passed, xl migrate stopped: ${why}` : why
    return { ok: false, totalMs, error, runsOn: await this.#whereIs(vmId) }
  }

  /**
   * Where a domain runs after a migration that did not succeed, from `xl
   * list`: here under its own name; 'unknown' as NAME--migratedaway (past
   * xl's point of no return: an operator checks both ends) or when xl does
   * not answer; the target when it is gone from here.
   */
  async #whereIs (vmId: string): Promise<'source' | 'target' | 'unknown'> {
    const r = await this.#xl(['list']).catch(() => undefined)
    if (r === undefined || r.code !== 0) return 'unknown'
    let rows
    try { rows = parseXlList(r.stdout) } catch { return 'unknown' }
    const names = new Set(rows.map(row => row.name))
    if (names.has(vmId)) return 'source'
    if (names.has(`${vmId}${MIGRATED_AWAY_SUFFIX}`)) return 'unknown'
    return 'target'
  }

  #requireStarted (): void {
    if (!this.#started) throw new HypervisorError('xen driver not started')
  }

  argv (args: readonly string[]): string[] {
    return [...this.options.prefix ?? [], this.options.binary ?? DEFAULT_XL, ...args]
  }

  async #xl (args: readonly string[], timeoutMs = this.options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS, killSignal?: NodeJS.Signals, signal?: AbortSignal): Promise<CommandResult> {
    const argv = this.argv(args)
    try {
      return await this.#run(argv, { timeoutMs, ...definedOnly({ killSignal, signal, killGraceMs: signal === undefined ? undefined : XL_KILL_GRACE_MS }) })
    } catch (err) {
      throw new HypervisorError(`cannot run ${showCommand(argv)}: ${(err as Error).message}`)
    }
  }

  async #text (args: readonly string[]): Promise<string> {
    const r = await this.#xl(args)
    if (r.code !== 0) throw new HypervisorError(`${showCommand(this.argv(args))} failed (${r.signal ?? `exit ${r.code}`}): ${errorText(r)}`)
    return r.stdout
  }
}

/** xl's last words on stderr (its migration messages end with the verdict), or stdout. */
function errorText (r: CommandResult): string {
  const lines = r.stderr.split('\n').map(l => l.trim()).filter(l => l !== '')
  return lines.slice(-3).join('; ') || r.stdout.trim() || 'no message'
}
