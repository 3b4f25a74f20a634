/** The nftables collector's entry: its factory and its config kind (`collector: { kind: 'nftables', hooks?, platformPrefixes, table?, netns? }`). */
import { parseIpv6Prefix } from '../../../lib/address.ts'
import { z } from 'zod'
import { closed, meets, nonEmpty } from '../../config-issues.ts'
import type { DriverFactory, DriverKind } from '../kinds.ts'
import { NftablesCollector, type NftablesCollectorInit } from './collector.ts'

export function nftables (init: NftablesCollectorInit = {}): DriverFactory<NftablesCollector> {
  return (components) => new NftablesCollector(components, init)
}

const NFTABLES_SECTION = closed({
  kind: z.literal('nftables'),
  hooks: z.array(z.enum(['bridge', 'inet'])).default(() => ['bridge' as const]).meta({ description: 'Where to count: bridge (bridged taps), inet (routed), or both.' }),
  platformPrefixes: z.array(nonEmpty().check(meets(s => parseIpv6Prefix(s) !== undefined, 'an IPv6 prefix such as "fd00::/8"'))).meta({ description: "IPv6 prefixes of the platform's VMs." }),
  table: nonEmpty().optional().meta({ description: "The nftables table's name (in each hook's family)." }),
  netns: nonEmpty().optional().meta({ description: 'Run nft inside this named network namespace.' })
})

export type NftablesSection = z.output<typeof NFTABLES_SECTION>

export const NFTABLES_KIND: DriverKind<NftablesSection, NftablesCollector> = {
  section: NFTABLES_SECTION,
  factory (section) {
    return nftables({
      hooks: section.hooks,
      platformPrefixes: section.platformPrefixes,
      ...(section.table !== undefined ? { table: section.table } : {}),
      ...(section.netns !== undefined ? { netns: section.netns } : {})
    })
  }
}
