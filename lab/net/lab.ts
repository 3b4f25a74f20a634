/**
 * The lab network, Mininet style: describe it (addDc, addHost, addLink,
 * addExternal, or fromTopology), start() builds it, addVm() puts VMs on
 * hosts, stop() removes it all.
 *
 *              ext-A        ext-B               client networks (one per prefix)
 *                |            |
 *   host ──┐  ┌──┴── dc0 ─────┴─ dc1 ──┐  ┌── host        router namespace: one
 *   host ──┼──┤   (bridges + routing,   ├──┼── host       bridge per DC, htb per
 *          │  └── dc2 ──────── dc3 ─────┘  │              destination bridge
 *         ...                             ...
 *   each host: br0 = uplink + VM vifs; each VM: its own namespace
 *
 * One router for the whole star (not per-DC routers and a core): a VM's
 * move is then one host route on one router, and every WAN direction is
 * one htb class.
 */
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { LAB_STATE_FILE, LAB_STATE_VERSION, VM_RECORD_DIR, writeJsonAtomic, type LabState, type LabVmRecord } from '../drivers/lab-host/state.ts'
import { createVm } from '../vm/vm.ts'
import { externalAddress, externalMac, hostAddress, ROUTER_MAC, vmAddress, vmMac } from './addresses.ts'
import { labDown } from './down.ts'
import { buildExternal } from './external.ts'
import { buildHost } from './host.ts'
import { checkLabPrefix, dcBridge, defaultLabDir, DEFAULT_LAB_PREFIX, externalNs, externalPort, hostNs, hostPort, routerNs, vifName, vmNs } from './names.ts'
import { buildRouter, setCuts } from './router.ts'
import type { ShapedLink } from './shaping.ts'
import { DEFAULT_VM_PREFIX, type LabExternal, type LabHost, type LabLink, type LabTopology } from './topology.ts'

/** Hosts and externals built at once: enough to overlap forks, few enough for two cores. */
const BUILD_PARALLELISM = 4

export interface LabOptions {
  prefix?: string
  dir?: string
}

export interface VmSpec {
  id: string
  host: string
  memoryMiB: number
  vcpus: number
  /** Default: the next address of the VM prefix. */
  address?: string
}

export class Lab {
  readonly prefix: string
  readonly dir: string
  vmPrefix = DEFAULT_VM_PREFIX
  readonly dcs: string[] = []
  readonly hosts: LabHost[] = []
  readonly links: LabLink[] = []
  readonly externals: LabExternal[] = []
  readonly vms = new Map<string, LabVmRecord>()
  private built: LabState | undefined
  private readonly cut = new Set<string>()
  /** DCs split into sides that cannot reach each other ([]: no partition). */
  private sides: string[][] = []

  constructor (opts: LabOptions = {}) {
    this.prefix = checkLabPrefix(opts.prefix ?? DEFAULT_LAB_PREFIX)
    this.dir = opts.dir ?? defaultLabDir(this.prefix)
  }

  static fromTopology (t: LabTopology, opts: LabOptions = {}): Lab {
    const lab = new Lab(opts)
    lab.vmPrefix = t.vmPrefix
    for (const d of t.dcs) {
      lab.addDc(d.id)
      for (const h of d.hosts) lab.addHost(h.id, d.id, h)
    }
    for (const l of t.links) lab.addLink(l.from, l.to, l.capacityBps)
    for (const e of t.externals) lab.addExternal(e.id, e.prefix, e.dc)
    return lab
  }

  addDc (id: string): this {
    this.dcs.push(id)
    return this
  }

  addHost (id: string, dc: string, size: { memoryMiB: number, vcpus: number }): this {
    this.hosts.push({ id, dc, memoryMiB: size.memoryMiB, vcpus: size.vcpus })
    return this
  }

  /** A WAN direction `from` -> `to` limited to `bps`; `both` adds the reverse too. */
  addLink (from: string, to: string, bps: number, opts: { both?: boolean } = {}): this {
    this.links.push({ from, to, capacityBps: bps })
    if (opts.both === true) this.links.push({ from: to, to: from, capacityBps: bps })
    return this
  }

  addExternal (id: string, prefix: string, dc: string): this {
    this.externals.push({ id, prefix, dc })
    return this
  }

  get state (): LabState {
    if (this.built === undefined) throw new Error('the lab is not started')
    return this.built
  }

  dcIndex (dc: string): number {
    const i = this.dcs.indexOf(dc)
    if (i < 0) throw new Error(`no DC ${dc}`)
    return i
  }

  /** The WAN directions with DC numbers, as the router shapes them. */
  shapedLinks (): ShapedLink[] {
    return this.links.map(l => ({ from: this.dcIndex(l.from), to: this.dcIndex(l.to), capacityBps: l.capacityBps }))
  }

  bridges (): string[] {
    return this.dcs.map((_, i) => dcBridge(i))
  }

