/**
 * When a staged topology takes over (docs/design.md §3.8): every agent
 * decides from its own view, and they must decide the same round, so the
 * rule uses only what every member gossips: the hash each runs and the
 * hash and round each staged. Pure: the agent passes its view in.
 */

/** Rounds between the last member's staging and the switch: one for its state to reach everyone, one to spare. */
export const SWITCH_AFTER_ROUNDS = 2

/** What a member's latest state says of its topology. */
export interface MemberTopology {
  host: string
  /** The hash it runs. */
  running: string
  /** The hash it staged and the round it staged it, if any. */
  staged?: { topology: string, round: number }
}

export type SwitchDecision =
  /** Every member has staged `hash` or runs it already: switch at the start of `round` (or at once, when it is past). */
  | { kind: 'switch', hash: string, round: number }
  /** Members that neither staged `hash` nor run it: nobody switches while they are up. */
  | { kind: 'waiting', hash: string, missing: string[] }

/**
 * The switch onto `hash` (the one this agent staged), given the up members
 * (this agent among them, as it stands now). Order does not matter: the
 * round is the latest staging round plus SWITCH_AFTER_ROUNDS, so agents
 * that see the last staging at slightly different moments still agree. A
 * member that switched still says which staging it switched on (its round
 * counts, so an agent that hears of a switch before its own round start
 * computes the same round); one running `hash` without it (restarted onto
 * the new file) counts as ready and adds no round: when all the others
 * are such, the round is the earliest possible (now, for whoever asks).
 */
export function switchRound (hash: string, members: readonly MemberTopology[]): SwitchDecision {
  const missing: string[] = []
  let latest = -Infinity
  for (const m of members) {
    if (m.staged?.topology === hash) latest = Math.max(latest, m.staged.round)
    else if (m.running !== hash) missing.push(m.host)
  }
  if (missing.length > 0) return { kind: 'waiting', hash, missing: missing.sort() }
  return { kind: 'switch', hash, round: latest + SWITCH_AFTER_ROUNDS }
}
