/**
 * The drivers a production agent may name in its config. The lab's drivers
 * (sim, lab) live in lab/drivers/ and are registered by the lab on top of
 * these, never here: a production agent given one is told to run the lab.
 */
import { FILE_KIND } from './file/index.ts'
import type { DriverRegistry } from './kinds.ts'
import { LIBVIRT_KIND } from './libvirt/index.ts'
import { NFTABLES_KIND } from './nftables/index.ts'
import { QEMU_KIND } from './qemu/index.ts'
import { XEN_KIND } from './xen/index.ts'

const LAB_ONLY = 'a lab-only driver: run it with the lab (heliotrope lab agent --config FILE)'

export const PRODUCTION_DRIVERS: DriverRegistry = {
  hypervisors: { qemu: QEMU_KIND, libvirt: LIBVIRT_KIND, xen: XEN_KIND },
  collectors: { nftables: NFTABLES_KIND, file: FILE_KIND },
  elsewhere: { sim: LAB_ONLY, lab: LAB_ONLY }
}
