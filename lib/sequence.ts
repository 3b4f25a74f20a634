/**
 * A host's message sequence numbers. Receivers drop any message numbered at
 * or below the last they took from its author (a replay, lib/view.ts), so
 * the numbers must rise for good: across restarts and when the clock steps
 * back. They follow the wall clock (SEQ_PER_MS per ms), so a host whose
 * stored mark is lost still starts above what it sent before, and never
 * fall below a high-water mark reserved ahead on disk (agent/cluster/
 * seq-store.ts): a restart starts above the mark whatever the clock says.
 */

/** Sequence numbers per millisecond of wall clock. */
export const SEQ_PER_MS = 1000
/**
 * How far ahead a stored mark reserves: 10 s of clock. A mark is written
 * (and fsync'ed) only when a number passes the last, so a host with its
 * clock right writes about once per 10 s of messages, not once per message.
 */
export const SEQ_RESERVE = 10_000 * SEQ_PER_MS

/** The number after `last` at `nowMs`: the clock's, unless the clock is behind `last`. */
export function nextSeq (last: number, nowMs: number): number {
  return Math.max(last + 1, nowMs * SEQ_PER_MS)
}

/** The mark to store before a message numbered `seq` may leave, or undefined while `reserved` covers it. */
export function reservationFor (seq: number, reserved: number): number | undefined {
  return seq <= reserved ? undefined : seq + SEQ_RESERVE
}
