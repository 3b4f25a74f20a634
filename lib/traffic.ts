/**
 * From counters to a digest (docs/design.md §2.2). A host counts what its
 * own VMs send, and for traffic with the outside world also what they
 * receive, so every byte is counted once across the cluster. Addresses map
 * to VMs through the gossiped inventory; the rest is summed per external
 * prefix, and what maps to neither is counted as unattributed. Rates are
 * smoothed (EWMA) and the digest keeps the top-K peers per VM plus the rest.
 */
import { formatIpv6, type Ipv6Prefix, parseIpv6, parseIpv6Prefix, prefixContains } from './address.ts'
import type { ExternalPrefix } from './model.ts'
import { DIGEST_TOP_K, type TrafficDigest, type VmTraffic } from './wire/messages.ts'

export const DEFAULT_EWMA_ALPHA = 0.5
/** Rates below this (bit/s) are forgotten. */
export const RATE_FLOOR_BPS = 1

export interface ByteCount {
  src: string
  dst: string
  bytes: number
}

/** Maps addresses to VM ids (cluster-wide) and external prefixes. */
export class AddressBook {
  private readonly vmByAddress = new Map<string, string>()
  private readonly prefixes: Array<{ id: string, prefix: Ipv6Prefix }>
  private readonly local: ReadonlySet<string>
  private readonly cache = new Map<string, Endpoint>()

  constructor (vms: Iterable<{ id: string, addresses: readonly string[] }>, prefixes: readonly ExternalPrefix[], localVms: Iterable<string>) {
    for (const vm of vms) for (const a of vm.addresses) this.vmByAddress.set(canonical(a) ?? a, vm.id)
    // Longest prefix first, so the first match is the most specific.
    this.prefixes = prefixes
      .map(p => ({ id: p.id, prefix: parseIpv6Prefix(p.prefix) }))
      .filter((p): p is { id: string, prefix: Ipv6Prefix } => p.prefix !== undefined)
      .sort((a, b) => b.prefix.length - a.prefix.length)
    this.local = new Set(localVms)
  }

  resolve (address: string): Endpoint {
    let e = this.cache.get(address)
    if (e !== undefined) return e
    const groups = parseIpv6(address)
    if (groups === undefined) e = { kind: 'unknown' }
    else {
      const vm = this.vmByAddress.get(formatIpv6(groups))
      if (vm !== undefined) e = { kind: 'vm', id: vm, local: this.local.has(vm) }
      else {
        const p = this.prefixes.find(p => prefixContains(p.prefix, groups))
        e = p !== undefined ? { kind: 'prefix', id: p.id } : { kind: 'unknown' }
      }
    }
    if (this.cache.size < 100_000) this.cache.set(address, e)
    return e
  }
}

export type Endpoint =
  | { kind: 'vm', id: string, local: boolean }
  | { kind: 'prefix', id: string }
  | { kind: 'unknown' }

function canonical (address: string): string | undefined {
  const g = parseIpv6(address)
  return g === undefined ? undefined : formatIpv6(g)
}

export interface WindowStats {
  /** Bytes attributed to a local VM's traffic. */
  countedBytes: number
  /** Bytes another host counts (a remote VM sent them). */
  othersBytes: number
  /** Bytes with an end that is neither a known VM nor an external prefix. */
  unattributedBytes: number
}

/** Smoothed per-VM rates, fed one collector window at a time. */
export class TrafficWindow {
  private readonly alpha: number
  private readonly topK: number
  /** vm -> peer -> [out, in] in bit/s. */
  private readonly rates = new Map<string, Map<string, [number, number]>>()
  private lastWindowMs = 0

  constructor (init: { alpha?: number, topK?: number } = {}) {
    this.alpha = init.alpha ?? DEFAULT_EWMA_ALPHA
    this.topK = init.topK ?? DIGEST_TOP_K
  }

  update (counts: readonly ByteCount[], windowMs: number, book: AddressBook, localVms: Iterable<string>): WindowStats {
    const stats: WindowStats = { countedBytes: 0, othersBytes: 0, unattributedBytes: 0 }
    if (!(windowMs > 0)) return stats
    this.lastWindowMs = windowMs
    const sample = new Map<string, Map<string, [number, number]>>()
    const add = (vm: string, peer: string, dir: 0 | 1, bytes: number): void => {
      let m = sample.get(vm)
      if (m === undefined) { m = new Map(); sample.set(vm, m) }
      const r = m.get(peer) ?? [0, 0]
      r[dir] += bytes * 8 * 1000 / windowMs
      m.set(peer, r)
    }
    for (const c of counts) {
      const src = book.resolve(c.src); const dst = book.resolve(c.dst)
      if (src.kind === 'vm' && src.local) {
        if (dst.kind === 'unknown') { stats.unattributedBytes += c.bytes; continue }
        add(src.id, dst.id, 0, c.bytes); stats.countedBytes += c.bytes
      } else if (src.kind === 'prefix' && dst.kind === 'vm' && dst.local) {
        add(dst.id, src.id, 1, c.bytes); stats.countedBytes += c.bytes
      } else if (src.kind === 'vm') {
        stats.othersBytes += c.bytes
      } else {
        stats.unattributedBytes += c.bytes
      }
    }
    // EWMA over the union of old and new entries; VMs no longer here are dropped.
    const keep = new Set(localVms)
    for (const vm of [...this.rates.keys()]) if (!keep.has(vm)) this.rates.delete(vm)
    for (const vm of keep) {
      const old = this.rates.get(vm) ?? new Map<string, [number, number]>()
      const now = sample.get(vm) ?? new Map<string, [number, number]>()
      const next = new Map<string, [number, number]>()
      for (const peer of new Set([...old.keys(), ...now.keys()])) {
        const o = old.get(peer) ?? [0, 0]; const n = now.get(peer)
        const r: [number, number] = old.has(peer) ? [mix(this.alpha, o[0], n?.[0] ?? 0), mix(this.alpha, o[1], n?.[1] ?? 0)] : [n![0], n![1]]
        if (r[0] + r[1] >= RATE_FLOOR_BPS) next.set(peer, r)
      }
      if (next.size > 0) this.rates.set(vm, next); else this.rates.delete(vm)
    }
    return stats
  }

  /** The bounded digest: top-K peers per VM by total rate, the rest summed. */
  digest (): TrafficDigest {
    const vms: VmTraffic[] = []
    for (const [vm, peers] of [...this.rates].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const sorted = [...peers].sort((a, b) => (b[1][0] + b[1][1]) - (a[1][0] + a[1][1]) || (a[0] < b[0] ? -1 : 1))
      const top = sorted.slice(0, this.topK).map(([peer, r]) => ({ peer, out: round(r[0]), in: round(r[1]) }))
      const restOut = sorted.slice(this.topK).reduce((s, [, r]) => s + r[0], 0)
      vms.push({ vm, peers: top, restOut: round(restOut) })
    }
    return { windowMs: Math.max(1, this.lastWindowMs), vms }
  }
}

function mix (alpha: number, old: number, now: number): number {
  return alpha * now + (1 - alpha) * old
}

function round (x: number): number {
  return Math.round(x * 1000) / 1000
}
