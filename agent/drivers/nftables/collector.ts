/**
 * The real traffic collector: per-(source, destination) IPv6 byte counters
 * kept by the kernel in an nftables set on the host's forward path (see
 * ruleset.ts for which hook, which packets and why), read each window and
 * turned into deltas.
 *
 * What a byte is: the counter adds the packet's length as the hook sees it,
 * which in both the bridge and the inet family is the IPv6 packet: the
 * 40-byte IPv6 header, extension headers, the transport header and payload;
 * no Ethernet header, VLAN tag or FCS. A UDP datagram of P payload bytes
 * counts P + 48. Segments merged by GRO (TCP bulk transfers) pass the hook
 * as one packet, so their repeated headers are counted once. Frames the
 * bridge floods (unknown unicast, multicast) pass the forward hook once per
 * egress port and are counted that many times.
 */
import { CollectorError, type CollectorSample, type CounterDelta, type TrafficCollector } from '../types.ts'
import { CounterDeltas } from './deltas.ts'
import { Nft, type NftInit } from './nft.ts'
import { parseTable } from './parse.ts'
import {
  DEFAULT_ENTRY_TIMEOUT_SEC, DEFAULT_HOOKS, DEFAULT_PRIORITY, DEFAULT_SET_SIZE, DEFAULT_TABLE, FLOW_SET, LOCAL_SET,
  type NftHook, PLATFORM_SET, replaceSetScript, setupScript, teardownScript, UNCOUNTED_COUNTER, checkPrefix, checkTableName
} from './ruleset.ts'

export interface NftablesCollectorInit extends NftInit {
  /** The table's name (in each hook's family); tests give each collector its own. */
  table?: string
  /** Where to count: 'bridge' (bridged taps, the default), 'inet' (routed), or both (bridge for VMs, routing beyond). */
  hooks?: readonly NftHook[]
  /** This host's VM addresses or prefixes; traffic they send is counted. Change with setLocalAddresses(). */
  localAddresses?: readonly string[]
  /**
   * Every prefix the platform's VMs use. What local VMs receive from outside
   * these is counted here too (external traffic); from inside, the sender's
   * host counts it. Empty means every sender is external: only right for a
   * single-host platform.
   */
  platformPrefixes?: readonly string[]
  /** Most pairs counted at once; bytes of further pairs are reported as uncountedBytes. */
  setSize?: number
  /** A pair without traffic for this long leaves the set; keep it well above the read interval. */
  entryTimeoutSec?: number
  /** The forward chain's priority. */
  priority?: number
}

/** Nothing from the host: its VM addresses come later, through setLocalAddresses(). */
export type NftablesComponents = Record<never, never>

/** Bridged IPv6 handed to the inet hooks too when br_netfilter is loaded; per network namespace. */
const BR_NETFILTER_IP6 = '/proc/sys/net/bridge/bridge-nf-call-ip6tables'

export class NftablesCollector implements TrafficCollector {
  readonly name = 'nftables'
  readonly table: string
  readonly hooks: readonly NftHook[]
  private readonly nft: Nft
  private local: readonly string[]
  private platform: readonly string[]
  private started = false
  private lastReadMs: number | undefined
  private readonly pairDeltas = new CounterDeltas<string>()
  private readonly uncountedDeltas = new CounterDeltas<NftHook>()

  private readonly init: NftablesCollectorInit
  constructor (_components: NftablesComponents, init: NftablesCollectorInit) {
    this.init = init
    this.table = init.table ?? DEFAULT_TABLE
    this.hooks = [...new Set(init.hooks ?? DEFAULT_HOOKS)]
    this.nft = new Nft(init)
    this.local = init.localAddresses ?? []
    this.platform = init.platformPrefixes ?? []
  }

  async start (): Promise<void> {
    if (this.started) return
    checkTableName(this.table)
    if (this.hooks.length === 0) throw new CollectorError('no hook to count on')
    for (const a of [...this.local, ...this.platform]) checkPrefix(a)
    await this.nft.locate()
    if (this.hooks.includes('bridge') && this.hooks.includes('inet') && (await this.nft.readFile(BR_NETFILTER_IP6))?.trim() === '1') {
      throw new CollectorError(`${BR_NETFILTER_IP6} is 1: bridged IPv6 would pass both hooks and be counted twice; set it to 0 or count on one hook`)
    }
    const done: NftHook[] = []
    try {
      for (const hook of this.hooks) {
        await this.nft.apply(setupScript({
          hook,
          table: this.table,
          setSize: this.init.setSize ?? DEFAULT_SET_SIZE,
          timeoutSec: this.init.entryTimeoutSec ?? DEFAULT_ENTRY_TIMEOUT_SEC,
          priority: this.init.priority ?? DEFAULT_PRIORITY,
          local: this.local,
          platform: this.platform
        }))
        done.push(hook)
      }
    } catch (err) {
      await Promise.allSettled(done.map(h => this.nft.apply(teardownScript(h, this.table))))
      throw err
    }
    this.lastReadMs = undefined
    this.started = true
  }

  /** Sets this host's VM addresses (or prefixes), e.g. after a migration; takes effect atomically. */
  async setLocalAddresses (addresses: readonly string[]): Promise<void> {
    addresses.forEach(checkPrefix)
    this.local = [...addresses]
    if (this.started) for (const h of this.hooks) await this.nft.apply(replaceSetScript(h, this.table, LOCAL_SET, this.local))
  }

  /** Sets the platform's VM prefixes. */
  async setPlatformPrefixes (prefixes: readonly string[]): Promise<void> {
    prefixes.forEach(checkPrefix)
    this.platform = [...prefixes]
    if (this.started) for (const h of this.hooks) await this.nft.apply(replaceSetScript(h, this.table, PLATFORM_SET, this.platform))
  }

  async read (nowMs: number): Promise<CollectorSample> {
    if (!this.started) throw new CollectorError('nftables collector read before start()')
    const tables = await Promise.all(this.hooks.map(async hook =>
      ({ hook, counters: parseTable(await this.nft.json(['list', 'table', hook, this.table]), FLOW_SET, UNCOUNTED_COUNTER) })))
    const pairs = new Map<string, number>()
    const uncounted = new Map<NftHook, number>()
    for (const { hook, counters } of tables) {
      // Keyed per hook: each table's counters are monotonic on their own.
      for (const p of counters.pairs) pairs.set(`${hook} ${p.src} ${p.dst}`, p.bytes)
      uncounted.set(hook, counters.uncountedBytes)
    }
    if (this.lastReadMs === undefined) {
      this.pairDeltas.reset(pairs)
      this.uncountedDeltas.reset(uncounted)
      this.lastReadMs = nowMs
      return { deltas: [], windowMs: 0, uncountedBytes: 0 }
    }
    const byPair = new Map<string, CounterDelta>()
    for (const [key, bytes] of this.pairDeltas.step(pairs)) {
      const [, src, dst] = key.split(' ') as [string, string, string]
      const pair = `${src} ${dst}`
      const d = byPair.get(pair)
      if (d === undefined) byPair.set(pair, { src, dst, bytes })
      else d.bytes += bytes
    }
    let uncountedBytes = 0
    for (const b of this.uncountedDeltas.step(uncounted).values()) uncountedBytes += b
    const windowMs = nowMs - this.lastReadMs
    this.lastReadMs = nowMs
    return { deltas: [...byPair.values()], windowMs, uncountedBytes }
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    const results = await Promise.allSettled(this.hooks.map(h => this.nft.apply(teardownScript(h, this.table))))
    const failed = results.find(r => r.status === 'rejected')
    if (failed !== undefined) throw failed.reason
  }
}
