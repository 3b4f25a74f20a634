/**
 * The lab's plumbing for one VM at one host, shared by the lab (initial
 * placement) and the lab driver (migration):
 *
 * - the VM's vif joins the host's bridge `br0` (as a Xen vif or KVM tap joins
 *   Dom0's bridge), so the host's collector sees its frames on the bridge
 *   forward hook;
 * - the host's short-cut map learns the VM: a VM sends everything to the
 *   router's gateway MAC, and for a destination on the same host the host's
 *   bridge rewrites that MAC to the VM's own (nftables, bridge prerouting),
 *   so same-host traffic is bridged port to port, never hairpins through
 *   the router, and is counted once;
 * - the router learns where the VM is: a /128 route via the DC bridge of the
 *   host, a permanent neighbour entry (no neighbour discovery on the path,
 *   so counters hold only the VMs' own packets) and the bridge's forwarding
 *   entry pointing at the host's port. The address never changes: the
 *   router's host route is what follows the VM (Mobile-IPv6-like).
 */
import { isIPv6 } from 'node:net'
import { Nft } from '../../../agent/drivers/nftables/nft.ts'
import { ip, ipBatch, run } from './exec.ts'
import type { LabHostState, LabState, LabVmRecord } from './state.ts'

export const HOST_BRIDGE = 'br0'
export const SHORTCUT_TABLE = 'ht_lab'
export const SHORTCUT_MAP = 'vms'
/** Before the collector's forward hook and any filter: the forwarding decision follows the rewrite. */
const SHORTCUT_PRIORITY = -300

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/

export function checkMac (mac: string): string {
  if (!MAC_RE.test(mac)) throw new Error(`not a MAC address: ${JSON.stringify(mac)}`)
  return mac
}

export function checkAddress (a: string): string {
  if (!isIPv6(a) || a.includes('%')) throw new Error(`not an IPv6 address: ${JSON.stringify(a)}`)
  return a
}

/** The host's short-cut table: created empty by the lab, filled per VM. */
export function shortcutTableScript (routerMac: string): string {
  const t = SHORTCUT_TABLE
  return [
    `add table bridge ${t}`,
    `delete table bridge ${t}`,
    `table bridge ${t} {`,
    `  map ${SHORTCUT_MAP} { type ipv6_addr : ether_addr; }`,
    '  chain prerouting {',
    `    type filter hook prerouting priority ${SHORTCUT_PRIORITY}; policy accept;`,
    // Only frames for the gateway; a destination not in the map leaves the frame as it is.
    `    ether daddr ${checkMac(routerMac)} ether type ip6 ether daddr set ip6 daddr map @${SHORTCUT_MAP}`,
    '  }',
    '}'
  ].join('\n') + '\n'
}

function shortcutElements (vm: LabVmRecord): string {
  return vm.addresses.map(a => `${checkAddress(a)} : ${checkMac(vm.mac)}`).join(', ')
}

/** Runs nft inside a host namespace (the nft binary as the collector finds it). */
function nftIn (ns: string): Nft {
  return new Nft({ netns: ns })
}

/** Attaches `vm`'s vif (already in the host's namespace) to the host's bridge and brings it up. */
export async function plugVif (host: LabHostState, vm: LabVmRecord): Promise<void> {
  await ip(host.ns, 'link', 'set', 'dev', vm.vif, 'master', HOST_BRIDGE, 'up')
}

/** Adds the VM to the host's short-cut map. */
export async function addShortcut (host: LabHostState, vm: LabVmRecord): Promise<void> {
  // `add element` of an existing key fails; delete-then-add in one transaction replaces it.
  const t = SHORTCUT_TABLE
  const keys = vm.addresses.map(checkAddress).join(', ')
  await nftIn(host.ns).apply(`add element bridge ${t} ${SHORTCUT_MAP} { ${shortcutElements(vm)} }\ndelete element bridge ${t} ${SHORTCUT_MAP} { ${keys} }\nadd element bridge ${t} ${SHORTCUT_MAP} { ${shortcutElements(vm)} }\n`)
}

/** Removes the VM from a host's short-cut map; absent is fine. */
export async function removeShortcut (host: LabHostState, vm: LabVmRecord): Promise<void> {
  const t = SHORTCUT_TABLE
  const keys = vm.addresses.map(checkAddress).join(', ')
  await nftIn(host.ns).apply(`add element bridge ${t} ${SHORTCUT_MAP} { ${shortcutElements(vm)} }\ndelete element bridge ${t} ${SHORTCUT_MAP} { ${keys} }\n`)
}

/**
 * Points the router at `host` for the VM's addresses: host route and
 * permanent neighbour on the host's DC bridge, forwarding entry on the
 * host's port. `previous`, when in another DC, loses its neighbour entry.
 */
export async function routeToHost (state: LabState, host: LabHostState, vm: LabVmRecord, previous?: LabHostState): Promise<void> {
  const mac = checkMac(vm.mac)
  const cmds: string[] = []
  for (const a of vm.addresses.map(checkAddress)) {
    cmds.push(`route replace ${a}/128 dev ${host.dcBridge}`)
    cmds.push(`neigh replace ${a} lladdr ${mac} dev ${host.dcBridge} nud permanent`)
  }
  await Promise.all([
    ipBatch(state.routerNs, cmds),
    // A learnt entry may still point at the old host's port (a move inside one DC); point it at the new one.
    run(['bridge', '-n', state.routerNs, 'fdb', 'replace', mac, 'dev', host.routerPort, 'master', 'dynamic'])
  ])
  if (previous !== undefined && previous.dcBridge !== host.dcBridge) {
    await ipBatch(state.routerNs, vm.addresses.map(a => `neigh del ${a} dev ${previous.dcBridge}`)).catch(() => undefined)
  }
}

/** Everything a VM needs at its host: bridge port, short-cut, router. */
export async function attachVm (state: LabState, host: LabHostState, vm: LabVmRecord, previous?: LabHostState): Promise<void> {
  await plugVif(host, vm)
  await Promise.all([addShortcut(host, vm), routeToHost(state, host, vm, previous)])
}

/** Moves the vif (the host-side veth end) into another namespace: the atomic step of a migration. */
export async function moveVif (from: LabHostState, to: LabHostState, vm: LabVmRecord): Promise<void> {
  await ip(from.ns, 'link', 'set', 'dev', vm.vif, 'netns', to.ns)
}
