/**
 * A receiver's check of a plan (docs/design.md §5.2): the planner's place in
 * the receiver's own ranking is at most its claimed rank, it comes no earlier
 * than its rank's slot less the skew tolerance, and before the next round's
 * planning time. The same rules the agent's Election.check applies, on the
 * model's numbers (the agent's class is not imported: agent/ is being split).
 */
import { planDeadlineMs, type RoundTiming } from '../../lib/rounds.ts'

export type PlanVerdict = 'ok' | 'not-elected' | 'stale-round'

export function checkPlan (ranking: readonly number[], planner: number, claimedRank: number, round: number, arrivedAt: number, timing: RoundTiming): PlanVerdict {
  const position = ranking.indexOf(planner)
  if (position < 0 || position > claimedRank) return 'not-elected'
  if (arrivedAt < planDeadlineMs(round, claimedRank, timing) - timing.takeoverMs / 2) return 'not-elected'
  if (arrivedAt >= planDeadlineMs(round + 1, 0, timing)) return 'stale-round'
  return 'ok'
}
