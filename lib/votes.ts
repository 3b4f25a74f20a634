/**
 * This host's own votes, one per round: the round and the planner it voted
 * for. They outlive a restart (agent/vote-book.ts keeps them on disk), so a
 * restarted agent never votes for a second plan in a round it voted in:
 * two plans of one round can then never each count a majority.
 */

/** Rounds of own votes kept: plans older than the previous round are stale anyway (agent/ballot.ts). */
export const VOTE_MEMORY_ROUNDS = 16

/**
 * Whether this host may vote for `planner`'s plan in `round`: 'vote' when
 * it has not voted in the round, 'again' when it voted for this very plan
 * (saying so again changes no count), 'refuse' when it voted for another.
 */
export function voteDecision (votes: ReadonlyMap<number, string>, round: number, planner: string): 'vote' | 'again' | 'refuse' {
  const voted = votes.get(round)
  if (voted === undefined) return 'vote'
  return voted === planner ? 'again' : 'refuse'
}

/** The votes worth keeping once the newest is for `newest`: the last VOTE_MEMORY_ROUNDS rounds. */
export function keptVotes (votes: ReadonlyMap<number, string>, newest: number): Map<number, string> {
  return new Map([...votes].filter(([round]) => round > newest - VOTE_MEMORY_ROUNDS))
}
