/**
 * The `lab` hypervisor: VMs are network namespaces attached to a host
 * namespace's bridge by a veth pair (see lab/ and fabric.ts). Listing asks
 * the kernel which VM vifs are in this host's namespace; migrating moves the
 * vif into the target host's namespace (`ip link set DEV netns TARGET`), plugs
 * it into the target's bridge, and points the router at the new host. The
 * VM's namespace, address, processes and sockets never move, so its
 * connections live on; only the path to it changes.
 *
 * Running inside a host's namespace: the agent runs under `ip netns exec`,
 * which gives it a private mount namespace but leaves /run/netns visible, so
 * `ip -n TARGET` and `ip link set ... netns TARGET` reach the other lab
 * namespaces by name. start() checks that they are there and says so when
 * they are not (e.g. an agent in a container with its own /run).
 *
 * Downtime is measured, not estimated: a probe in the source host's
 * namespace sends a UDP datagram to the VM's echo port every PROBE_INTERVAL_MS
 * through the router, and the longest gap between echoes is the downtime.
 * It runs in the agent's own process when the agent is in that namespace
 * (the lab's case), else as a child process entered into it.
 *
 * Here the driver is the hypervisor, so a kill -9 of its agent can stop a
 * move between its steps (vif moved, not yet wired). Each move is recorded
 * first (journal.ts); start() finishes or undoes the moves its host left
 * unfinished, so the VM is reachable on exactly one host again.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { access, stat } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { HypervisorError, type HypervisorDriver, type MigrateOptions, type MigrationResult, type MigrationTarget, type VmInfo } from '../../../agent/drivers/types.ts'
import { tool, ip } from './exec.ts'
import { EchoProbe } from './echo-probe.ts'
import { addShortcut, attachVm, moveVif, plugVif, removeShortcut, routeToHost } from './fabric.ts'
import { clearMove, recordMove, unfinishedMoves } from './journal.ts'
import { LAB_ECHO_PORT, readLabState, readVmRecords, type LabHostState, type LabState, type LabVmRecord } from './state.ts'
import { definedOnly } from '../../../lib/defined.ts'

export const PROBE_INTERVAL_MS = 2
/** How long the probe may take to see its first echo before we migrate without it. */
export const PROBE_READY_TIMEOUT_MS = 3_000
/** How long after the move we wait for echoes to come back before calling the VM unreachable. */
export const PROBE_RESUME_TIMEOUT_MS = 5_000
const URI_SCHEME = 'lab:'
const PROBE_SCRIPT = fileURLToPath(new URL('./probe.ts', import.meta.url))
const NETNS_DIR = '/run/netns'

/** What the lab hypervisor takes from the host (the daemon's DriverComponents). */
export interface LabHypervisorComponents {
  /** This host's id in lab.json. */
  host: string
  /** This host's address, given to sources in prepareIncoming. */
  address: string
}

export interface LabHypervisorInit {
  /** The lab's state directory (lab.json, vms/). */
  dir: string
}

export class LabHypervisor implements HypervisorDriver {
  readonly name = 'lab'
  private readonly init: LabHypervisorInit & LabHypervisorComponents
  private state: LabState | undefined
  private readonly inFlight = new Set<string>()
  private stopping = false

  constructor (components: LabHypervisorComponents, init: LabHypervisorInit) {
    this.init = { ...init, host: components.host, address: components.address }
  }

  async start (): Promise<void> {
    const state = await readLabState(this.init.dir)
    const me = state.hosts[this.init.host]
    if (me === undefined) throw new HypervisorError(`host ${this.init.host} is not in the lab ${this.init.dir} (hosts: ${Object.keys(state.hosts).join(', ')})`)
    for (const ns of [me.ns, state.routerNs]) {
      try { await access(`${NETNS_DIR}/${ns}`) } catch {
        throw new HypervisorError(`network namespace ${ns} is not visible at ${NETNS_DIR}/${ns}: the lab driver reaches the other hosts' namespaces by name; run the agent with \`ip netns exec\` on the lab's machine, which keeps ${NETNS_DIR} visible`)
      }
    }
    tool('ip'); tool('bridge')
    this.state = state
    this.stopping = false
    await this.recover()
  }

