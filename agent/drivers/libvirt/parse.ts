/**
 * virsh's human-readable output, as libvirt 9.0 prints it (the formats are
 * in libvirt's tools/virsh-domain-monitor.c and virsh-domain.c; the tests
 * replay outputs recorded from the real virsh). Every parser is strict
 * about what it needs and ignores lines it does not know, so a newer virsh
 * that adds fields still parses.
 */
import { isIPv6 } from 'node:net'
import { HypervisorError } from '../types.ts'

/** `virsh list --name`: one active domain per line, a blank line at the end. */
export function parseNames (text: string): string[] {
  return text.split('\n').map(l => l.trim()).filter(l => l !== '')
}

export interface DomInfo {
  name: string
  /** Undefined for an inactive domain (virsh prints "-"). */
  id?: number
  uuid?: string
  /** dominfo's State line: running, idle, paused, in shutdown, shut off, crashed, pmsuspended, no state. */
  state: string
  vcpus: number
  maxMemoryKiB: number
  usedMemoryKiB?: number
  persistent?: boolean
}

/** `virsh dominfo NAME`: "Key:   value" lines. */
export function parseDominfo (text: string): DomInfo {
  const fields = new Map<string, string>()
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':')
    if (colon > 0) fields.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim())
  }
  const name = fields.get('Name')
  const state = fields.get('State')
  const vcpus = Number(fields.get('CPU(s)'))
  const maxMemoryKiB = kib(fields.get('Max memory'))
  if (name === undefined || state === undefined || !Number.isInteger(vcpus) || maxMemoryKiB === undefined) {
    throw new HypervisorError(`virsh dominfo output lacks Name, State, CPU(s) or Max memory: ${JSON.stringify(text.slice(0, 200))}`)
  }
  const info: DomInfo = { name, state, vcpus, maxMemoryKiB }
  const id = fields.get('Id')
  if (id !== undefined && /^\d+$/.test(id)) info.id = Number(id)
  const uuid = fields.get('UUID')
  if (uuid !== undefined) info.uuid = uuid
  const used = kib(fields.get('Used memory'))
  if (used !== undefined) info.usedMemoryKiB = used
  const persistent = fields.get('Persistent')
  if (persistent !== undefined) info.persistent = persistent === 'yes'
  return info
}

function kib (v: string | undefined): number | undefined {
  const m = v === undefined ? null : /^(\d+) KiB$/.exec(v)
  return m === null ? undefined : Number(m[1])
}

/** `virsh domstate --reason NAME`: "state (reason)", e.g. "paused (migrating)". */
export function parseDomstate (text: string): { state: string, reason?: string } {
  const line = text.trim()
  const m = /^(.*?)(?: \((.*)\))?$/.exec(line)
  if (line === '' || m === null) throw new HypervisorError(`virsh domstate printed nothing readable: ${JSON.stringify(text)}`)
  return m[2] === undefined ? { state: m[1]! } : { state: m[1]!, reason: m[2] }
}

export interface IfAddr {
  iface: string
  mac: string
  protocol: 'ipv4' | 'ipv6'
  address: string
  prefix: number
}

/**
 * `virsh domifaddr --full NAME`: a header, a rule, then one row per address
 * ("vnet0  52:54:00:..  ipv6  fd00::5/64"). An interface without an address
 * prints N/A in the last columns; without --full, later rows of one
 * interface print "-" for name and MAC, which --full avoids.
 */
export function parseDomifaddr (text: string): IfAddr[] {
  const out: IfAddr[] = []
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/)
    if (cols.length !== 4) continue
    const [iface, mac, protocol, cidr] = cols as [string, string, string, string]
    if (protocol !== 'ipv4' && protocol !== 'ipv6') continue // the header, N/A rows
    const slash = cidr.lastIndexOf('/')
    const address = slash < 0 ? cidr : cidr.slice(0, slash)
    const prefix = slash < 0 ? (protocol === 'ipv6' ? 128 : 32) : Number(cidr.slice(slash + 1))
    out.push({ iface, mac, protocol, address, prefix })
  }
  return out
}

/** The IPv6 addresses a domain's interfaces report, link-local ones left out (they do not identify a VM). */
export function ipv6Addresses (addrs: readonly IfAddr[]): string[] {
  return [...new Set(addrs.filter(a => a.protocol === 'ipv6' && isIPv6(a.address) && !/^fe[89ab]/i.test(a.address)).map(a => a.address))]
}

/** `virsh domjobinfo --completed --rawstats`: "key: value" lines after "Job type: N". */
export function parseJobStats (text: string): Map<string, number> {
  const stats = new Map<string, number>()
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+): (-?\d+)$/.exec(line.trim())
    if (m !== null) stats.set(m[1]!, Number(m[2]))
  }
  return stats
}
