/**
 * Round timing. Rounds are numbered from the Unix epoch by the round period,
 * so agents agree on the round from their clocks alone. Within a round:
 * measure and gossip until `planAtMs`, rank 0 plans then, rank k takes over
 * when no valid plan was seen `k * takeoverMs` later, and moves must start
 * before the round ends. Clock skew of up to about takeoverMs / 2 leaves the
 * order intact: a skewed agent takes over early or late by its skew, but
 * still after lower ranks had their full slot minus the skew.
 */

export interface RoundTiming {
  periodMs: number
  /** Offset into the round at which rank 0 plans. */
  planAtMs: number
  /** How long each rank waits for the previous one. */
  takeoverMs: number
}

export const DEFAULT_ROUND_PERIOD_MS = 30_000

export function defaultTiming (periodMs = DEFAULT_ROUND_PERIOD_MS): RoundTiming {
  return { periodMs, planAtMs: Math.round(periodMs * 0.4), takeoverMs: Math.round(periodMs * 0.1) }
}

export function roundAt (nowMs: number, t: RoundTiming): number {
  return Math.floor(nowMs / t.periodMs)
}

export function roundStartMs (round: number, t: RoundTiming): number {
  return round * t.periodMs
}

/** When candidate `rank` plans if no lower rank's plan has arrived. */
export function planDeadlineMs (round: number, rank: number, t: RoundTiming): number {
  return roundStartMs(round, t) + t.planAtMs + rank * t.takeoverMs
}

/** How many ranks fit in a round: beyond that, the round passes without a plan. */
export function maxRanks (t: RoundTiming): number {
  return Math.max(1, Math.floor((t.periodMs - t.planAtMs) / t.takeoverMs) - 1)
}

/**
 * The share of the time before planning over which hosts spread their state
 * and digest. The last go out at 34% of the round, 6% before planning: more
 * than the clock skew rounds tolerate (takeoverMs / 2, 5%) plus the time a
 * digest takes to reach everyone. Measured at 64 agents on two cores
 * (bench:gossip, 3 rounds): over the first half of that time, digest p50/p99
 * 478/1180 ms; over 85% of it, 131/622 ms.
 */
export const PUBLISH_SPREAD = 0.85

/**
 * When in its round a host publishes its state and digest: at a fixed
 * pseudo-random offset in the first PUBLISH_SPREAD of the time before
 * planning. Every host publishing at the very start would send the whole
 * cluster's gossip at once, a burst every host must receive, check and
 * forward together (measured at 64 hosts: seconds of queueing); spread out,
 * the same messages flow one by one.
 */
export function publishOffsetMs (host: string, round: number, t: RoundTiming): number {
  return spreadOffsetMs(`${host}/${round}`, t.planAtMs * PUBLISH_SPREAD)
}

/** A fixed pseudo-random offset in [0, spanMs) for `key`: hosts answering one event spread their answers out. */
export function spreadOffsetMs (key: string, spanMs: number): number {
  return Math.floor(spreadFraction(key) * spanMs)
}

/** FNV-1a over the string's UTF-16 units, as a fraction in [0, 1): cheap, stable, spread enough. */
function spreadFraction (key: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h / 2 ** 32
}
