/**
 * A client network: one namespace per external prefix, plugged into the LAN
 * of the DC whose ingress serves it (as if that DC's upstream carried it),
 * holding the prefix's first address. Its traffic to a VM in another DC
 * crosses the WAN link from its DC, like the DC's own traffic does.
 */
import { ipBatch, run, sysctls } from '../drivers/lab-host/exec.ts'
import { checkAddress, checkMac } from '../drivers/lab-host/fabric.ts'
import { ROUTER_LINK_LOCAL, ROUTER_MAC } from './addresses.ts'
import { addNamespace } from './namespaces.ts'
import { GUEST_IF } from './names.ts'
import { plugRouterPort } from './router.ts'
import { guestSysctls, sinkScript } from './guest.ts'
import { Nft } from '../../agent/drivers/nftables/nft.ts'

export interface ExternalWiring {
  ns: string
  routerNs: string
  routerPort: string
  dcBridge: string
  prefix: string
  address: string
  mac: string
}

export async function buildExternal (e: ExternalWiring): Promise<void> {
  await addNamespace(e.ns)
  await sysctls(e.ns, guestSysctls())
  await run(['ip', 'link', 'add', GUEST_IF, 'netns', e.ns, 'address', checkMac(e.mac), 'type', 'veth', 'peer', 'name', e.routerPort, 'netns', e.routerNs])
  await ipBatch(e.ns, [
    `link set ${GUEST_IF} up`,
    `addr add ${checkAddress(e.address)}/128 dev ${GUEST_IF} nodad`,
    `neigh replace ${ROUTER_LINK_LOCAL} lladdr ${ROUTER_MAC} dev ${GUEST_IF} nud permanent`,
    `route add default via ${ROUTER_LINK_LOCAL} dev ${GUEST_IF}`
  ])
  await new Nft({ netns: e.ns }).apply(sinkScript())
  await plugRouterPort(e.routerNs, e.routerPort, e.dcBridge)
  await ipBatch(e.routerNs, [
    `route replace ${e.prefix} dev ${e.dcBridge}`,
    `neigh replace ${e.address} lladdr ${e.mac} dev ${e.dcBridge} nud permanent`
  ])
  await run(['bridge', '-n', e.routerNs, 'fdb', 'replace', e.mac, 'dev', e.routerPort, 'master', 'dynamic'])
}
