/**
 * The lab's address plan (IPv6 unique local addresses only):
 *
 *   fd00:10::/32          infrastructure: the router and the hosts' own addresses
 *   fd00:10:D::/64        DC number D's LAN; the router is ::1, host k is ::(k+2)
 *   fe80::1               the router on every DC LAN (one gateway for all, with
 *                         one MAC, so a VM keeps its gateway wherever it moves)
 *   topology.vmPrefix     VM addresses, VM number i gets prefix + (i + 1)
 *   externals[].prefix    client networks; their namespace holds prefix + 1
 *
 * MACs are locally administered (02:...) and derived from indices, so the
 * router and the hosts can hold permanent neighbour entries and no
 * neighbour discovery runs on the measured paths.
 */
import { formatIpv6, parseIpv6Prefix } from '../../lib/address.ts'

export const INFRA_PREFIX = 'fd00:10::/32'
export const ROUTER_LINK_LOCAL = 'fe80::1'
export const ROUTER_MAC = '02:68:74:00:00:01'

export function dcLan (dc: number): string {
  return `fd00:10:${dc.toString(16)}::/64`
}

export function routerAddress (dc: number): string {
  return addressInPrefix(dcLan(dc), 1)
}

export function hostAddress (dc: number, k: number): string {
  return addressInPrefix(dcLan(dc), k + 2)
}

/** `base` + n, for a prefix with room for n. */
export function addressInPrefix (prefix: string, n: number): string {
  const p = parseIpv6Prefix(prefix)
  if (p === undefined) throw new Error(`not a prefix: ${prefix}`)
  if (p.length < 128 && n >= 2 ** Math.min(32, 128 - p.length)) throw new Error(`${prefix} has no room for address ${n}`)
  const g = [...p.groups]
  g[7] = (g[7]! + (n & 0xffff))
  g[6] = (g[6]! + Math.floor(n / 0x10000))
  return formatIpv6(g)
}

export function vmAddress (vmPrefix: string, index: number): string {
  return addressInPrefix(vmPrefix, index + 1)
}

export function externalAddress (prefix: string): string {
  return addressInPrefix(prefix, 1)
}

function mac (kind: number, index: number): string {
  const b = [0x02, 0x68, kind, (index >> 16) & 0xff, (index >> 8) & 0xff, index & 0xff]
  return b.map(x => x.toString(16).padStart(2, '0')).join(':')
}

export function vmMac (index: number): string {
  return mac(0x76, index)
}

export function externalMac (index: number): string {
  return mac(0x78, index)
}
