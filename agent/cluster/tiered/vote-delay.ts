/**
 * When a tiered host votes for the plan it accepted (docs/design.md §9.8):
 * after the plan has had time to reach every host, at a per-host offset.
 *
 * A plan runs only at the next rank's slot (§5.4), so its votes have that
 * slot to gather. Sent at once, they came back while the plan was still
 * spreading: each costs four signature checks (its aggregator's and every
 * other DC's) and a durable write, about as much CPU as the plan's own
 * fan-out, and the hosts that heard of the plan last waited behind them.
 * The vote is written to disk only when it is about to leave (vote-book.ts):
 * a vote nobody saw needs no record.
 */
import { spreadOffsetMs, type RoundTiming } from '../../../lib/rounds.ts'

/** Votes wait at least this share of a takeover slot after their plan was accepted: its fan-out comes first. */
export const VOTE_AFTER_SHARE = 0.1
/** ...and are spread over this share of it after that, host by host. */
export const VOTE_SPREAD_SHARE = 0.15

/** How long `host` waits after accepting the plan of `round` before its vote is written and sent (ms). */
export function voteDelayMs (host: string, round: number, timing: RoundTiming): number {
  return Math.round(VOTE_AFTER_SHARE * timing.takeoverMs) + spreadOffsetMs(`${host}/vote/${round}`, VOTE_SPREAD_SHARE * timing.takeoverMs)
}
