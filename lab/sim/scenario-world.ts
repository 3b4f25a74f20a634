/**
 * A sim world for N agents from a lib/scenario.ts snapshot: the scenario's
 * DCs, links, prefixes, VMs and flows, with its hosts replaced by N agent
 * hosts spread over the DCs. Every VM stays in its DC (so the starting cost
 * is the scenario's) and is dealt round-robin to that DC's agents; every
 * host gets the same capacity, the fullest host's load plus slack, so moves
 * have room to land.
 */
import { generate, type ScenarioKind } from '../../lib/scenario.ts'
import type { Topology } from '../../lib/topology.ts'
import type { SimTraffic, SimVm } from '../drivers/sim-host/world.ts'

export const DEFAULT_SIM_DCS = 4
export const DEFAULT_SIM_SEED = 1
export const DEFAULT_SIM_KIND: ScenarioKind = 'thesis'
/** Host capacity as a multiple of the fullest host's VMs. */
export const DEFAULT_HOST_SLACK = 1.5
const MEMORY_UNIT_MIB = 1024

export interface SimHostSpec { host: string, dc: string, memoryMiB: number, vcpus: number }

/** What a cluster runs on: topology, hosts (one agent each), VMs, traffic. */
export interface SimWorldSpec {
  topology: Topology
  hosts: SimHostSpec[]
  vms: SimVm[]
  traffic: SimTraffic
}

export interface ScenarioWorldOptions {
  agents: number
  vms: number
  dcs?: number
  seed?: number
  kind?: ScenarioKind
  slack?: number
}

export function worldFromScenario (opts: ScenarioWorldOptions): SimWorldSpec {
  if (!Number.isInteger(opts.agents) || opts.agents < 1) throw new RangeError(`agents must be a positive integer, got ${opts.agents}`)
  // Every DC needs an agent to hold its VMs.
  const nDc = Math.min(opts.dcs ?? DEFAULT_SIM_DCS, opts.agents)
  const snap = generate(opts.kind ?? DEFAULT_SIM_KIND, { vms: opts.vms, dcs: nDc, seed: opts.seed ?? DEFAULT_SIM_SEED })
  const dcOfHost = new Map(snap.hosts.map(h => [h.id, h.dc]))
  const hostsByDc = new Map<string, string[]>(snap.dcs.map(d => [d.id, []]))
  const names: Array<{ host: string, dc: string }> = []
  for (let i = 0; i < opts.agents; i++) {
    const dc = snap.dcs[i % nDc]!.id
    const list = hostsByDc.get(dc)!
    const host = `${dc}-a${list.length}`
    list.push(host)
    names.push({ host, dc })
  }
  const dealt = new Map<string, number>()
  const load = new Map<string, { memoryMiB: number, vcpus: number }>(names.map(n => [n.host, { memoryMiB: 0, vcpus: 0 }]))
  const vms: SimVm[] = snap.vms.map(v => {
    const dc = dcOfHost.get(v.host)!
    const list = hostsByDc.get(dc)!
    const k = dealt.get(dc) ?? 0
    dealt.set(dc, k + 1)
    const host = list[k % list.length]!
    const l = load.get(host)!
    l.memoryMiB += v.memoryMiB
    l.vcpus += v.vcpus
    return { id: v.id, host, memoryMiB: v.memoryMiB, vcpus: v.vcpus, addresses: v.addresses, ...(v.pinned === true ? { pinned: true } : {}) }
  })
  const slack = opts.slack ?? DEFAULT_HOST_SLACK
  const fullest = [...load.values()].reduce((m, l) => ({ memoryMiB: Math.max(m.memoryMiB, l.memoryMiB), vcpus: Math.max(m.vcpus, l.vcpus) }), { memoryMiB: 0, vcpus: 0 })
  const memoryMiB = Math.max(MEMORY_UNIT_MIB, Math.ceil(fullest.memoryMiB * slack / MEMORY_UNIT_MIB) * MEMORY_UNIT_MIB)
  const vcpus = Math.max(1, Math.ceil(fullest.vcpus * slack))
  return {
    topology: { dcs: snap.dcs, links: snap.links, prefixes: snap.prefixes },
    hosts: names.map(n => ({ ...n, memoryMiB, vcpus })),
    vms,
    traffic: { flows: snap.flows, prefixes: snap.prefixes.map(p => ({ id: p.id, prefix: p.prefix })) }
  }
}
