/**
 * The member-list hash every HostState carries (docs/design.md §5.3): agents
 * whose configs list different members must not count each other's votes,
 * or a plan could gather a "majority" of two different member lists. The
 * hash is over the sorted `host peerId dc` entries, so the order of the
 * config's list does not matter but every entry's content does.
 */
import { createHash } from 'node:crypto'

export function memberListHash (members: ReadonlyArray<{ host: string, peerId: string, dc?: string | undefined }>): string {
  const lines = members.map(m => [m.host, m.peerId, m.dc ?? ''].join(' ')).sort()
  return createHash('sha256').update(lines.join('\n')).digest('hex')
}
