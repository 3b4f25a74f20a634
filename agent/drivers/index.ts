/**
 * The drivers a production agent may name in its config. The lab's drivers
 * (sim, lab) are registered by the lab on top of these, never here: a
 * production agent given one is told to run it with the lab.
 */
import { FILE_KIND } from './file/index.ts'
import type { DriverRegistry } from './kinds.ts'
import { LIBVIRT_KIND } from './libvirt/index.ts'
import { NFTABLES_KIND } from './nftables/index.ts'
import { QEMU_KIND } from './qemu/index.ts'
import { XEN_KIND } from './xen/index.ts'
import { LAB_KIND } from './lab/index.ts'
import { SIM_COLLECTOR_KIND, SIM_HYPERVISOR_KIND } from './sim/index.ts'

export const PRODUCTION_DRIVERS: DriverRegistry = {
  // sim and lab still here until they move to lab/.
  hypervisors: { sim: SIM_HYPERVISOR_KIND, qemu: QEMU_KIND, lab: LAB_KIND, libvirt: LIBVIRT_KIND, xen: XEN_KIND },
  collectors: { sim: SIM_COLLECTOR_KIND, nftables: NFTABLES_KIND, file: FILE_KIND }
}
