/** The xen driver's entry: its factory and its config kind (`hypervisor: { kind: 'xen', sshCommand?, sshUser? }`; migrations over ssh, commands.ts). */
import type { DriverFactory, DriverKind } from '../kinds.ts'
import { XenDriver, type XenInit } from './driver.ts'

export type { XenInit }

export function xen (init: XenInit = {}): DriverFactory<XenDriver> {
  return (components) => new XenDriver(components, init)
}

export interface XenSection {
  kind: 'xen'
  sshCommand?: string
  sshUser?: string
}

export const XEN_KIND: DriverKind<XenSection, XenDriver> = {
  read (c, path, o) {
    c.onlyKeys(path, o, ['kind', 'sshCommand', 'sshUser'])
    const h: XenSection = { kind: 'xen' }
    if (o.sshCommand !== undefined) h.sshCommand = c.string(`${path}.sshCommand`, o.sshCommand) ?? ''
    if (o.sshUser !== undefined) h.sshUser = c.string(`${path}.sshUser`, o.sshUser) ?? ''
    return h
  },
  factory (section) {
    return xen({
      ...(section.sshCommand !== undefined ? { sshCommand: section.sshCommand } : {}),
      ...(section.sshUser !== undefined ? { sshUser: section.sshUser } : {})
    })
  }
}
