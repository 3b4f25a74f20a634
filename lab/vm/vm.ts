/**
 * A lab VM: a network namespace with one interface (eth0, a fixed MAC and
 * one address from the VM prefix), whose other veth end (the vif) sits on a
 * host's bridge. It sends through the router's gateway MAC like any guest
 * behind a Dom0 bridge. Its record (lab/drivers/lab-host/state.ts) is what the
 * lab driver lists and moves.
 */
import { ipBatch, run, sysctls } from '../drivers/lab-host/exec.ts'
import { attachVm, checkAddress, checkMac } from '../drivers/lab-host/fabric.ts'
import { writeVmRecord, type LabState, type LabVmRecord } from '../drivers/lab-host/state.ts'
import { Nft } from '../../agent/drivers/nftables/nft.ts'
import { ROUTER_LINK_LOCAL, ROUTER_MAC } from '../net/addresses.ts'
import { guestSysctls, sinkScript } from '../net/guest.ts'
import { addNamespace } from '../net/namespaces.ts'
import { GUEST_IF } from '../net/names.ts'

export async function createVm (dir: string, state: LabState, host: string, rec: LabVmRecord): Promise<void> {
  const h = state.hosts[host]
  if (h === undefined) throw new Error(`no host ${host} in the lab`)
  await addNamespace(rec.ns)
  await sysctls(rec.ns, guestSysctls())
  await run(['ip', 'link', 'add', rec.vif, 'netns', h.ns, 'type', 'veth', 'peer', 'name', GUEST_IF, 'netns', rec.ns, 'address', checkMac(rec.mac)])
  await ipBatch(rec.ns, [
    `link set ${GUEST_IF} up`,
    ...rec.addresses.map(a => `addr add ${checkAddress(a)}/128 dev ${GUEST_IF} nodad`),
    `neigh replace ${ROUTER_LINK_LOCAL} lladdr ${ROUTER_MAC} dev ${GUEST_IF} nud permanent`,
    `route add default via ${ROUTER_LINK_LOCAL} dev ${GUEST_IF}`
  ])
  await new Nft({ netns: rec.ns }).apply(sinkScript())
  await writeVmRecord(dir, rec)
  await attachVm(state, h, rec)
}
