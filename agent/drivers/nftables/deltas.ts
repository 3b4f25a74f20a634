/**
 * Turns monotonic kernel counters into growth since the previous reading.
 * A counter lower than before was reset (its set entry expired and came
 * back, or the table was recreated): its growth counts from zero. A counter
 * that is gone is forgotten: an entry only expires after `timeout` without
 * traffic, so it had no bytes since the previous reading either.
 */
export class CounterDeltas<K> {
  private previous = new Map<K, number>()

  /** Growth of every counter in `current` since the previous call; zeros left out. */
  step (current: ReadonlyMap<K, number>): Map<K, number> {
    const out = new Map<K, number>()
    for (const [key, value] of current) {
      const before = this.previous.get(key) ?? 0
      const grown = value >= before ? value - before : value
      if (grown > 0) out.set(key, grown)
    }
    this.previous = new Map(current)
    return out
  }

  /** Takes `current` as the baseline without reporting anything. */
  reset (current: ReadonlyMap<K, number> = new Map()): void {
    this.previous = new Map(current)
  }
}
