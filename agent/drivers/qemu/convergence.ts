/**
 * Tells a pre-copy migration that will never finish from one that is slowly
 * finishing. Each pass over memory starts with the pages the guest dirtied
 * during the previous pass; a converging migration starts every pass with
 * fewer of them, so when the smallest pass-start dirty set stops shrinking
 * for a while, the guest dirties memory as fast as the link moves it.
 * With auto-converge, a throttle that still rises counts as progress: the
 * guest is being slowed down until the passes shrink.
 */
import type { MigrationSample } from './migration.ts'

/** A pass must start with at most this fraction of the best dirty set so far to count as progress. */
export const CONVERGENCE_SHRINK = 0.9

export class ConvergenceWatch {
  readonly windowMs: number
  #syncCount = 0
  #best = Infinity
  #bestAtMs = 0
  #passes: number[] = []
  #throttle = 0

  constructor (windowMs: number) {
    this.windowMs = windowMs
  }

  /**
   * Feeds one poll; returns why the migration does not converge, or
   * undefined while it may still. The first poll after a new sync stands in
   * for the pass's starting dirty set (slightly low by what was sent since).
   */
  observe (s: MigrationSample): string | undefined {
    if (s.cpuThrottlePercent > this.#throttle) {
      this.#throttle = s.cpuThrottlePercent
      this.#bestAtMs = s.elapsedMs
    }
    if (s.dirtySyncCount <= this.#syncCount) return undefined
    this.#syncCount = s.dirtySyncCount
    // Sync 1 starts the first full pass (all of memory), not a dirty set.
    if (s.dirtySyncCount < 2) return undefined
    this.#passes.push(s.remainingBytes)
    if (s.remainingBytes <= this.#best * CONVERGENCE_SHRINK) {
      this.#best = s.remainingBytes
      this.#bestAtMs = s.elapsedMs
      return undefined
    }
    if (s.elapsedMs - this.#bestAtMs < this.windowMs) return undefined
    const mib = (b: number): string => (b / 2 ** 20).toFixed(1)
    return `not converging: no progress for ${s.elapsedMs - this.#bestAtMs} ms, no pass started with under ${Math.round(CONVERGENCE_SHRINK * 100)}% of ` +
      `the best dirty set (${mib(this.#best)} MiB; last passes ${this.#passes.slice(-4).map(mib).join(', ')} MiB): ` +
      `the guest dirties ${mib(s.dirtyBytesPerSec)} MiB/s` + (this.#throttle > 0 ? ` with its vCPUs throttled ${this.#throttle}%` : '')
  }
}
