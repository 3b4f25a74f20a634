/**
 * Members say whom their gater turned away (issue 18: a new host was
 * refused for minutes and no member said a word): one warning per peer per
 * minute, so a peer retrying every second does not flood the log.
 */
import type { Logger } from '../log.ts'

export const REFUSAL_LOG_EVERY_MS = 60_000
/** Peers remembered at most; the oldest are forgotten (a bound on what strangers can make us keep). */
const MAX_PEERS = 1024

export function refusalLog (log: Logger, why: (peerId: string) => string, now: () => number = Date.now): (peerId: string) => void {
  const said = new Map<string, number>()
  return (peer) => {
    const t = now()
    const last = said.get(peer)
    if (last !== undefined && t - last < REFUSAL_LOG_EVERY_MS) return
    said.delete(peer)
    said.set(peer, t)
    if (said.size > MAX_PEERS) said.delete(said.keys().next().value!)
    log.warn('refused a connection from a peer that is not a member', { peer, why: why(peer) })
  }
}
