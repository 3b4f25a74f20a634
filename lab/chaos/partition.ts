/**
 * Judging a partition of the lab's DCs (the split-2-2 and split-3-1 faults):
 * from the rounds the agents recorded, did a side without a strict majority
 * of the members stay out of planning and acting, did the majority side (if
 * any) go on, and how soon after the heal did every agent accept one plan
 * again. Pure: the caller reads the rounds (round-book.ts) and says which
 * rounds to judge.
 */
import type { AgentRound } from '../../lib/invariants.ts'

export interface PartitionSides {
  /** The hosts of each side. */
  sides: string[][]
  /** Every member's host. */
  members: string[]
}

export interface PartitionVerdict {
  /** Rounds judged for planning (the sides had noticed the split), first and last. */
  judged: [number, number]
  /** `host planned in round R` for each plan a minority host made in the judged rounds. */
  minorityPlans: string[]
  /** `host acted in round R` for each minority host that acted in any round of the split. */
  minorityActs: string[]
  /** Judged rounds in which every agent of the majority side accepted one plan (none without a majority side). */
  majorityRounds: number
}

/** A side is a minority unless it holds a strict majority of the members (as the agents' quorum says). */
export function isMinority (side: readonly string[], members: readonly string[]): boolean {
  return side.length * 2 <= members.length
}

/**
 * `split` the rounds from the cut to the heal (no minority host may act in
 * any of them), `judged` those in which the sides had noticed the split
 * (silence counts after 1.5 rounds, so from two rounds after the cut): no
 * minority host may plan in them.
 */
export function judgePartition (rounds: readonly AgentRound[], p: PartitionSides, split: [number, number], judged: [number, number]): PartitionVerdict {
  const minority = new Set(p.sides.filter(s => isMinority(s, p.members)).flat())
  const majority = p.sides.find(s => !isMinority(s, p.members)) ?? []
  const within = (r: AgentRound, [from, to]: [number, number]): boolean => r.round >= from && r.round <= to
  const minorityPlans = [...new Set(rounds.filter(r => within(r, judged) && r.planner !== undefined && minority.has(r.planner)).map(r => `${r.planner!} planned in round ${r.round}`))].sort()
  const minorityActs = rounds.filter(r => within(r, split) && minority.has(r.host) && r.acted).map(r => `${r.host} acted in round ${r.round}`).sort()
  let majorityRounds = 0
  for (let round = judged[0]; round <= judged[1] && majority.length > 0; round++) {
    const planners = majority.map(h => rounds.find(r => r.host === h && r.round === round)?.planner)
    if (planners.every(x => x !== undefined && x === planners[0])) majorityRounds++
  }
  return { judged, minorityPlans, minorityActs, majorityRounds }
}

/** The first round from `from` on in which every member accepted the same plan; undefined if none up to `to`. */
export function firstAgreedRound (rounds: readonly AgentRound[], members: readonly string[], from: number, to: number): number | undefined {
  for (let round = from; round <= to; round++) {
    const planners = members.map(h => rounds.find(r => r.host === h && r.round === round)?.planner)
    if (planners.every(x => x !== undefined && x === planners[0])) return round
  }
  return undefined
}
