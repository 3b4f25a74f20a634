/** The qemu driver's entry: its factory and its config kind (`hypervisor: { kind: 'qemu', dir, migration? }`). */
import { z } from 'zod'
import { closed, integer, nonEmpty } from '../../config-issues.ts'
import type { DriverFactory, DriverKind } from '../kinds.ts'
import { QemuDriver, type QemuInit } from './driver.ts'

export type { QemuInit }

export function qemu (init: QemuInit): DriverFactory<QemuDriver> {
  return (components) => new QemuDriver(components, init)
}

/**
 * Defaults for every live migration the qemu driver starts from this host
 * (migration.ts: MigrationTuning). All off or unset by default:
 * auto-converge slows the guest, xbzrle costs CPU and cache memory on both
 * ends; both pay off only where the link is slower than the guest dirties
 * memory (WAN links).
 */
const MIGRATION_SECTION = closed({
  autoConverge: z.boolean().optional().meta({ description: "Throttle the guest's vCPUs when it dirties memory faster than the link moves it (default off)." }),
  xbzrle: z.boolean().optional().meta({ description: 'Send deltas of re-dirtied pages instead of whole pages (64 MiB page cache; default off).' }),
  // QEMU's max-bandwidth is a whole number of bytes/s.
  maxBandwidthBytesPerSec: integer().min(1).optional().meta({ description: "Cap on one migration's rate, bytes/s (default 10 Gbit/s; QEMU's own 32 MiB/s would cap fast links)." })
}).meta({ description: 'Defaults for every live migration from this host. Turn auto-converge or xbzrle on for WAN links slower than the guests dirty memory.' })

export type QemuMigrationConfig = z.output<typeof MIGRATION_SECTION>

const QEMU_SECTION = closed({
  kind: z.literal('qemu'),
  dir: nonEmpty().meta({ description: "The directory of the VMs' QMP sockets and JSON sidecars." }),
  migration: MIGRATION_SECTION.optional()
})

export type QemuSection = z.output<typeof QEMU_SECTION>

export const QEMU_KIND: DriverKind<QemuSection, QemuDriver> = {
  section: QEMU_SECTION,
  factory (section) {
    const m = section.migration ?? {}
    return qemu({
      dir: section.dir,
      migration: {
        ...(m.autoConverge !== undefined ? { autoConverge: m.autoConverge } : {}),
        ...(m.xbzrle !== undefined ? { xbzrle: m.xbzrle } : {}),
        ...(m.maxBandwidthBytesPerSec !== undefined ? { maxBandwidth: m.maxBandwidthBytesPerSec } : {})
      }
    })
  }
}
