/** The nftables collector's entry: its factory and its config kind (`collector: { kind: 'nftables', hooks?, platformPrefixes, table?, netns? }`). */
import { parseIpv6Prefix } from '../../../lib/address.ts'
import type { DriverFactory, DriverKind } from '../kinds.ts'
import { NftablesCollector, type NftablesCollectorInit } from './collector.ts'

export function nftables (init: NftablesCollectorInit = {}): DriverFactory<NftablesCollector> {
  return (components) => new NftablesCollector(components, init)
}

export interface NftablesSection {
  kind: 'nftables'
  hooks: Array<'bridge' | 'inet'>
  platformPrefixes: string[]
  table?: string
  netns?: string
}

export const NFTABLES_KIND: DriverKind<NftablesSection, NftablesCollector> = {
  read (c, path, o) {
    c.onlyKeys(path, o, ['kind', 'hooks', 'platformPrefixes', 'table', 'netns'])
    const hooks = o.hooks === undefined ? ['bridge' as const] : (c.array(`${path}.hooks`, o.hooks) ?? []).map((h, i) => c.oneOf(`${path}.hooks[${i}]`, h, ['bridge', 'inet'] as const) ?? 'bridge')
    const platformPrefixes = (c.array(`${path}.platformPrefixes`, o.platformPrefixes) ?? []).map((p, i) => {
      const s = c.string(`${path}.platformPrefixes[${i}]`, p) ?? ''
      if (s !== '' && parseIpv6Prefix(s) === undefined) c.fail(`${path}.platformPrefixes[${i}]`, 'an IPv6 prefix such as "fd00::/8"', s)
      return s
    })
    const out: NftablesSection = { kind: 'nftables', hooks, platformPrefixes }
    if (o.table !== undefined) out.table = c.string(`${path}.table`, o.table) ?? ''
    if (o.netns !== undefined) out.netns = c.string(`${path}.netns`, o.netns) ?? ''
    return out
  },
  factory (section) {
    return nftables({
      hooks: section.hooks,
      platformPrefixes: section.platformPrefixes,
      ...(section.table !== undefined ? { table: section.table } : {}),
      ...(section.netns !== undefined ? { netns: section.netns } : {})
    })
  }
}
