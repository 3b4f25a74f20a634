/**
 * The config's peer ids and multiaddrs checked as libp2p reads them, for
 * `heliotrope config check` (which the unit runs before every start). The
 * schema only asks for strings there: a mistyped peer id passed and became a
 * member that is always down (a lone agent then logged "no quorum"), an
 * /ip4 listen address left the agent off the IPv6 network the cluster
 * gossips on, and a bootstrap address without /p2p could not be dialled as
 * a member. Works on the raw JSON, so it runs beside the schema's own
 * issues rather than after them.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { describe, type Issue } from '../lib/errors.ts'

/** Protocols an agent's own address may start with: the cluster gossips over IPv6 (docs/design.md §3). */
const IPV6_FIRST = new Set(['ip6', 'dns6'])

export function addressIssues (config: unknown): Issue[] {
  if (typeof config !== 'object' || config === null) return []
  const c = config as Record<string, unknown>
  const out: Issue[] = []
  const members = Array.isArray(c.members) ? c.members : []
  const memberIds = new Set<string>()
  members.forEach((m: unknown, i) => {
    if (typeof m !== 'object' || m === null) return
    const { peerId, addresses } = m as Record<string, unknown>
    if (typeof peerId === 'string') {
      if (validPeerId(peerId)) memberIds.add(peerId)
      else out.push({ path: `members.${i}.peerId`, expected: 'a libp2p peer id (heliotrope init prints this host\'s, e.g. 12D3KooW...)', found: describe(peerId) })
    }
    if (Array.isArray(addresses)) addresses.forEach((a: unknown, j) => { out.push(...addressIssue(`members.${i}.addresses.${j}`, a, { ipv6: true, p2p: 'optional' })) })
  })
  strings(c.observers).forEach(([o, i]) => {
    if (!validPeerId(o)) out.push({ path: `observers.${i}`, expected: 'a libp2p peer id', found: describe(o) })
  })
  strings(c.listen).forEach(([a, i]) => { out.push(...addressIssue(`listen.${i}`, a, { ipv6: true, p2p: 'never' })) })
  strings(c.announce).forEach(([a, i]) => { out.push(...addressIssue(`announce.${i}`, a, { ipv6: true, p2p: 'optional' })) })
  strings(c.bootstrap).forEach(([a, i]) => {
    const path = `bootstrap.${i}`
    const issues = addressIssue(path, a, { ipv6: true, p2p: 'required' })
    out.push(...issues)
    if (issues.length > 0 || memberIds.size === 0) return
    const id = multiaddr(a).getComponents().findLast(p => p.name === 'p2p')?.value
    if (id !== undefined && !memberIds.has(id)) out.push({ path, expected: 'the address of a member (its /p2p peer id in members)', found: describe(a) })
  })
  return out
}

interface AddressRules {
  ipv6: boolean
  /** Whether the address ends in /p2p/<peer id>: a dial target must, a listen address must not. */
  p2p: 'required' | 'optional' | 'never'
}

function addressIssue (path: string, value: unknown, rules: AddressRules): Issue[] {
  if (typeof value !== 'string') return []
  let ma: Multiaddr
  try { ma = multiaddr(value) } catch (err) {
    return [{ path, expected: `a multiaddr (${(err as Error).message})`, found: describe(value) }]
  }
  const parts = ma.getComponents()
  if (rules.ipv6 && !IPV6_FIRST.has(parts[0]?.name ?? '')) return [{ path, expected: 'an IPv6 multiaddr (/ip6/... or /dns6/...): the cluster gossips over IPv6', found: describe(value) }]
  const p2p = parts.findLast(p => p.name === 'p2p')
  if (rules.p2p === 'required' && p2p === undefined) return [{ path, expected: 'a multiaddr ending in /p2p/<peer id> (a member to dial)', found: describe(value) }]
  if (rules.p2p === 'never' && p2p !== undefined) return [{ path, expected: 'a listen multiaddr without /p2p', found: describe(value) }]
  if (p2p?.value !== undefined && !validPeerId(p2p.value)) return [{ path, expected: 'a valid peer id after /p2p', found: describe(value) }]
  return []
}

function validPeerId (s: string): boolean {
  try { peerIdFromString(s); return true } catch { return false }
}

function strings (value: unknown): Array<[string, number]> {
  return Array.isArray(value) ? value.flatMap((v: unknown, i) => typeof v === 'string' ? [[v, i] as [string, number]] : []) : []
}
