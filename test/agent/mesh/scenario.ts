/** The mesh tests' world: 3 DCs, 2 hosts each, applications split across DCs. */
import type { SimTraffic, SimVm } from '../../../lab/drivers/sim-host/world.ts'
import type { ClusterSpec, HostSpec } from './harness.ts'

export const DCS = ['A', 'B', 'C']

export function threeDcSpec (overrides: Partial<ClusterSpec> = {}): ClusterSpec {
  const hosts: HostSpec[] = DCS.flatMap(dc => [1, 2].map(i => ({ host: `${dc.toLowerCase()}${i}`, dc, memoryMiB: 4096, vcpus: 8 })))
  const vms: SimVm[] = []
  const flows: SimTraffic['flows'] = []
  // Four applications of three VMs, each member in another DC: every
  // conversation crosses the WAN until the planner brings them together.
  for (let app = 0; app < 4; app++) {
    const members = DCS.map((dc, k) => {
      const id = `app${app}-${k}`
      vms.push({ id, host: `${dc.toLowerCase()}${1 + (app % 2)}`, memoryMiB: 1024, vcpus: 1, addresses: [`fd00:1::${app}:${k + 1}`] })
      return id
    })
    for (const a of members) for (const b of members) if (a !== b) flows.push({ src: a, dst: b, bps: 40e6 * (app + 1) })
  }
  const links = []
  for (const a of DCS) for (const b of DCS) if (a !== b) links.push({ from: a, to: b, capacityBps: 1e9 })
  return {
    topology: { dcs: DCS.map(id => ({ id })), links, prefixes: [] },
    hosts,
    vms,
    traffic: { flows, prefixes: [] },
    ...overrides
  }
}
