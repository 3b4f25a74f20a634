/**
 * A host namespace, wired like a Xen Dom0 or a KVM host with bridged
 * networking: the bridge br0 holds the uplink to the DC's LAN and, later,
 * the VMs' vifs; the host's own address (where its agent listens) is on
 * br0. All VM traffic, same-host traffic included, is bridged port to port,
 * which is where the collector's bridge hook counts it.
 */
import { ipBatch, run, sysctls } from '../drivers/lab-host/exec.ts'
import { HOST_BRIDGE, shortcutTableScript } from '../drivers/lab-host/fabric.ts'
import { Nft } from '../../agent/drivers/nftables/nft.ts'
import { ROUTER_MAC, routerAddress } from './addresses.ts'
import { addNamespace } from './namespaces.ts'
import { HOST_UPLINK } from './names.ts'
import { plugRouterPort } from './router.ts'

export interface HostWiring {
  ns: string
  routerNs: string
  /** The router's port for this host and the DC bridge it joins. */
  routerPort: string
  dcBridge: string
  dc: number
  address: string
}

export async function buildHost (h: HostWiring): Promise<void> {
  await addNamespace(h.ns)
  await sysctls(h.ns, {
    'net.ipv6.conf.all.accept_dad': 0,
    'net.ipv6.conf.default.accept_dad': 0,
    'net.ipv6.conf.all.accept_ra': 0,
    'net.ipv6.conf.default.accept_ra': 0,
    // Where br_netfilter is loaded, bridged IPv6 must not reach the inet hooks: counted once, on the bridge hook.
    'net.bridge.bridge-nf-call-ip6tables': 0,
    'net.bridge.bridge-nf-call-iptables': 0
  })
  await run(['ip', 'link', 'add', HOST_UPLINK, 'netns', h.ns, 'type', 'veth', 'peer', 'name', h.routerPort, 'netns', h.routerNs])
  await ipBatch(h.ns, [
    `link add ${HOST_BRIDGE} type bridge`,
    `link set ${HOST_UPLINK} master ${HOST_BRIDGE}`,
    `link set ${HOST_UPLINK} up`,
    `link set ${HOST_BRIDGE} up`,
    `addr add ${h.address}/64 dev ${HOST_BRIDGE} nodad`,
    `route add default via ${routerAddress(h.dc)} dev ${HOST_BRIDGE}`
  ])
  // The uplink and the vifs that arrive later are bridge ports only: no IPv6 of their own.
  await sysctls(h.ns, { [`net.ipv6.conf.${HOST_UPLINK}.disable_ipv6`]: 1, 'net.ipv6.conf.default.disable_ipv6': 1 })
  await new Nft({ netns: h.ns }).apply(shortcutTableScript(ROUTER_MAC))
  await plugRouterPort(h.routerNs, h.routerPort, h.dcBridge)
}