  /**
   * Moves this host started and never finished (its agent was killed in the
   * middle): wire each VM where its vif is now, the target (the move is
   * finished) or here (it is undone), so it is reachable again. Every step
   * is idempotent, so a move that had got further is only completed.
   */
  private async recover (): Promise<void> {
    const lab = this.lab
    const me = this.me
    for (const move of await unfinishedMoves(this.init.dir, this.init.host)) {
      const rec = (await readVmRecords(this.init.dir)).find(r => r.id === move.vm)
      const dst = lab.hosts[move.to]
      if (rec !== undefined && dst !== undefined) {
        try {
          if ((await this.interfaces(dst.ns)).has(rec.vif)) {
            await attachVm(lab, dst, rec, me)
            await removeShortcut(me, rec)
          } else if ((await this.interfaces(me.ns)).has(rec.vif)) {
            await attachVm(lab, me, rec, dst)
            await removeShortcut(dst, rec)
          } // else: moved on since (by the target's agent), and wired by that move
        } catch (err) {
          throw new HypervisorError(`could not finish the interrupted move of ${move.vm} to ${move.to}: ${(err as Error).message}`)
        }
      }
      await clearMove(this.init.dir, move.vm)
    }
  }

  async stop (): Promise<void> {
    // A move takes milliseconds and is never left half done; nothing to abort.
    this.stopping = true
  }

  private get lab (): LabState {
    if (this.state === undefined) throw new HypervisorError('lab driver used before start()')
    return this.state
  }

  private get me (): LabHostState {
    return this.lab.hosts[this.init.host]!
  }

  /** The VMs whose vif is in this host's namespace: the kernel is the truth. */
  async list (): Promise<VmInfo[]> {
    const [records, here] = await Promise.all([readVmRecords(this.init.dir), this.interfaces(this.me.ns)])
    return records.filter(r => here.has(r.vif)).map(r => ({
      id: r.id,
      status: this.inFlight.has(r.id) ? 'migrating' : 'running',
      memoryMiB: r.memoryMiB,
      vcpus: r.vcpus,
      addresses: r.addresses
    }))
  }

  private async interfaces (ns: string): Promise<Set<string>> {
    const out = JSON.parse(await ip(ns, '-j', 'link', 'show')) as Array<{ ifname: string }>
    return new Set(out.map(l => l.ifname))
  }

  async prepareIncoming (_vm: VmInfo): Promise<MigrationTarget> {
    if (this.stopping) throw new HypervisorError('stopping')
    // Nothing to start: the VM keeps running in its own namespace. The target names itself by host id.
    return { address: this.init.address, uri: `${URI_SCHEME}${this.init.host}` }
  }

  async cancelIncoming (_vmId: string): Promise<void> {}

  async migrate (vmId: string, target: MigrationTarget, _opts: MigrateOptions): Promise<MigrationResult> {
    const started = performance.now()
    const lab = this.lab
    const src = this.me
    const toId = target.uri?.startsWith(URI_SCHEME) === true ? target.uri.slice(URI_SCHEME.length) : undefined
    const dst = toId === undefined ? undefined : lab.hosts[toId]
    if (toId === undefined || dst === undefined) throw new HypervisorError(`not a lab target: ${JSON.stringify(target)}`)
    if (toId === this.init.host) throw new HypervisorError(`${vmId} is already on ${toId}`)
    if (this.stopping) return { ok: false, totalMs: 0, error: 'aborted: the agent is stopping' }
    const rec = (await readVmRecords(this.init.dir)).find(r => r.id === vmId)
    if (rec === undefined) throw new HypervisorError(`no lab VM ${vmId}`)
    if (!(await this.interfaces(src.ns)).has(rec.vif)) throw new HypervisorError(`VM ${vmId} does not run on ${this.init.host}`)
    if (this.inFlight.has(vmId)) throw new HypervisorError(`VM ${vmId} is already migrating`)
    this.inFlight.add(vmId)
    // Written before the VM is touched, removed once the move is over either way: what recover() finds after a crash.
    await recordMove(this.init.dir, { vm: vmId, from: this.init.host, to: toId, atMs: Date.now() })
    let probe: OutageProbe | undefined
    try {
      probe = await startProbe(src.ns, rec.addresses[0]!)
      // Same-host peers on the source reach the VM through the router from now on: no gap for them.
      await removeShortcut(src, rec)
      try {
        await moveVif(src, dst, rec)
      } catch (err) {
        await addShortcut(src, rec).catch(() => undefined)
        return { ok: false, totalMs: performance.now() - started, error: `moving ${rec.vif} to ${dst.ns} failed: ${(err as Error).message}` }
      }
      try {
        // The outage lasts from the move until the vif is plugged in and the router points at its new host.
        await Promise.all([plugVif(dst, rec), routeToHost(lab, dst, rec, src)])
        await addShortcut(dst, rec)
      } catch (err) {
        // The vif is in the target's namespace but not wired: bring it home so the VM stays reachable.
        const detail = (err as Error).message
        await this.rollback(dst, src, rec)
        return { ok: false, totalMs: performance.now() - started, error: `wiring ${vmId} at ${toId} failed, moved back: ${detail}` }
      }
      const outage = await probe.finish()
      return {
        ok: true,
        totalMs: Math.round(performance.now() - started),
        ...definedOnly({ downtimeMs: outage }),
        // Nothing is copied: the VM's memory stays where it is.
        bytes: 0
      }
    } finally {
      probe?.kill()
      this.inFlight.delete(vmId)
      await clearMove(this.init.dir, vmId)
    }
  }

