/**
 * Names of everything the lab creates. Every namespace name starts with
 * `<prefix>-`, so a lab is found again from its prefix alone (after a crash
 * too, like `mn -c`); interfaces live inside those namespaces and vanish
 * with them, so nothing is ever left in the machine's own namespace.
 * Interface names stay within the kernel's 15 characters.
 */
export const DEFAULT_LAB_PREFIX = 'ht'
/** No dashes: `ht` must never match the namespaces of a lab called `ht-x`. */
const PREFIX_RE = /^[a-z][a-z0-9]{0,11}$/

export function checkLabPrefix (prefix: string): string {
  if (!PREFIX_RE.test(prefix)) throw new Error(`bad lab prefix ${JSON.stringify(prefix)}: 1-12 lower-case letters and digits, starting with a letter`)
  return prefix
}

export function routerNs (prefix: string): string { return `${prefix}-router` }
export function hostNs (prefix: string, host: string): string { return `${prefix}-host-${host}` }
export function vmNs (prefix: string, vm: string): string { return `${prefix}-vm-${vm}` }
export function externalNs (prefix: string, ext: string): string { return `${prefix}-ext-${ext}` }

/** In the router: DC number i's bridge (its LAN and the router's interface on it). */
export function dcBridge (i: number): string { return `dc${i}` }
/** In the router: the port towards host number i. */
export function hostPort (i: number): string { return `h${i}` }
/** In the router: the port towards external number i. */
export function externalPort (i: number): string { return `x${i}` }
/** In a host: the uplink to its DC's LAN, a port of br0 (as a Dom0's NIC on its bridge). */
export const HOST_UPLINK = 'up0'
/** VM number i's host-side veth end; the name is unique lab-wide because it moves between hosts. */
export function vifName (i: number): string { return `vif${i}` }
/** Inside a VM or external namespace. */
export const GUEST_IF = 'eth0'

/** Default state directory of a lab: configs, VM records, logs. */
export function defaultLabDir (prefix: string): string {
  return `/tmp/heliotrope-lab/${prefix}`
}
