/**
 * The router namespace in the middle of the star: one bridge per DC (the
 * DC's LAN, with the router's interface on it), forwarding between them,
 * the WAN shaping of shaping.ts, and the ports the hosts and client networks
 * plug into.
 */
import { ipBatch, run, sysctls } from '../drivers/lab-host/exec.ts'
import { Nft } from '../../agent/drivers/nftables/nft.ts'
import { ROUTER_LINK_LOCAL, ROUTER_MAC, routerAddress } from './addresses.ts'
import { addNamespace } from './namespaces.ts'
import { cutsScript, htbBatch, routerRulesScript, type ShapedLink } from './shaping.ts'

export async function buildRouter (ns: string, bridges: readonly string[], links: readonly ShapedLink[]): Promise<void> {
  await addNamespace(ns)
  await sysctls(ns, {
    'net.ipv6.conf.all.forwarding': 1,
    'net.ipv6.conf.all.accept_dad': 0,
    'net.ipv6.conf.default.accept_dad': 0,
    // Bridged frames must not meet the inet hooks (they would be classified as routed).
    'net.bridge.bridge-nf-call-ip6tables': 0,
    'net.bridge.bridge-nf-call-iptables': 0
  })
  const cmds: string[] = []
  bridges.forEach((br, i) => {
    // Every DC bridge has the same MAC and fe80::1: one gateway wherever a VM goes.
    cmds.push(`link add ${br} address ${ROUTER_MAC} type bridge`)
    cmds.push(`link set ${br} addrgenmode none`)
    cmds.push(`link set ${br} up`)
    cmds.push(`addr add ${ROUTER_LINK_LOCAL}/64 dev ${br} nodad`)
    cmds.push(`addr add ${routerAddress(i)}/64 dev ${br} nodad`)
  })
  await ipBatch(ns, cmds)
  // Ports added from now on carry no IPv6 of their own: no router or neighbour chatter on the LANs.
  await sysctls(ns, { 'net.ipv6.conf.default.disable_ipv6': 1 })
  await new Nft({ netns: ns }).apply(routerRulesScript(bridges, links))
  const tc = bridges.flatMap((br, i) => htbBatch(br, i, links))
  await run(['tc', '-n', ns, '-batch', '-'], { input: tc.join('\n') + '\n' })
}

/** Plugs a port (already in the router's namespace) into DC bridge `bridge`. */
export async function plugRouterPort (ns: string, port: string, bridge: string): Promise<void> {
  await ipBatch(ns, [`link set ${port} master ${bridge}`, `link set ${port} up`])
}

/** Cuts exactly these DC bridges off the WAN. */
export async function setCuts (ns: string, bridges: readonly string[], sides: ReadonlyArray<readonly string[]> = []): Promise<void> {
  await new Nft({ netns: ns }).apply(cutsScript(bridges, sides))
}
