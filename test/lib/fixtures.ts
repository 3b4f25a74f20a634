/** Small hand-made snapshots for the lib tests. */
import type { Instance } from '../../lib/instance.ts'
import type { Flow, Host, Link, Plan, Snapshot, Vm } from '../../lib/model.ts'

/** A full mesh of `dcs` with every link at `capacity` bit/s. */
export function mesh (dcs: string[], capacity: number, extra: Partial<Link> = {}): Link[] {
  const links: Link[] = []
  for (const a of dcs) for (const b of dcs) if (a !== b) links.push({ from: a, to: b, capacityBps: capacity, ...extra })
  return links
}

export function snapshot (parts: { dcs: string[], links: Link[], hosts: Host[], vms: Array<Omit<Vm, 'addresses'> & { addresses?: string[] }>, flows: Flow[], prefixes?: Snapshot['prefixes'] }): Snapshot {
  return {
    version: 1,
    dcs: parts.dcs.map(id => ({ id })),
    links: parts.links,
    hosts: parts.hosts,
    vms: parts.vms.map((v, i) => ({ addresses: [`fd00::${i + 1}`], ...v })),
    prefixes: parts.prefixes ?? [],
    flows: parts.flows
  }
}

/**
 * The worked example for Algorithm 1 (docs/planner.md, "`thesis`: Algorithm 1"): three
 * DCs, six links of 100 bit/s, B's only host holds three small VMs.
 */
export function workedExample (): Snapshot {
  return snapshot({
    dcs: ['A', 'B', 'C'],
    links: mesh(['A', 'B', 'C'], 100),
    hosts: [
      { id: 'a1', dc: 'A', memoryMiB: 4096, vcpus: 8 },
      { id: 'b1', dc: 'B', memoryMiB: 3072, vcpus: 8 },
      { id: 'c1', dc: 'C', memoryMiB: 2048, vcpus: 8 }
    ],
    vms: [
      { id: 'v1', host: 'a1', memoryMiB: 1024, vcpus: 1 },
      { id: 'v2', host: 'b1', memoryMiB: 1024, vcpus: 1 },
      { id: 'v3', host: 'b1', memoryMiB: 1024, vcpus: 1 },
      { id: 'v4', host: 'c1', memoryMiB: 1024, vcpus: 1 }
    ],
    flows: [
      { src: 'v1', dst: 'v2', bps: 60 },
      { src: 'v2', dst: 'v1', bps: 20 },
      { src: 'v1', dst: 'v3', bps: 30 },
      { src: 'v3', dst: 'v4', bps: 10 }
    ]
  })
}

/** Asserts-friendly float comparison: equal to 1e-9 relative. */
export function near (a: number, b: number, rel = 1e-9): boolean {
  return Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b))
}

/** Final hosts of a plan, or a reason it cannot run: a VM moved twice, a pinned VM moved, a host overfilled. */
export function runPlan (inst: Instance, plan: Plan): Int32Array | string {
  const hostOf = Int32Array.from(inst.vmHost)
  const vm = new Map(inst.vmIds.map((id, i) => [id, i])); const host = new Map(inst.hostIds.map((id, i) => [id, i]))
  const mem = new Float64Array(inst.nHost); const cpu = new Float64Array(inst.nHost)
  hostOf.forEach((h, v) => { mem[h]! += inst.vmMemory[v]!; cpu[h]! += inst.vmVcpus[v]! })
  const seen = new Set<number>()
  for (const m of plan.moves) {
    const v = vm.get(m.vm)!; const a = host.get(m.from)!; const b = host.get(m.to)!
    if (seen.has(v)) return `${m.vm} moves twice`
    if (inst.vmPinned[v] === 1) return `pinned ${m.vm} moved`
    if (hostOf[v] !== a) return `${m.vm} is not on ${m.from}`
    seen.add(v)
    mem[a]! -= inst.vmMemory[v]!; cpu[a]! -= inst.vmVcpus[v]!; mem[b]! += inst.vmMemory[v]!; cpu[b]! += inst.vmVcpus[v]!
    if (mem[b]! > inst.hostMemory[b]! || cpu[b]! > inst.hostVcpus[b]!) return `${m.to} overfull after ${m.vm}`
    hostOf[v] = b
  }
  return hostOf
}
