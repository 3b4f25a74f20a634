/** Who counts as alive, and whether enough of the cluster is: read from the view's last-heard times. */
import type { ReplicatedView } from '../../lib/view.ts'

/** Members heard within this many rounds count towards a quorum (each publishes its digest every round). */
export const QUORUM_ROUNDS = 1.5

/** The members the view holds live: the candidates of a round's ranking. */
export function liveMembers (view: ReplicatedView, now: number): Array<{ host: string, peerId: string }> {
  return view.live(now).map(m => ({ host: m.host, peerId: m.peerId }))
}

/**
 * A strict majority of the members (ourselves included) has been heard
 * within the last QUORUM_ROUNDS rounds: a side of a partition without it
 * does not plan (its plan could never gather a majority of votes anyway).
 */
export function hasQuorum (view: ReplicatedView, host: string, now: number, periodMs: number): boolean {
  const members = view.members()
  const heard = members.filter(m => m.host === host || now - m.lastSeenMs <= periodMs * QUORUM_ROUNDS).length
  return heard > members.length / 2
}
