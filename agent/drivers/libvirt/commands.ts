/**
 * The virsh command lines of the libvirt driver, built in one place so the
 * tests can check them exactly.
 *
 * Migration transport. The source's libvirtd drives the migration (--p2p)
 * and opens the libvirt connection to the target's libvirtd itself:
 *
 *   ssh (default)  qemu+ssh://root@[addr]/system: root's ssh key of the
 *                  source host must be accepted by the target (the trust
 *                  model of Xen's xl migrate); nothing to open but sshd.
 *   tls            qemu+tls://[addr]/system: libvirtd's own TLS listener
 *                  (listen_tls, port 16514) with the libvirt PKI.
 *   tcp            qemu+tcp://[addr]/system: no authentication, no
 *                  encryption (auth_tcp = "none"); only for labs and tests
 *                  inside private networks.
 *
 * The guest's memory itself goes QEMU to QEMU over plain TCP to the
 * target's address (--migrateuri tcp://[addr]; libvirt picks a port from
 * its migration range, 49152-49215 by default), on the same network the
 * agents use. --persistent --undefinesource move the definition along, so
 * the domain exists on exactly one host afterwards.
 */
import { isIPv6 } from 'node:net'
import { HypervisorError } from '../types.ts'

export const LIBVIRT_TRANSPORTS = ['ssh', 'tls', 'tcp'] as const
export type LibvirtTransport = typeof LIBVIRT_TRANSPORTS[number]
export const DEFAULT_TRANSPORT: LibvirtTransport = 'ssh'
export const DEFAULT_LOCAL_URI = 'qemu:///system'
/** Where interface addresses come from: the guest agent (the only source that knows a guest's own IPv6 addresses everywhere). */
export const ADDRESS_SOURCES = ['agent', 'lease', 'arp'] as const
export type AddressSource = typeof ADDRESS_SOURCES[number]
export const DEFAULT_ADDRESS_SOURCE: AddressSource = 'agent'

function checkAddress (address: string): string {
  if (!isIPv6(address)) throw new HypervisorError(`migration target ${address} is not an IPv6 address`)
  return address
}

/** The target libvirtd's URI for this transport. */
export function targetUri (transport: LibvirtTransport, address: string): string {
  const host = `[${checkAddress(address)}]`
  return transport === 'ssh' ? `qemu+ssh://root@${host}/system` : `qemu+${transport}://${host}/system`
}

/** Where QEMU sends the memory: the target's address, libvirt's port range. */
export function migrateUri (address: string): string {
  return `tcp://[${checkAddress(address)}]`
}

export function virsh (binary: string, uri: string, ...args: string[]): string[] {
  return [binary, '-c', uri, ...args]
}

export interface MigrateArgs {
  domain: string
  address: string
  transport: LibvirtTransport
  /** A libvirt URI the target handed out (prepareIncoming); replaces the one built from the transport. */
  uri?: string
  /** Cap in bytes/s; virsh takes whole MiB/s. */
  maxBandwidth?: number
}

/** `virsh migrate` arguments (after `-c LOCAL`). */
export function migrateArgs (m: MigrateArgs): string[] {
  const dest = m.uri ?? targetUri(m.transport, m.address)
  if (!/^qemu\+(ssh|tls|tcp):\/\//.test(dest)) throw new HypervisorError(`migration target URI ${dest} is not a qemu+ssh, qemu+tls or qemu+tcp URI`)
  const args = ['migrate', '--live', '--p2p', '--persistent', '--undefinesource']
  if (m.maxBandwidth !== undefined) {
    if (!(m.maxBandwidth > 0)) throw new HypervisorError(`migration bandwidth ${m.maxBandwidth} B/s is not positive`)
    args.push('--bandwidth', String(Math.max(1, Math.floor(m.maxBandwidth / 2 ** 20))))
  }
  // "--" ends the options: a domain name cannot be read as one.
  args.push('--', m.domain, dest, migrateUri(m.address))
  return args
}
