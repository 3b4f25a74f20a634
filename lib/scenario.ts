/**
 * Seeded scenario generators. Each returns a valid snapshot; the same
 * (kind, options) always gives the same snapshot.
 *
 * - thesis:    the thesis's simulation setup (5.1.1): a few DCs fully meshed
 *              by WAN links that N VMs' traffic dominates; VMs belong to small
 *              applications scattered across DCs, plus background chatter.
 * - clustered: larger groups that talk mostly among themselves, scattered,
 *              with little spare capacity (where Algorithm 1 gets stuck).
 * - web:       client-heavy web tiers: web VMs serve clients behind external
 *              prefixes (one per DC) and talk to a database VM.
 */
import type { ExternalPrefix, Flow, Host, Link, Snapshot, Vm } from './model.ts'
import { SNAPSHOT_VERSION } from './model.ts'
import { Random } from './random.ts'

export const SCENARIO_KINDS = ['thesis', 'clustered', 'web'] as const
export type ScenarioKind = typeof SCENARIO_KINDS[number]

export interface ScenarioOptions {
  vms: number
  dcs?: number
  seed?: number
  /** Host memory as a multiple of all VMs' memory (1.25 = 25% spare). */
  slack?: number
}

const HOST_MEMORY_MIB = 65536
const HOST_VCPUS = 64
const VM_SIZES = [
  { memoryMiB: 1024, vcpus: 1 },
  { memoryMiB: 2048, vcpus: 2 },
  { memoryMiB: 4096, vcpus: 2 },
  { memoryMiB: 8192, vcpus: 4 }
] as const

export function generate (kind: ScenarioKind, opts: ScenarioOptions): Snapshot {
  const rng = new Random(opts.seed ?? 1)
  const nDc = opts.dcs ?? 4
  switch (kind) {
    case 'thesis': return build(rng, nDc, opts.vms, opts.slack ?? 1.25, (g) => g.apps(2, 8, 0.15))
    case 'clustered': return build(rng, nDc, opts.vms, opts.slack ?? 1.1, (g) => g.apps(6, 16, 0.02))
    case 'web': return build(rng, nDc, opts.vms, opts.slack ?? 1.25, (g) => g.webTiers())
  }
}

/** Collects VMs and flows; the traffic shape is chosen by the caller. */
class Builder {
  readonly vms: Vm[] = []
  readonly flows: Flow[] = []
  readonly prefixes: ExternalPrefix[] = []
  readonly rng: Random
  readonly nVm: number
  readonly nDc: number
  constructor (rng: Random, nVm: number, nDc: number) {
    this.rng = rng
    this.nVm = nVm
    this.nDc = nDc
  }

  vm (group: string): number {
    const i = this.vms.length
    const size = this.rng.pick(VM_SIZES)
    this.vms.push({ id: `vm${i}`, host: '', addresses: [vmAddress(i)], memoryMiB: size.memoryMiB, vcpus: size.vcpus, group })
    return i
  }

  /** Applications of lo..hi VMs talking within; `chatter` of the traffic goes anywhere. */
  apps (lo: number, hi: number, chatter: number): void {
    const rng = this.rng
    let app = 0
    while (this.vms.length < this.nVm) {
      const size = Math.min(rng.int(lo, hi), this.nVm - this.vms.length)
      const members = Array.from({ length: size }, () => this.vm(`app${app}`))
      const intensity = rng.lognormal(20e6, 1)
      for (const a of members) {
        // Each member talks to up to 4 others in its app (both ways).
        for (let k = 0; k < Math.min(4, size - 1); k++) {
          const b = rng.pick(members)
          if (b === a) continue
          this.flow(`vm${a}`, `vm${b}`, intensity * rng.lognormal(1, 0.5))
        }
      }
      app++
    }
    const chatterFlows = Math.ceil(this.vms.length * chatter)
    for (let k = 0; k < chatterFlows; k++) {
      const a = this.rng.int(0, this.vms.length - 1); const b = this.rng.int(0, this.vms.length - 1)
      if (a !== b) this.flow(`vm${a}`, `vm${b}`, this.rng.lognormal(2e6, 1))
    }
  }

