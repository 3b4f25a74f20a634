/** The libvirt driver's entry: its factory and its config kind (`hypervisor: { kind: 'libvirt', uri?, transport?, addressSource? }`; defaults in commands.ts). */
import { z } from 'zod'
import { closed, nonEmpty } from '../../config-issues.ts'
import type { DriverFactory, DriverKind } from '../kinds.ts'
import { ADDRESS_SOURCES, LIBVIRT_TRANSPORTS } from './commands.ts'
import { LibvirtDriver, type LibvirtInit } from './driver.ts'

export type { LibvirtInit }

export function libvirt (init: LibvirtInit = {}): DriverFactory<LibvirtDriver> {
  return (components) => new LibvirtDriver(components, init)
}

// No defaults here: the driver has them (commands.ts), so a section says only what the operator set.
const LIBVIRT_SECTION = closed({
  kind: z.literal('libvirt'),
  uri: nonEmpty().optional().meta({ description: 'libvirt connection URI (virsh -c).' }),
  transport: z.enum(LIBVIRT_TRANSPORTS).optional().meta({ description: "How the source's libvirtd reaches the target's (default ssh)." }),
  addressSource: z.enum(ADDRESS_SOURCES).optional().meta({ description: "Where a guest's addresses come from (default agent)." })
})

export type LibvirtSection = z.output<typeof LIBVIRT_SECTION>

export const LIBVIRT_KIND: DriverKind<LibvirtSection, LibvirtDriver> = {
  section: LIBVIRT_SECTION,
  factory (section) {
    return libvirt({
      ...(section.uri !== undefined ? { uri: section.uri } : {}),
      ...(section.transport !== undefined ? { transport: section.transport } : {}),
      ...(section.addressSource !== undefined ? { addressSource: section.addressSource } : {})
    })
  }
}
