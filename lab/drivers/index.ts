/**
 * The lab's driver registry: production's drivers and the lab's own, the
 * sim host (sim-host/: VMs and traffic in a SimWorld directory) and the lab
 * host (lab-host/: VMs as network namespaces on this machine). Every lab
 * entry that parses a config or starts an agent passes it; agent/ never
 * sees these kinds.
 */
import { PRODUCTION_DRIVERS } from '../../agent/drivers/index.ts'
import type { DriverRegistry } from '../../agent/drivers/kinds.ts'
import { LAB_KIND } from './lab-host/index.ts'
import { SIM_COLLECTOR_KIND, SIM_HYPERVISOR_KIND } from './sim-host/index.ts'

export const LAB_DRIVERS: DriverRegistry = {
  hypervisors: { ...PRODUCTION_DRIVERS.hypervisors, sim: SIM_HYPERVISOR_KIND, lab: LAB_KIND },
  collectors: { ...PRODUCTION_DRIVERS.collectors, sim: SIM_COLLECTOR_KIND }
}
