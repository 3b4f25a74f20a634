/**
 * Builds the nft scripts of the collector's own table. Pure: strings in,
 * strings out; every address is validated before it reaches a script.
 *
 * Where VM traffic passes on a host (pick with `hooks`):
 * - 'bridge': the bridge family's forward hook. VM taps/vifs and the uplink
 *   enslaved to one Linux bridge: every frame between two ports passes here,
 *   VM-to-VM on the same host included. The default.
 * - 'inet': the inet family's forward hook. Routed setups (each tap routed by
 *   the host, or VMs on a bridge whose gateway is the host): what the host
 *   routes passes here. Frames bridged port to port never do.
 * Both at once suit a bridge for the VMs plus routing to the rest (the
 * tests' topology): a packet takes one of the two paths, never both, unless
 * br_netfilter hands bridged IPv6 to the inet hooks too (the collector
 * refuses that combination).
 *
 * Which packets are counted: those a local VM sends (any destination), and
 * those a local VM receives from outside the platform. Traffic between two
 * platform VMs is thus counted once, by the sender's host; traffic with the
 * outside world by the VM's host, both ways. The kernel filters with two
 * interval sets the agent fills: `local` (this host's VM addresses or
 * prefixes) and `platform` (every prefix VMs of the cluster use). Filtering
 * in the kernel rather than counting all and filtering in the agent keeps
 * transit, spoofed or foreign traffic from taking slots in the bounded set.
 *
 * The counting set is `flows`: (saddr . daddr) -> counter, filled by the
 * packet path (`update`), entries expire after `timeout` without traffic.
 * When it is full, `update` cannot add a pair and the rule breaks off; the
 * next rule then counts the packet in the named counter `uncounted`.
 */
import { isIPv6 } from 'node:net'
import { CollectorError } from '../types.ts'

/** A hook is named by its nft family; both use the forward hook. */
export type NftHook = 'bridge' | 'inet'

export const DEFAULT_TABLE = 'heliotrope'
export const DEFAULT_HOOKS: readonly NftHook[] = ['bridge']
/** Pairs counted at once; beyond it bytes go to `uncounted`. */
export const DEFAULT_SET_SIZE = 65_536
/** Must be well above the read interval: a pair that expires has had no traffic for this long. */
export const DEFAULT_ENTRY_TIMEOUT_SEC = 3600
/** After the usual filter chains (bridge filter -200, inet filter 0), so dropped packets are not counted. */
export const DEFAULT_PRIORITY = 300
export const FLOW_SET = 'flows'
export const LOCAL_SET = 'local'
export const PLATFORM_SET = 'platform'
export const UNCOUNTED_COUNTER = 'uncounted'

export interface RulesetOptions {
  hook: NftHook
  table: string
  setSize: number
  timeoutSec: number
  priority: number
  local: readonly string[]
  platform: readonly string[]
}

export function checkTableName (name: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,30}$/.test(name)) throw new CollectorError(`bad nftables table name ${JSON.stringify(name)}`)
  return name
}

/** An IPv6 address or prefix (addr/len) in a form safe to paste into a script. */
export function checkPrefix (text: string): string {
  const [addr, len, ...rest] = text.split('/')
  const okLen = len === undefined || (/^\d{1,3}$/.test(len) && Number(len) <= 128)
  if (rest.length > 0 || addr === undefined || !isIPv6(addr) || addr.includes('%') || !okLen) {
    throw new CollectorError(`not an IPv6 address or prefix: ${JSON.stringify(text)}`)
  }
  return len === undefined ? addr : `${addr}/${len}`
}

function elements (items: readonly string[]): string {
  return items.map(checkPrefix).join(', ')
}

/**
 * Creates the table afresh, atomically: `add` makes the `delete` succeed when
 * there is no table yet, so running it twice (or after a crash) is safe.
 */
export function setupScript (o: RulesetOptions): string {
  const fam = o.hook
  const t = checkTableName(o.table)
  if (!Number.isInteger(o.setSize) || o.setSize < 1) throw new CollectorError(`bad set size ${o.setSize}`)
  if (!Number.isInteger(o.timeoutSec) || o.timeoutSec < 1) throw new CollectorError(`bad entry timeout ${o.timeoutSec}`)
  if (!Number.isInteger(o.priority)) throw new CollectorError(`bad priority ${o.priority}`)
  const lines = [
    `add table ${fam} ${t}`,
    `delete table ${fam} ${t}`,
    `table ${fam} ${t} {`,
    `  set ${LOCAL_SET} { type ipv6_addr; flags interval; auto-merge; }`,
    `  set ${PLATFORM_SET} { type ipv6_addr; flags interval; auto-merge; }`,
    `  set ${FLOW_SET} { type ipv6_addr . ipv6_addr; size ${o.setSize}; flags dynamic,timeout; timeout ${o.timeoutSec}s; counter; }`,
    `  counter ${UNCOUNTED_COUNTER} { }`,
    '  chain count {',
    // `return` ends the chain once counted; a full set breaks the rule before it.
    `    update @${FLOW_SET} { ip6 saddr . ip6 daddr } return`,
    `    counter name "${UNCOUNTED_COUNTER}"`,
    '  }',
    '  chain forward {',
    `    type filter hook forward priority ${o.priority}; policy accept;`,
    // goto: a packet sent by a local VM is not looked at again by the second rule.
    `    ip6 saddr @${LOCAL_SET} goto count`,
    `    ip6 daddr @${LOCAL_SET} ip6 saddr != @${PLATFORM_SET} goto count`,
    '  }',
    '}'
  ]
  if (o.local.length > 0) lines.push(`add element ${fam} ${t} ${LOCAL_SET} { ${elements(o.local)} }`)
  if (o.platform.length > 0) lines.push(`add element ${fam} ${t} ${PLATFORM_SET} { ${elements(o.platform)} }`)
  return lines.join('\n') + '\n'
}

/** Replaces the contents of the `local` or `platform` set in one transaction. */
export function replaceSetScript (hook: NftHook, table: string, set: typeof LOCAL_SET | typeof PLATFORM_SET, items: readonly string[]): string {
  const fam = hook
  const t = checkTableName(table)
  const lines = [`flush set ${fam} ${t} ${set}`]
  if (items.length > 0) lines.push(`add element ${fam} ${t} ${set} { ${elements(items)} }`)
  return lines.join('\n') + '\n'
}

/** Removes the table; `add` first so that a missing table is not an error. */
export function teardownScript (hook: NftHook, table: string): string {
  const fam = hook
  const t = checkTableName(table)
  return `add table ${fam} ${t}\ndelete table ${fam} ${t}\n`
}
