/**
 * The QEMU hypervisor driver: VMs are daemonized QEMU processes, each with a
 * QMP socket and a JSON sidecar in one directory per host. list() asks every
 * socket; migrations go over TCP on IPv6 between QEMUs, the target's QEMU
 * started by prepareIncoming() with the source's hardware arguments.
 */
import { execFile } from 'node:child_process'
import { access, mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { isIPv6 } from 'node:net'
import { promisify } from 'node:util'
import { resolveCommand } from '../../host/system-tools.ts'
import { HypervisorError } from '../types.ts'
import type { HandOverAnswer, HypervisorDriver, MigrateOptions, MigrationResult, MigrationTarget, OutgoingMove, SettledMigration, VmInfo } from '../types.ts'
import { QMP_SUFFIX, readVmConfig, validateVmConfig, vmPaths, writeVmConfig } from './config.ts'
import type { VmConfig, VmPaths } from './config.ts'
import { runMigration, settleMigration, tcpUri } from './migration.ts'
import { outgoingIds, readOutgoing, removeOutgoing, writeOutgoing } from './outgoing.ts'
import type { MigrationTuning, QemuMigrateOptions } from './migration.ts'
import { DEFAULT_QEMU_BINARY, DEFAULT_STOP_TIMEOUT_MS, isQemuRunning, killQemu, launchQemu, readPid, removeVmFiles, waitForExit } from './process.ts'
import { QmpClient } from './qmp.ts'
import { vmStatus } from './status.ts'

/** Time for list() to reach one VM's monitor before the socket counts as stale, in ms. */
export const DEFAULT_LIST_TIMEOUT_MS = 2_000
/**
 * On stop, how long cancelled migrations may take to end and be confirmed
 * before the monitors are closed anyway, in ms (a cancel takes well under a
 * second; this is for a QEMU that hangs). With the agent's 5 s grace it
 * stays inside the unit's TimeoutStopSec=30s.
 */
export const STOP_CANCEL_WAIT_MS = 20_000

export interface QemuDriverOptions {
  /** Where the VMs' sockets, sidecars, pid files and serial logs live. */
  dir: string
  /** This host's IPv6 address that incoming migrations are received on. */
  address: string
  binary?: string
  /** Runs a command in this host's network, e.g. ['ip', 'netns', 'exec', 'host-a']; none by default. */
  prefix?: string[]
  /** Hardware args for an incoming VM whose VmInfo carries none (the source's list() includes them). */
  argsFor?: (vm: VmInfo) => string[]
  /** Defaults for every migration from this host (the agent's config sets them); a caller's options win. */
  migration?: MigrationTuning & Pick<MigrateOptions, 'maxBandwidth'>
  listTimeoutMs?: number
}

/** What the driver takes from the host (the daemon's DriverComponents): its address. */
export type QemuComponents = Pick<QemuDriverOptions, 'address'>
/** Its own settings (the config section's): everything but the address. */
export type QemuInit = Omit<QemuDriverOptions, 'address'>

/** What list() reports: a VmInfo plus the hardware args a target needs for prepareIncoming(). */
export interface QemuVmInfo extends VmInfo {
  args?: string[]
}

interface PoolEntry {
  client: Promise<QmpClient>
  users: number
}

export class QemuDriver implements HypervisorDriver {
  readonly name = 'qemu'
  readonly options: QemuDriverOptions
  #started = false
  #pool = new Map<string, PoolEntry>()
  /** Migrations in flight from here: how to cancel each, and its end. */
  #migrating = new Map<string, { abort: AbortController, done: Promise<unknown> }>()

  constructor (components: QemuComponents, init: QemuInit) {
    this.options = { ...init, address: components.address }
  }

  get dir (): string {
    return this.options.dir
  }

  async start (): Promise<void> {
    if (!isIPv6(this.options.address)) throw new HypervisorError(`driver address ${this.options.address} is not an IPv6 address`)
    await mkdir(this.options.dir, { recursive: true, mode: 0o700 })
    const binary = this.options.binary ?? DEFAULT_QEMU_BINARY
    try {
      await promisify(execFile)(resolveCommand(binary), ['-version'], { timeout: 10_000 })
    } catch (err) {
      throw new HypervisorError(`cannot run ${binary} -version: ${(err as Error).message} (install qemu-system-x86)`)
    }
    this.#started = true
  }

  /**
   * Cancels migrations in flight first, each on its own monitor connection
   * while it is open (migrate_cancel, then query-migrate and query-status
   * confirm the VM runs here), then closes the connections. The VMs keep
   * running: they are not the agent's children.
   */
  async stop (): Promise<void> {
    this.#started = false
    const inFlight = [...this.#migrating.values()]
    for (const m of inFlight) m.abort.abort()
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.allSettled(inFlight.map(async m => await m.done)),
      new Promise(resolve => { timer = setTimeout(resolve, STOP_CANCEL_WAIT_MS) })
    ])
    clearTimeout(timer)
    const entries = [...this.#pool.values()]
    this.#pool.clear()
    await Promise.all(entries.map(async e => { (await e.client.catch(() => undefined))?.close() }))
  }

  paths (vmId: string): VmPaths {
    return vmPaths(this.options.dir, vmId)
  }

  /** Starts a VM on this host (not part of HypervisorDriver: how VMs come to exist). */
  async create (config: VmConfig): Promise<QemuVmInfo> {
    this.#requireStarted()
    const checked = validateVmConfig(config, `VM ${config.id}`)
    await this.#launch(checked, false)
    return { ...this.#info(checked, 'running'), args: checked.args }
  }

  /** Stops a VM here and removes its files (quit over QMP, then signals). */
  async destroy (vmId: string): Promise<void> {
    const paths = this.paths(vmId)
    await this.#withQmp(vmId, async qmp => { await quit(qmp) }, DEFAULT_LIST_TIMEOUT_MS).catch(() => undefined)
    await killQemu(paths)
    await removeVmFiles(paths)
  }

  async list (): Promise<QemuVmInfo[]> {
    this.#requireStarted()
    const names = await readdir(this.options.dir)
    const ids = names.filter(n => n.endsWith(QMP_SUFFIX)).map(n => n.slice(0, -QMP_SUFFIX.length))
    const infos = await Promise.all(ids.map(async id => await this.#describe(id).catch(() => undefined)))
    return infos.filter((i): i is QemuVmInfo => i !== undefined).sort((a, b) => a.id.localeCompare(b.id))
  }

  async prepareIncoming (vm: VmInfo): Promise<MigrationTarget> {
    this.#requireStarted()
    const args = (vm as QemuVmInfo).args ?? this.options.argsFor?.(vm)
    if (args === undefined) throw new HypervisorError(`no QEMU args for incoming VM ${vm.id}: pass the source's list() entry or configure argsFor`)
    const config = validateVmConfig({ id: vm.id, memoryMiB: vm.memoryMiB, vcpus: vm.vcpus, addresses: vm.addresses, args }, `incoming VM ${vm.id}`)
    await this.#launch(config, true)
    try {
      // Until the hand-over this copy is not the VM's: list() says incoming, cancelIncoming may end it.
      await writeFile(this.paths(vm.id).handover, '')
      return await this.#withQmp(vm.id, async qmp => {
        // return-path on both sides: the target reports a failed load back.
        await qmp.execute('migrate-set-capabilities', { capabilities: [{ capability: 'return-path', state: true }] })
        // Port 0: the kernel picks a free port, with no window for another process to take it.
        await qmp.execute('migrate-incoming', { uri: tcpUri(this.options.address, 0) })
        const info = await qmp.execute<{ 'socket-address'?: Array<{ port?: string | number }> }>('query-migrate')
        const port = Number(info['socket-address']?.[0]?.port)
        if (!Number.isInteger(port) || port <= 0) throw new HypervisorError(`incoming QEMU for ${vm.id} reported no listening port`)
        return { address: this.options.address, port, uri: tcpUri(this.options.address, port) }
      })
    } catch (err) {
      await this.#discard(vm.id)
      throw err
    }
  }

  async cancelIncoming (vmId: string): Promise<void> {
    this.#requireStarted()
    const status = await this.#withQmp(vmId, async qmp => (await qmp.execute<{ status: string }>('query-status')).status, DEFAULT_LIST_TIMEOUT_MS)
      .catch(() => undefined) // QEMU already gone (an incoming QEMU exits when the migration fails)
    // A copy that arrived but was never handed over is not the VM's: its
    // source kept its own. One that was handed over (or started by anyone)
    // is now the only copy: never kill it.
    const waiting = status === 'inmigrate' || (status === 'paused' && await this.#awaitingHandOver(vmId))
    if (status !== undefined && !waiting) throw new HypervisorError(`VM ${vmId} is ${status} here, not waiting for a migration; not cancelling`)
    await this.#discard(vmId)
  }

  /**
   * The hand-over's target side: the source let go of its copy; start the
   * one that arrived (it waits paused, -S). A copy already running here is
   * fine (the source asks again when an answer was lost).
   */
  async finishIncoming (vmId: string): Promise<void> {
    this.#requireStarted()
    const paths = this.paths(vmId)
    await this.#withQmp(vmId, async qmp => {
      const run = await qmp.execute<{ status: string }>('query-status')
      if (run.status === 'running') return
      const migration = (await qmp.execute<{ status?: string }>('query-migrate')).status
      if (run.status !== 'paused' || migration !== 'completed') throw new HypervisorError(`VM ${vmId} has not arrived here (${run.status}, migration ${migration ?? 'none'}); not starting it`)
      await qmp.execute('cont')
    }, DEFAULT_LIST_TIMEOUT_MS)
    await rm(paths.handover, { force: true })
  }

  async #awaitingHandOver (vmId: string): Promise<boolean> {
    return await access(this.paths(vmId).handover).then(() => true, () => false)
  }

  async migrate (vmId: string, target: MigrationTarget, opts: QemuMigrateOptions): Promise<MigrationResult> {
    this.#requireStarted()
    const uri = targetUri(target)
    if (this.#migrating.has(vmId)) throw new HypervisorError(`VM ${vmId} is already being migrated`)
    const abort = new AbortController()
    const done = this.#migrate(vmId, uri, { ...this.options.migration, ...opts, signal: abort.signal })
    this.#migrating.set(vmId, { abort, done })
    try {
      return await done
    } finally {
      this.#migrating.delete(vmId)
    }
  }

  async #migrate (vmId: string, uri: string, opts: QemuMigrateOptions): Promise<MigrationResult> {
    const paths = this.paths(vmId)
    const pid = await readPid(paths)
    // Kept until the hand-over is settled: a restarted agent finishes it (settleOutgoing).
    if (opts.move !== undefined) await writeOutgoing(paths, opts.move)
    const result = await this.#withQmp(vmId, async qmp => {
      const r = await runMigration(qmp, uri, opts)
      if (r.ok) await quit(qmp) // the VM now runs on the target: exactly one copy
      return r
    })
    if (result.ok) await this.#gone(vmId, pid)
    else if (result.runsOn !== 'unknown') await removeOutgoing(paths)
    return result
  }

  /** Waits for a handed-over VM's QEMU to exit (killing it if need be) and removes its files. */
  async #gone (vmId: string, pid: number | undefined): Promise<void> {
    const paths = this.paths(vmId)
    if (pid !== undefined && !await waitForExit(pid, paths, DEFAULT_STOP_TIMEOUT_MS)) await killQemu(paths)
    await removeVmFiles(paths)
  }

  async settleOutgoing (ask: (vmId: string, move: OutgoingMove) => Promise<HandOverAnswer>): Promise<SettledMigration[]> {
    this.#requireStarted()
    const ids = await outgoingIds(this.options.dir)
    const settled: SettledMigration[] = []
    for (const id of ids) {
      if (this.#migrating.has(id)) continue
      const paths = this.paths(id)
      const move = await readOutgoing(paths)
      if (move === undefined) {
        await removeOutgoing(paths)
        settled.push({ vmId: id, move: { to: 'unknown', round: 0 }, runsOn: 'unknown', detail: `its record ${paths.outgoing} was unreadable: removed` })
        continue
      }
      const pid = await readPid(paths)
      try {
        const s = await this.#withQmp(id, async qmp => {
          const r = await settleMigration(qmp, async () => await ask(id, move))
          if (r.runsOn === 'target') await quit(qmp)
          return r
        }, DEFAULT_LIST_TIMEOUT_MS)
        if (s.runsOn === 'target') await this.#gone(id, pid)
        else if (s.runsOn === 'source') await removeOutgoing(paths)
        settled.push({ vmId: id, move, ...s })
      } catch (err) {
        // No QEMU answers for it here: whatever happened, nothing of it runs here.
        await removeOutgoing(paths)
        settled.push({ vmId: id, move, runsOn: 'unknown', detail: `no QEMU here answers for it: ${(err as Error).message}` })
      }
    }
    return settled
  }

  #requireStarted (): void {
    if (!this.#started) throw new HypervisorError('qemu driver not started')
  }

  #info (config: VmConfig, status: VmInfo['status']): VmInfo {
    return { id: config.id, status, memoryMiB: config.memoryMiB, vcpus: config.vcpus, addresses: [...config.addresses] }
  }

  async #launch (config: VmConfig, incoming: boolean): Promise<void> {
    const paths = this.paths(config.id)
    const pid = await readPid(paths)
    if (pid !== undefined && await isQemuRunning(pid, paths)) throw new HypervisorError(`VM ${config.id} already has a QEMU here (pid ${pid})`)
    await removeVmFiles(paths)
    await writeVmConfig(this.options.dir, config)
    try {
      await launchQemu({ binary: this.options.binary ?? DEFAULT_QEMU_BINARY, prefix: this.options.prefix ?? [], paths, args: config.args, incoming })
    } catch (err) {
      await this.#discard(config.id)
      throw err
    }
  }

  /** Kills the VM's QEMU if any and removes its files. */
  async #discard (vmId: string): Promise<void> {
    const paths = this.paths(vmId)
    await killQemu(paths)
    await removeVmFiles(paths)
  }

  async #describe (id: string): Promise<QemuVmInfo> {
    const config = await readVmConfig(this.options.dir, id)
    return await this.#withQmp(id, async qmp => {
      const run = await qmp.execute<{ status: string }>('query-status')
      const migration = run.status === 'inmigrate' ? undefined : (await qmp.execute<{ status?: string }>('query-migrate')).status
      // Arrived but not handed over: still the source's VM, and the room is the reservation's.
      const status = run.status === 'paused' && await this.#awaitingHandOver(id) ? 'incoming' : vmStatus(run.status, migration)
      if (config !== undefined) return { ...this.#info(config, status), args: config.args }
      // No sidecar (started by hand): ask QEMU for the size.
      const memory = await qmp.execute<{ 'base-memory': number, 'plugged-memory'?: number }>('query-memory-size-summary')
      const cpus = await qmp.execute<unknown[]>('query-cpus-fast')
      return { id, status, memoryMiB: Math.round((memory['base-memory'] + (memory['plugged-memory'] ?? 0)) / 2 ** 20), vcpus: cpus.length, addresses: [] }
    }, this.options.listTimeoutMs ?? DEFAULT_LIST_TIMEOUT_MS)
  }

  /**
   * Runs `fn` on a monitor connection to `vmId`, shared with concurrent
   * callers: a QMP monitor serves one client at a time, so list() during a
   * migration must use the migration's connection.
   */
  async #withQmp<T> (vmId: string, fn: (qmp: QmpClient) => Promise<T>, connectTimeoutMs?: number): Promise<T> {
    let entry = this.#pool.get(vmId)
    if (entry === undefined) {
      entry = { client: QmpClient.connect(this.paths(vmId).qmp, { timeoutMs: connectTimeoutMs }), users: 0 }
      this.#pool.set(vmId, entry)
    }
    const current = entry
    current.users++
    try {
      const client = await current.client
      if (client.closed) throw new HypervisorError(`QMP connection to ${vmId} closed`)
      return await fn(client)
    } finally {
      current.users--
      if (current.users === 0) {
        if (this.#pool.get(vmId) === current) this.#pool.delete(vmId)
        current.client.then(c => { c.close() }, () => undefined)
      }
    }
  }
}

/** quit: QEMU may close the socket before it answers; both mean it is exiting. */
async function quit (qmp: QmpClient): Promise<void> {
  await qmp.execute('quit').catch((err: unknown) => {
    if (!qmp.closed) throw err
  })
}

function targetUri (target: MigrationTarget): string {
  if (!isIPv6(target.address)) throw new HypervisorError(`migration target ${target.address} is not an IPv6 address`)
  if (target.port !== undefined) {
    if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) throw new HypervisorError(`migration target port ${target.port} is invalid`)
    return tcpUri(target.address, target.port)
  }
  if (target.uri !== undefined && /^tcp:\[[0-9a-fA-F:.]+\]:\d+$/.test(target.uri)) return target.uri
  throw new HypervisorError(`migration target ${JSON.stringify(target)} has neither a port nor a tcp:[addr]:port URI`)
}
