/**
 * Where the VMs are, asked of the kernel (which host namespace holds each
 * VM's vif), and the invariants a run must keep: every VM on exactly one
 * host, no host over its memory or vCPUs.
 */
import { ip } from '../drivers/lab-host/exec.ts'
import type { LabState, LabVmRecord } from '../drivers/lab-host/state.ts'
import type { LabHost } from '../net/topology.ts'

/** vm id -> the hosts its vif is in (exactly one when all is well). */
export async function locateVms (state: LabState, vms: readonly LabVmRecord[]): Promise<Map<string, string[]>> {
  const byVif = new Map(vms.map(v => [v.vif, v.id]))
  const out = new Map<string, string[]>(vms.map(v => [v.id, []]))
  await Promise.all(Object.entries(state.hosts).map(async ([host, h]) => {
    const links = JSON.parse(await ip(h.ns, '-j', 'link', 'show')) as Array<{ ifname: string }>
    for (const l of links) {
      const vm = byVif.get(l.ifname)
      if (vm !== undefined) out.get(vm)!.push(host)
    }
  }))
  return out
}

export interface PlacementCheck {
  ok: boolean
  problems: string[]
  /** vm -> host, for the VMs on exactly one host. */
  hostOf: Record<string, string>
  /** host -> memory and vCPUs in use. */
  used: Record<string, { memoryMiB: number, vcpus: number }>
}

export function checkPlacement (where: ReadonlyMap<string, string[]>, vms: readonly LabVmRecord[], hosts: readonly LabHost[]): PlacementCheck {
  const problems: string[] = []
  const hostOf: Record<string, string> = {}
  const used: Record<string, { memoryMiB: number, vcpus: number }> = Object.fromEntries(hosts.map(h => [h.id, { memoryMiB: 0, vcpus: 0 }]))
  for (const vm of vms) {
    const at = where.get(vm.id) ?? []
    if (at.length !== 1) { problems.push(`${vm.id} is on ${at.length} hosts${at.length > 0 ? ` (${at.join(', ')})` : ''}`); continue }
    hostOf[vm.id] = at[0]!
    const u = used[at[0]!]!
    u.memoryMiB += vm.memoryMiB
    u.vcpus += vm.vcpus
  }
  for (const h of hosts) {
    const u = used[h.id]!
    if (u.memoryMiB > h.memoryMiB || u.vcpus > h.vcpus) problems.push(`${h.id} is over capacity: ${u.memoryMiB}/${h.memoryMiB} MiB, ${u.vcpus}/${h.vcpus} vCPUs`)
  }
  return { ok: problems.length === 0, problems, hostOf, used }
}