  externalAddress (id: string): string {
    const e = this.externals.find(x => x.id === id)
    if (e === undefined) throw new Error(`no external ${id}`)
    return externalAddress(e.prefix)
  }

  externalNs (id: string): string {
    return externalNs(this.prefix, id)
  }

  /** Builds the network; a lab left over under the same prefix is removed first. */
  async start (): Promise<LabState> {
    await labDown(this.prefix)
    await rm(join(this.dir, VM_RECORD_DIR), { recursive: true, force: true })
    await rm(join(this.dir, LAB_STATE_FILE), { force: true })
    await mkdir(join(this.dir, VM_RECORD_DIR), { recursive: true })
    const router = routerNs(this.prefix)
    await buildRouter(router, this.bridges(), this.shapedLinks())
    const state: LabState = { version: LAB_STATE_VERSION, prefix: this.prefix, routerNs: router, routerMac: ROUTER_MAC, vmPrefix: this.vmPrefix, hosts: {} }
    const perDc = new Map<string, number>()
    const jobs: Array<() => Promise<void>> = []
    this.hosts.forEach((h, i) => {
      const dc = this.dcIndex(h.dc)
      const k = perDc.get(h.dc) ?? 0
      perDc.set(h.dc, k + 1)
      const wiring = { ns: hostNs(this.prefix, h.id), routerNs: router, routerPort: hostPort(i), dcBridge: dcBridge(dc), dc, address: hostAddress(dc, k) }
      state.hosts[h.id] = { ns: wiring.ns, dc: h.dc, dcBridge: wiring.dcBridge, routerPort: wiring.routerPort, address: wiring.address }
      jobs.push(async () => buildHost(wiring))
    })
    this.externals.forEach((e, i) => {
      jobs.push(async () => buildExternal({
        ns: externalNs(this.prefix, e.id), routerNs: router, routerPort: externalPort(i), dcBridge: dcBridge(this.dcIndex(e.dc)),
        prefix: e.prefix, address: externalAddress(e.prefix), mac: externalMac(i)
      }))
    })
    await parallel(jobs, BUILD_PARALLELISM)
    await writeJsonAtomic(join(this.dir, LAB_STATE_FILE), state)
    this.built = state
    return state
  }

  /** Creates VMs on their hosts (after start). */
  async addVms (specs: readonly VmSpec[]): Promise<LabVmRecord[]> {
    const state = this.state
    const base = this.vms.size
    const recs = specs.map((s, k) => ({
      spec: s,
      rec: {
        id: s.id,
        ns: vmNs(this.prefix, s.id),
        vif: vifName(base + k),
        mac: vmMac(base + k),
        addresses: [s.address ?? vmAddress(this.vmPrefix, base + k)],
        memoryMiB: s.memoryMiB,
        vcpus: s.vcpus
      }
    }))
    for (const { rec } of recs) {
      if (this.vms.has(rec.id)) throw new Error(`VM ${rec.id} exists`)
      this.vms.set(rec.id, rec)
    }
    await parallel(recs.map(({ spec, rec }) => async () => createVm(this.dir, state, spec.host, rec)), BUILD_PARALLELISM)
    return recs.map(r => r.rec)
  }

  async addVm (spec: VmSpec): Promise<LabVmRecord> {
    return (await this.addVms([spec]))[0]!
  }

  /** Cuts DC `dc` off the WAN, or restores it. */
  async setCut (dc: string, cut: boolean): Promise<void> {
    if (cut) this.cut.add(dc); else this.cut.delete(dc)
    await this.applyCuts()
  }

  /** Splits the DCs into sides that cannot reach each other (each DC on one side); undefined heals the split. */
  async setPartition (sides: string[][] | undefined): Promise<void> {
    const all = (sides ?? []).flat()
    for (const dc of all) this.dcIndex(dc)
    if (new Set(all).size !== all.length) throw new Error(`a DC is on two sides: ${JSON.stringify(sides)}`)
    this.sides = sides ?? []
    await this.applyCuts()
  }

  private async applyCuts (): Promise<void> {
    const bridge = (d: string): string => dcBridge(this.dcIndex(d))
    await setCuts(this.state.routerNs, [...this.cut].map(bridge), this.sides.map(side => side.map(bridge)))
  }

  async stop (): Promise<void> {
    await labDown(this.prefix)
    this.built = undefined
  }
}

/** Runs jobs with at most `n` at once; the first failure rejects after all have settled. */
export async function parallel (jobs: ReadonlyArray<() => Promise<void>>, n: number): Promise<void> {
  const queue = [...jobs]
  const errors: unknown[] = []
  await Promise.all(Array.from({ length: Math.min(n, queue.length) }, async () => {
    for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
      try { await job() } catch (err) { errors.push(err) }
    }
  }))
  if (errors.length > 0) throw errors[0]
}
