/**
 * The `api` section of the agent config: where the local HTTP API listens.
 * Loopback only unless the operator says otherwise in so many words: the API
 * has no authentication, so exposing it is a decision, not a default.
 */
import { z } from 'zod'
import { parseIpv6 } from '../../lib/address.ts'
import { closed, integer, meets, nonEmpty } from '../config-issues.ts'

/** Serf's RPC is 7373 and its gossip 7946; ours sits apart from both. */
export const DEFAULT_API_PORT = 7878
export const DEFAULT_API_LISTEN = '::1'

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

export function isIpv4 (text: string): boolean {
  const m = IPV4.exec(text)
  return m !== null && m.slice(1).every(b => Number(b) <= 255)
}

/** True for ::1, ::ffff:127.x.y.z and 127.0.0.0/8. */
export function isLoopback (address: string): boolean {
  if (isIpv4(address)) return address.startsWith('127.')
  const g = parseIpv6(address)
  if (g === undefined) return false
  if (g.slice(0, 7).every(x => x === 0) && g[7] === 1) return true
  return g.slice(0, 5).every(x => x === 0) && g[5] === 0xffff && (g[6]! >> 8) === 127
}

const isIp = (s: string): boolean => isIpv4(s) || parseIpv6(s) !== undefined

/** The `api` section: every field has a default; a listen address off loopback needs allowNonLoopback. */
export const API_SECTION = closed({
  enabled: z.boolean().default(true),
  listen: nonEmpty().check(meets(isIp, 'an IP address such as "::1" (no brackets, no port)')).default(DEFAULT_API_LISTEN).meta({ description: 'An IP address literal (IPv6 or IPv4), no brackets, no port.' }),
  port: integer().min(0).max(65535).default(DEFAULT_API_PORT).meta({ description: '0 picks a free port (tests).' }),
  allowNonLoopback: z.boolean().default(false).meta({ description: 'Must be true for a listen address that is not loopback.' })
}).superRefine((api, ctx) => {
  // Runs even when another field is bad, so every problem is listed at once (and so on whatever was given).
  if (typeof api === 'object' && api !== null && typeof api.listen === 'string' && isIp(api.listen) && !isLoopback(api.listen) && api.allowNonLoopback !== true) {
    ctx.addIssue({ code: 'custom', path: ['listen'], input: api.listen, message: 'a loopback address (set api.allowNonLoopback to true to expose the API, which has no authentication)' })
  }
}, { when: () => true }).prefault({}).meta({
  description: 'The local HTTP API (status, members, monitor, console, Prometheus /metrics). Loopback only unless allowNonLoopback: it has no authentication.'
})

export type ApiConfig = z.output<typeof API_SECTION>

export const DEFAULT_API_CONFIG: Readonly<ApiConfig> = API_SECTION.parse(undefined)
