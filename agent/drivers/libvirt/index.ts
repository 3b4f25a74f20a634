/** The libvirt driver's entry: its factory and its config kind (`hypervisor: { kind: 'libvirt', uri?, transport?, addressSource? }`; defaults in commands.ts). */
import type { DriverFactory, DriverKind } from '../kinds.ts'
import { ADDRESS_SOURCES, LIBVIRT_TRANSPORTS, type AddressSource, type LibvirtTransport } from './commands.ts'
import { LibvirtDriver, type LibvirtInit } from './driver.ts'

export type { LibvirtInit }

export function libvirt (init: LibvirtInit = {}): DriverFactory<LibvirtDriver> {
  return (components) => new LibvirtDriver(components, init)
}

export interface LibvirtSection {
  kind: 'libvirt'
  uri?: string
  transport?: LibvirtTransport
  addressSource?: AddressSource
}

export const LIBVIRT_KIND: DriverKind<LibvirtSection, LibvirtDriver> = {
  read (c, path, o) {
    c.onlyKeys(path, o, ['kind', 'uri', 'transport', 'addressSource'])
    const h: LibvirtSection = { kind: 'libvirt' }
    if (o.uri !== undefined) h.uri = c.string(`${path}.uri`, o.uri) ?? ''
    if (o.transport !== undefined) h.transport = c.oneOf(`${path}.transport`, o.transport, LIBVIRT_TRANSPORTS) ?? 'ssh'
    if (o.addressSource !== undefined) h.addressSource = c.oneOf(`${path}.addressSource`, o.addressSource, ADDRESS_SOURCES) ?? 'agent'
    return h
  },
  factory (section) {
    return libvirt({
      ...(section.uri !== undefined ? { uri: section.uri } : {}),
      ...(section.transport !== undefined ? { transport: section.transport } : {}),
      ...(section.addressSource !== undefined ? { addressSource: section.addressSource } : {})
    })
  }
}
