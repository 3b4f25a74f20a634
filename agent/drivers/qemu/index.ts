/** The qemu driver's entry: its factory and its config kind (`hypervisor: { kind: 'qemu', dir, migration? }`). */
import type { Checker, Json } from '../../../lib/check.ts'
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
export interface QemuMigrationConfig {
  /** Throttle the guest's vCPUs when it dirties memory faster than the link moves it. */
  autoConverge?: boolean
  /** Send deltas of re-dirtied pages instead of whole pages. */
  xbzrle?: boolean
  /** Cap on one migration's rate; the driver's default is 10 Gbit/s (QEMU's own 32 MiB/s would cap fast links). */
  maxBandwidthBytesPerSec?: number
}

export interface QemuSection {
  kind: 'qemu'
  dir: string
  migration?: QemuMigrationConfig
}

export const QEMU_KIND: DriverKind<QemuSection, QemuDriver> = {
  read (c, path, o) {
    c.onlyKeys(path, o, ['kind', 'dir', 'migration'])
    const h: QemuSection = { kind: 'qemu', dir: c.string(`${path}.dir`, o.dir) ?? '' }
    if (o.migration !== undefined) h.migration = readMigration(c, `${path}.migration`, o.migration)
    return h
  },
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

function readMigration (c: Checker, path: string, v: Json): QemuMigrationConfig {
  const o = c.object(path, v) ?? {}
  c.onlyKeys(path, o, ['autoConverge', 'xbzrle', 'maxBandwidthBytesPerSec'])
  const m: QemuMigrationConfig = {}
  if (o.autoConverge !== undefined) m.autoConverge = c.boolean(`${path}.autoConverge`, o.autoConverge) ?? false
  if (o.xbzrle !== undefined) m.xbzrle = c.boolean(`${path}.xbzrle`, o.xbzrle) ?? false
  if (o.maxBandwidthBytesPerSec !== undefined) {
    // QEMU's max-bandwidth is a whole number of bytes/s.
    const n = c.number(`${path}.maxBandwidthBytesPerSec`, o.maxBandwidthBytesPerSec, { min: 1, integer: true })
    if (n !== undefined) m.maxBandwidthBytesPerSec = n
  }
  return m
}
