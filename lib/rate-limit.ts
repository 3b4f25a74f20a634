/**
 * Per-sender token buckets: a member may send each topic at a bounded rate
 * (a flood from one peer is dropped and counted, not processed). Time comes
 * in as an argument.
 */
export interface RateLimit {
  /** Messages allowed in a burst. */
  burst: number
  /** Messages per second refilled. */
  perSecond: number
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number, atMs: number }>()
  private readonly limit: RateLimit

  constructor (limit: RateLimit) {
    this.limit = limit
  }

  /** Takes a token for `key` at `nowMs`; false when the bucket is empty. */
  take (key: string, nowMs: number): boolean {
    const b = this.buckets.get(key) ?? { tokens: this.limit.burst, atMs: nowMs }
    b.tokens = Math.min(this.limit.burst, b.tokens + Math.max(0, nowMs - b.atMs) / 1000 * this.limit.perSecond)
    b.atMs = nowMs
    const ok = b.tokens >= 1
    if (ok) b.tokens -= 1
    this.buckets.set(key, b)
    if (this.buckets.size > 10_000) this.buckets.clear() // bounded: members are few, keys are per member and topic
    return ok
  }
}
