/**
 * Reads the router's own counters for every WAN direction: the bytes the
 * nft rule saw entering the link (offered, before shaping; IPv6 lengths)
 * and what the htb class sent and dropped (carried; frame lengths, as tc
 * counts them). These, not the agents' numbers, are the lab's ground truth.
 */
import { run } from '../drivers/lab-host/exec.ts'
import { Nft } from '../../agent/drivers/nftables/nft.ts'
import { classId, counterName, ROUTER_TABLE, type ShapedLink } from './shaping.ts'

export interface LinkCounters {
  from: number
  to: number
  /**
   * When each counter was read: the reads run as separate processes, and on
   * a busy machine they finish hundreds of ms apart. The kernel answers at
   * the end of a read, so its completion time is the counter's time.
   */
  offeredAtMs: number
  carriedAtMs: number
  offeredBytes: number
  offeredPackets: number
  carriedBytes: number
  carriedPackets: number
  droppedPackets: number
}

export interface RouterSample {
  atMs: number
  links: LinkCounters[]
}

interface ClassCounters { bytes: number, packets: number, dropped: number }

/** Parses `tc -s class show` text (this iproute2 prints no JSON for htb classes). */
export function parseTcClasses (text: string): Map<string, ClassCounters> {
  const out = new Map<string, ClassCounters>()
  const re = /^class htb (\S+) [^\n]*\n\s*Sent (\d+) bytes (\d+) pkt \(dropped (\d+)/gm
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    out.set(m[1]!, { bytes: Number(m[2]), packets: Number(m[3]), dropped: Number(m[4]) })
  }
  return out
}

/** Parses `nft -j list counters table inet ht_router`. */
export function parseNftCounters (doc: unknown): Map<string, { bytes: number, packets: number }> {
  const out = new Map<string, { bytes: number, packets: number }>()
  const items = (doc as { nftables?: unknown[] }).nftables ?? []
  for (const item of items) {
    const c = (item as { counter?: { name?: unknown, bytes?: unknown, packets?: unknown } }).counter
    if (c !== undefined && typeof c.name === 'string') out.set(c.name, { bytes: Number(c.bytes), packets: Number(c.packets) })
  }
  return out
}

export class RouterCounters {
  private readonly nft: Nft
  readonly ns: string
  readonly bridges: readonly string[]
  readonly links: readonly ShapedLink[]
  constructor (ns: string, bridges: readonly string[], links: readonly ShapedLink[]) {
    this.ns = ns
    this.bridges = bridges
    this.links = links
    this.nft = new Nft({ netns: ns })
  }

  async read (): Promise<RouterSample> {
    const stamped = async <T>(p: Promise<T>): Promise<{ value: T, atMs: number }> => { const value = await p; return { value, atMs: Date.now() } }
    const [nft, ...classes] = await Promise.all([
      stamped(this.nft.json(['list', 'counters', 'table', 'inet', ROUTER_TABLE]).then(parseNftCounters)),
      ...this.bridges.map(async b => stamped(run(['tc', '-n', this.ns, '-s', 'class', 'show', 'dev', b]).then(parseTcClasses)))
    ])
    return {
      atMs: nft.atMs,
      links: this.links.map(l => {
        const offered = nft.value.get(counterName(l.from, l.to))
        const tc = classes[l.to]
        const cls = tc?.value.get(classId(l.from))
        return {
          from: l.from,
          to: l.to,
          offeredAtMs: nft.atMs,
          carriedAtMs: tc?.atMs ?? nft.atMs,
          offeredBytes: offered?.bytes ?? 0,
          offeredPackets: offered?.packets ?? 0,
          carriedBytes: cls?.bytes ?? 0,
          carriedPackets: cls?.packets ?? 0,
          droppedPackets: cls?.dropped ?? 0
        }
      })
    }
  }
}

export interface LinkRate {
  from: number
  to: number
  /** bit/s over the interval. */
  offeredBps: number
  carriedBps: number
  droppedPps: number
}

/** Rates between two samples, each counter over its own interval. */
export function rates (a: RouterSample, b: RouterSample): LinkRate[] {
  return b.links.map((l, i) => {
    const p = a.links[i]!
    const dOffered = (l.offeredAtMs - p.offeredAtMs) / 1000
    const dCarried = (l.carriedAtMs - p.carriedAtMs) / 1000
    return {
      from: l.from,
      to: l.to,
      offeredBps: dOffered > 0 ? (l.offeredBytes - p.offeredBytes) * 8 / dOffered : 0,
      carriedBps: dCarried > 0 ? (l.carriedBytes - p.carriedBytes) * 8 / dCarried : 0,
      droppedPps: dCarried > 0 ? (l.droppedPackets - p.droppedPackets) / dCarried : 0
    }
  })
}