  /** Web tiers: 1 database + web VMs; clients mostly enter at one DC per app. */
  webTiers (): void {
    const rng = this.rng
    for (let d = 0; d < this.nDc; d++) this.prefixes.push({ id: `clients-dc${d}`, prefix: `2001:db8:${d.toString(16)}::/48`, dc: `dc${d}` })
    let app = 0
    while (this.vms.length < this.nVm) {
      const db = this.vm(`web${app}`)
      const webs = Array.from({ length: Math.min(rng.int(2, 6), Math.max(0, this.nVm - this.vms.length)) }, () => this.vm(`web${app}`))
      const home = rng.int(0, this.nDc - 1)
      for (const w of webs) {
        const clients = rng.lognormal(30e6, 0.7)
        for (let d = 0; d < this.nDc; d++) {
          const share = d === home ? 0.7 : 0.3 / Math.max(1, this.nDc - 1)
          this.flow(`clients-dc${d}`, `vm${w}`, clients * share * 0.2)
          this.flow(`vm${w}`, `clients-dc${d}`, clients * share)
        }
        const q = rng.lognormal(8e6, 0.5)
        this.flow(`vm${w}`, `vm${db}`, q * 0.3)
        this.flow(`vm${db}`, `vm${w}`, q)
      }
      app++
    }
  }

  flow (src: string, dst: string, bps: number): void {
    this.flows.push({ src, dst, bps: Math.round(bps) })
  }
}

function build (rng: Random, nDc: number, nVm: number, slack: number, shape: (b: Builder) => void): Snapshot {
  const b = new Builder(rng, nVm, nDc)
  shape(b)
  const dcs = Array.from({ length: nDc }, (_, d) => ({ id: `dc${d}` }))
  const totalMemory = b.vms.reduce((s, v) => s + v.memoryMiB, 0)
  const hostsPerDc = Math.max(1, Math.ceil(totalMemory * slack / HOST_MEMORY_MIB / nDc))
  const hosts: Host[] = []
  for (let d = 0; d < nDc; d++) {
    for (let k = 0; k < hostsPerDc; k++) hosts.push({ id: `dc${d}-h${k}`, dc: `dc${d}`, memoryMiB: HOST_MEMORY_MIB, vcpus: HOST_VCPUS })
  }
  placeRandomly(rng, b.vms, hosts)
  // Links: full mesh; capacities vary so some links are the bottleneck, and
  // are scaled so the initial traffic loads them to about 1 on average.
  const links: Link[] = []
  for (let a = 0; a < nDc; a++) {
    for (let c = 0; c < nDc; c++) if (a !== c) links.push({ from: `dc${a}`, to: `dc${c}`, capacityBps: rng.pick([1, 2, 5, 10]), latencyMs: rng.int(10, 150), pricePerGB: rng.pick([0.01, 0.02, 0.05]) })
  }
  const crossBps = crossTraffic(b, hosts)
  const meanUnit = links.reduce((s, l) => s + l.capacityBps, 0) / links.length
  const scale = Math.max(1, crossBps / links.length / meanUnit)
  for (const l of links) l.capacityBps = Math.round(l.capacityBps * scale)
  return { version: SNAPSHOT_VERSION, dcs, links, hosts, vms: b.vms, prefixes: b.prefixes, flows: b.flows }
}

/** Random first-fit placement: a VM goes to a random host with room. */
function placeRandomly (rng: Random, vms: Vm[], hosts: Host[]): void {
  const free = hosts.map(h => ({ mem: h.memoryMiB, cpu: h.vcpus }))
  for (const vm of vms) {
    const start = rng.int(0, hosts.length - 1)
    for (let k = 0; k < hosts.length; k++) {
      const h = (start + k) % hosts.length
      if (free[h]!.mem >= vm.memoryMiB && free[h]!.cpu >= vm.vcpus) {
        free[h]!.mem -= vm.memoryMiB; free[h]!.cpu -= vm.vcpus; vm.host = hosts[h]!.id
        break
      }
    }
    if (vm.host === '') throw new Error('scenario: hosts too small for the VMs (raise slack)')
  }
}

/** Bit/s that crosses DCs in the initial placement (any route). */
function crossTraffic (b: Builder, hosts: Host[]): number {
  const hostDc = new Map(hosts.map(h => [h.id, h.dc]))
  const dcOf = new Map<string, string>()
  for (const v of b.vms) dcOf.set(v.id, hostDc.get(v.host)!)
  for (const p of b.prefixes) dcOf.set(p.id, p.dc)
  let sum = 0
  for (const f of b.flows) if (dcOf.get(f.src) !== dcOf.get(f.dst)) sum += f.bps
  return sum
}

/** fd00:ee::/64 with the VM's index in the low 32 bits. */
function vmAddress (i: number): string {
  return `fd00:ee::${((i + 1) >>> 16).toString(16)}:${((i + 1) & 0xffff).toString(16)}`
}
