/**
 * Bench instances: the scenario generator's VMs, traffic and links, on small
 * hosts (2-4 per DC) with little spare room, so capacity binds and a DC's
 * room is split across hosts. The generator sizes hosts at 64 GiB, which
 * gives one host per DC at these sizes; rather than change it, we resize the
 * hosts here and re-place the VMs (seeded random first fit, as it does).
 * Link capacities keep the generator's scale; ratios do not depend on it.
 */
import { compile, type Instance } from '../../../lib/instance.ts'
import type { Host, Snapshot } from '../../../lib/model.ts'
import { Random } from '../../../lib/random.ts'
import { generate, type ScenarioKind } from '../../../lib/scenario.ts'

export interface BenchCase {
  kind: ScenarioKind
  seed: number
  vms: number
  dcs: number
  /** Host capacity over VM demand (the binding of memory and vCPUs). */
  slack: number
  hostsPerDc: number
  inst: Instance
}

/** Largest VM in the generator: a host must take it. */
const MIN_HOST_MIB = 8192
const MIN_HOST_VCPUS = 4
/** Aim for hosts of about this size, so DCs have several. */
const TARGET_HOST_MIB = 16384

export function benchCase (kind: ScenarioKind, vms: number, dcs: number, seed: number, slack: number): BenchCase {
  const base = generate(kind, { vms, dcs, seed, slack: 2 })
  // Room grows by 5% until a random first fit succeeds (rarely needed).
  for (let s = slack; ; s += 0.05) {
    const snap = resize(base, dcs, s, seed)
    if (snap !== undefined) {
      return { kind, seed, vms, dcs, slack: s, hostsPerDc: snap.hosts.length / dcs, inst: compile(snap) }
    }
  }
}

function resize (base: Snapshot, nDc: number, slack: number, seed: number): Snapshot | undefined {
  const mem = base.vms.reduce((s, v) => s + v.memoryMiB, 0) * slack / nDc
  const cpu = base.vms.reduce((s, v) => s + v.vcpus, 0) * slack / nDc
  const perDc = Math.min(4, Math.max(2, Math.round(mem / TARGET_HOST_MIB)))
  const hostMem = Math.max(MIN_HOST_MIB, Math.ceil(mem / perDc / 1024) * 1024)
  const hostCpu = Math.max(MIN_HOST_VCPUS, Math.ceil(cpu / perDc))
  const hosts: Host[] = []
  for (const dc of base.dcs) {
    for (let k = 0; k < perDc; k++) hosts.push({ id: `${dc.id}-h${k}`, dc: dc.id, memoryMiB: hostMem, vcpus: hostCpu })
  }
  for (let attempt = 0; attempt < 20; attempt++) {
    const placed = place(new Random(seed * 1009 + attempt), base, hosts)
    if (placed !== undefined) return { ...base, hosts, vms: placed }
  }
  return undefined
}

/** A VM goes to the first host with room from a random start (like the generator). */
function place (rng: Random, base: Snapshot, hosts: Host[]): Snapshot['vms'] | undefined {
  const free = hosts.map(h => ({ mem: h.memoryMiB, cpu: h.vcpus }))
  const out: Snapshot['vms'] = []
  for (const vm of base.vms) {
    const start = rng.int(0, hosts.length - 1)
    let host = ''
    for (let k = 0; k < hosts.length && host === ''; k++) {
      const h = (start + k) % hosts.length
      if (free[h]!.mem >= vm.memoryMiB && free[h]!.cpu >= vm.vcpus) {
        free[h]!.mem -= vm.memoryMiB; free[h]!.cpu -= vm.vcpus; host = hosts[h]!.id
      }
    }
    if (host === '') return undefined
    out.push({ ...vm, host })
  }
  return out
}