  private async rollback (dst: LabHostState, src: LabHostState, rec: LabVmRecord): Promise<void> {
    try {
      await moveVif(dst, src, rec)
      await attachVm(this.lab, src, rec, dst)
      await removeShortcut(dst, rec).catch(() => undefined)
    } catch { /* list() reports where the vif ended up; the agent reconciles from that */ }
  }
}

/** Watches a VM's echoes across a move; finish() gives the outage in ms, when it could be measured. */
interface OutageProbe {
  finish (): Promise<number | undefined>
  kill (): void
}

async function startProbe (ns: string, address: string): Promise<OutageProbe> {
  const probe = await sameNetns(ns) ? new InProcessProbe(address) : ChildProbe.start(ns, address)
  await probe.ready(PROBE_READY_TIMEOUT_MS)
  return probe
}

/** Is this process in the named network namespace? */
async function sameNetns (ns: string): Promise<boolean> {
  try {
    const [mine, named] = await Promise.all([stat('/proc/self/ns/net'), stat(`${NETNS_DIR}/${ns}`)])
    return mine.dev === named.dev && mine.ino === named.ino
  } catch {
    return false
  }
}

class InProcessProbe implements OutageProbe {
  private readonly probe: EchoProbe
  constructor (address: string) {
    this.probe = new EchoProbe(address, LAB_ECHO_PORT, PROBE_INTERVAL_MS)
  }

  async ready (ms: number): Promise<boolean> {
    return this.probe.ready(ms)
  }

  async finish (): Promise<number | undefined> {
    if (!this.probe.isReady) return undefined
    this.probe.mark()
    const resumed = await this.probe.resumed(PROBE_RESUME_TIMEOUT_MS)
    const summary = this.probe.stop()
    return resumed ? summary.maxGapMs : undefined
  }

  kill (): void {
    this.probe.stop()
  }
}

/** probe.ts in the source host's namespace, and its line protocol. */
class ChildProbe implements OutageProbe {
  private readonly lines: string[] = []
  private readonly waiters: Array<() => void> = []
  private readonly child: ChildProcess | undefined
  private constructor (child: ChildProcess | undefined) {
    this.child = child
    if (child === undefined) return
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.lines.push(line)
      for (const w of this.waiters.splice(0)) w()
    })
    child.on('exit', () => { for (const w of this.waiters.splice(0)) w() })
  }

  static start (ns: string, address: string): ChildProbe {
    try {
      const child = spawn(tool('ip'), ['netns', 'exec', ns, process.execPath, '--disable-warning=ExperimentalWarning', PROBE_SCRIPT, address, String(LAB_ECHO_PORT), String(PROBE_INTERVAL_MS)], { stdio: ['pipe', 'pipe', 'ignore'] })
      child.on('error', () => {})
      child.stdin?.on('error', () => {})
      return new ChildProbe(child)
    } catch {
      return new ChildProbe(undefined)
    }
  }

  async ready (ms: number): Promise<boolean> {
    return (await this.waitFor(l => l === 'ready', ms)) !== undefined
  }

  private async waitFor (match: (line: string) => boolean, ms: number): Promise<string | undefined> {
    const end = performance.now() + ms
    for (;;) {
      const hit = this.lines.find(match)
      if (hit !== undefined) return hit
      if (this.child === undefined || this.child.exitCode !== null || performance.now() > end) return undefined
      await new Promise<void>(resolve => {
        const t = setTimeout(resolve, Math.max(1, end - performance.now()))
        this.waiters.push(() => { clearTimeout(t); resolve() })
      })
    }
  }

  async finish (): Promise<number | undefined> {
    if (this.child === undefined || !this.lines.includes('ready')) return undefined
    this.child.stdin?.write('mark\n')
    const resumed = await this.waitFor(l => l === 'resumed', PROBE_RESUME_TIMEOUT_MS)
    this.child.stdin?.write('end\n')
    const summary = await this.waitFor(l => l.startsWith('{'), 2_000)
    if (resumed === undefined || summary === undefined) return undefined
    return (JSON.parse(summary) as { maxGapMs: number }).maxGapMs
  }

  kill (): void {
    if (this.child !== undefined && this.child.exitCode === null) this.child.kill('SIGKILL')
  }
}
