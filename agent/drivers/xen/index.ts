/** The xen driver's entry: its factory and its config kind (`hypervisor: { kind: 'xen', sshCommand?, sshUser? }`; migrations over ssh, commands.ts). */
import { z } from 'zod'
import { closed, nonEmpty } from '../../config-issues.ts'
import type { DriverFactory, DriverKind } from '../kinds.ts'
import { XenDriver, type XenInit } from './driver.ts'

export type { XenInit }

export function xen (init: XenInit = {}): DriverFactory<XenDriver> {
  return (components) => new XenDriver(components, init)
}

const XEN_SECTION = closed({
  kind: z.literal('xen'),
  sshCommand: nonEmpty().optional().meta({ description: 'What xl migrate runs to reach the target.' }),
  sshUser: nonEmpty().optional()
})

export type XenSection = z.output<typeof XEN_SECTION>

export const XEN_KIND: DriverKind<XenSection, XenDriver> = {
  section: XEN_SECTION,
  factory (section) {
    return xen({
      ...(section.sshCommand !== undefined ? { sshCommand: section.sshCommand } : {}),
      ...(section.sshUser !== undefined ? { sshUser: section.sshUser } : {})
    })
  }
}
