/**
 * The `api` section of the agent config: where the local HTTP API listens.
 * Loopback only unless the operator says otherwise in so many words: the API
 * has no authentication, so exposing it is a decision, not a default.
 */
import { parseIpv6 } from '../../lib/address.ts'
import { Checker, type Json } from '../../lib/check.ts'

/** Serf's RPC is 7373 and its gossip 7946; ours sits apart from both. */
export const DEFAULT_API_PORT = 7878
export const DEFAULT_API_LISTEN = '::1'

export interface ApiConfig {
  enabled: boolean
  /** An IP address literal (IPv6 or IPv4). */
  listen: string
  /** 0 picks a free port (tests). */
  port: number
  /** Must be true to listen anywhere but loopback. */
  allowNonLoopback: boolean
}

export const DEFAULT_API_CONFIG: Readonly<ApiConfig> = { enabled: true, listen: DEFAULT_API_LISTEN, port: DEFAULT_API_PORT, allowNonLoopback: false }

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

export function readApiConfig (c: Checker, v: Json): ApiConfig {
  if (v === undefined) return { ...DEFAULT_API_CONFIG }
  const o = c.object('api', v) ?? {}
  c.onlyKeys('api', o, ['enabled', 'listen', 'port', 'allowNonLoopback'])
  const enabled = o.enabled === undefined ? true : c.boolean('api.enabled', o.enabled) ?? true
  const allowNonLoopback = o.allowNonLoopback === undefined ? false : c.boolean('api.allowNonLoopback', o.allowNonLoopback) ?? false
  let listen = DEFAULT_API_LISTEN
  if (o.listen !== undefined) {
    const s = c.string('api.listen', o.listen)
    if (s !== undefined && !isIpv4(s) && parseIpv6(s) === undefined) c.fail('api.listen', 'an IP address such as "::1" (no brackets, no port)', s)
    else if (s !== undefined && !isLoopback(s) && !allowNonLoopback) c.fail('api.listen', 'a loopback address (set api.allowNonLoopback to true to expose the API, which has no authentication)', s)
    else if (s !== undefined) listen = s
  }
  const port = o.port === undefined ? DEFAULT_API_PORT : c.number('api.port', o.port, { min: 0, max: 65535, integer: true }) ?? DEFAULT_API_PORT
  return { enabled, listen, port, allowNonLoopback }
}
