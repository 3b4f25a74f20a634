/**
 * Which multiaddrs belong to the cluster. The DHT's default mapper keeps only
 * public addresses (and so drops every loopback or ULA peer), and global IPv6
 * counts as public there: heliotrope instead keeps exactly the addresses its
 * own hosts use, so the routing table holds members and nothing else.
 */
import { CODE_IP4, CODE_IP6, CODE_MEMORY } from '@multiformats/multiaddr'
import { parseIpv6, parseIpv6Prefix, prefixContains } from '../../lib/address.ts'
import type { Ipv6Prefix } from '../../lib/address.ts'
import type { PeerInfo } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** IPv6 ranges that are always the cluster's own: loopback and unique local (fc00::/7). */
export const DEFAULT_CLUSTER_PREFIXES: readonly string[] = ['::1/128', 'fc00::/7']

/**
 * Builds a predicate that accepts a multiaddr when it is a memory address,
 * IPv4 loopback, or IPv6 inside the default prefixes or `extraPrefixes`
 * (for example a fleet's global /48).
 */
export function clusterAddressFilter (extraPrefixes: readonly string[] = []): (ma: Multiaddr) => boolean {
  const prefixes: Ipv6Prefix[] = [...DEFAULT_CLUSTER_PREFIXES, ...extraPrefixes].map(text => {
    const prefix = parseIpv6Prefix(text)
    if (prefix === undefined) throw new TypeError(`not an IPv6 prefix: ${JSON.stringify(text)}`)
    return prefix
  })
  return (ma) => {
    const first = ma.getComponents()[0]
    if (first === undefined) return false
    if (first.code === CODE_MEMORY) return true
    if (first.code === CODE_IP4) return first.value?.startsWith('127.') === true
    if (first.code !== CODE_IP6 || first.value === undefined) return false
    const groups = parseIpv6(first.value)
    return groups !== undefined && prefixes.some(p => prefixContains(p, groups))
  }
}

/** A kad-dht peerInfoMapper that keeps only cluster addresses. */
export function clusterPeerInfoMapper (extraPrefixes: readonly string[] = []): (peer: PeerInfo) => PeerInfo {
  const keep = clusterAddressFilter(extraPrefixes)
  return (peer) => ({ ...peer, multiaddrs: peer.multiaddrs.filter(keep) })
}
