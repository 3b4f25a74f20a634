/**
 * WAN shaping on the one router in the middle of the star. Pure: builds the
 * nft and tc scripts.
 *
 * Each DC is one bridge in the router's namespace (its LAN: the hosts'
 * uplinks and the DC's client networks are its ports) and one routed
 * interface. Everything crossing DCs is routed, so it leaves through the
 * bridge interface of the destination DC; that interface carries an htb
 * qdisc with one class per source DC, at the capacity of the link
 * source -> destination, and a default class for the rest (routed traffic
 * within a DC, the control plane). One class per direction per DC pair, so
 * every link is limited once, whichever host inside the DC a VM is on.
 *
 * Classification cannot use addresses: a VM keeps its address when it
 * moves to another DC. It uses where a packet entered: the router's nft
 * forward chain maps (input bridge, output bridge) to the htb class id and
 * sets it as the packet's priority, which htb takes as the class directly
 * (this kernel has neither the fw nor u32's mark match). The same rule
 * counts the bytes offered to the link before shaping, and tc's class
 * counters say what the link carried and dropped.
 *
 * The hosts' own traffic (the agents' gossip: the infrastructure prefix) is the
 * management network: never shaped, never counted as WAN load, as if it ran
 * out of band. A DC can be cut off the WAN (chaos): a rule in the `cut`
 * chain drops what is routed into or out of its bridge, control plane
 * included; traffic inside the DC is untouched.
 */
import { INFRA_PREFIX } from './addresses.ts'

export const ROUTER_TABLE = 'ht_router'
export const CUT_CHAIN = 'cut'
/** Classes 1:10 + source DC number; 1:1 is the unshaped default. */
export const DEFAULT_CLASS = '1:1'
export const UNSHAPED_RATE = '10gbit'
/** The leaf queue holds this much time at the link's rate: a WAN router's buffer, not a bufferbloat. */
export const QUEUE_SECONDS = 0.1
export const MIN_QUEUE_BYTES = 6_000
/** Larger than one frame; only matters when classes borrow, and ours do not (ceil = rate). */
const QUANTUM = 1514

export interface ShapedLink {
  /** DC numbers. */
  from: number
  to: number
  capacityBps: number
}

export function classId (fromDc: number): string {
  return `1:${(0x10 + fromDc).toString(16)}`
}

export function counterName (from: number, to: number): string {
  return `wan_${from}_${to}`
}

export function queueBytes (capacityBps: number): number {
  return Math.max(MIN_QUEUE_BYTES, Math.round(capacityBps * QUEUE_SECONDS / 8))
}

/** The router's forward chain: cut DCs, skip the management network, classify and count each WAN direction. */
export function routerRulesScript (bridges: readonly string[], links: readonly ShapedLink[]): string {
  const t = ROUTER_TABLE
  const lines = [
    `add table inet ${t}`,
    `delete table inet ${t}`,
    `table inet ${t} {`,
    ...links.map(l => `  counter ${counterName(l.from, l.to)} { }`),
    `  chain ${CUT_CHAIN} { }`,
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    `    jump ${CUT_CHAIN}`,
    `    ip6 saddr ${INFRA_PREFIX} return`,
    `    ip6 daddr ${INFRA_PREFIX} return`,
    ...links.map(l => `    iifname "${bridges[l.from]}" oifname "${bridges[l.to]}" counter name "${counterName(l.from, l.to)}" meta priority set ${classId(l.from)}`),
    '  }',
    '}'
  ]
  return lines.join('\n') + '\n'
}

/** tc batch lines for one DC bridge: htb root, the unshaped default, one class per link into this DC. */
export function htbBatch (bridge: string, toDc: number, links: readonly ShapedLink[]): string[] {
  const out = [
    `qdisc replace dev ${bridge} root handle 1: htb default ${DEFAULT_CLASS.slice(2)}`,
    `class replace dev ${bridge} parent 1: classid ${DEFAULT_CLASS} htb rate ${UNSHAPED_RATE} quantum ${QUANTUM}`
  ]
  for (const l of links.filter(l => l.to === toDc)) {
    const id = classId(l.from)
    const rate = `${Math.round(l.capacityBps)}bit`
    out.push(`class replace dev ${bridge} parent 1: classid ${id} htb rate ${rate} ceil ${rate} quantum ${QUANTUM}`)
    out.push(`qdisc replace dev ${bridge} parent ${id} handle ${(0x10 + l.from).toString(16)}: bfifo limit ${queueBytes(l.capacityBps)}`)
  }
  return out
}

/**
 * Cuts exactly the DCs of `bridges` off the WAN (what is routed into or out
 * of them is dropped), and splits the DCs into `sides` (DC bridges): what is
 * routed from one side to another is dropped, each side keeps its own WAN
 * links. [] and [] lift every cut.
 */
export function cutsScript (bridges: readonly string[], sides: ReadonlyArray<readonly string[]> = []): string {
  const lines = [`flush chain inet ${ROUTER_TABLE} ${CUT_CHAIN}`]
  for (const b of bridges) {
    lines.push(`add rule inet ${ROUTER_TABLE} ${CUT_CHAIN} iifname "${b}" oifname != "${b}" drop`)
    lines.push(`add rule inet ${ROUTER_TABLE} ${CUT_CHAIN} oifname "${b}" iifname != "${b}" drop`)
  }
  sides.forEach((side, i) => {
    for (const other of sides.filter((_, j) => j !== i)) {
      for (const a of side) for (const b of other) lines.push(`add rule inet ${ROUTER_TABLE} ${CUT_CHAIN} iifname "${a}" oifname "${b}" drop`)
    }
  })
  return lines.join('\n') + '\n'
}
