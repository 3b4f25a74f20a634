/** Samples the router's WAN counters at a fixed period for the whole run. */
import { RouterCounters, type RouterSample } from '../net/counters.ts'

/**
 * Twice a second: the load before a phase's first migration is measured
 * over the 2.6 s between the settling second and the next round's plan
 * (thesis star, 4 s rounds). Sampled once a second, a read that came late
 * on a busy machine left one point there, and the run could not be judged.
 */
export const SAMPLE_PERIOD_MS = 500

export class WanMonitor {
  readonly samples: RouterSample[] = []
  private timer: ReturnType<typeof setInterval> | undefined
  private reading: Promise<void> | undefined

  private readonly counters: RouterCounters
  private readonly onSample?: (s: RouterSample) => void
  constructor (counters: RouterCounters, onSample?: (s: RouterSample) => void) {
    this.counters = counters
    this.onSample = onSample
  }

  async start (): Promise<void> {
    await this.sample()
    this.timer = setInterval(() => {
      // A read slower than the period skips a tick rather than queueing
      // reads behind it: rates come from each sample's own time anyway.
      if (this.reading !== undefined) return
      this.reading = this.sample().finally(() => { this.reading = undefined })
    }, SAMPLE_PERIOD_MS)
  }

  private async sample (): Promise<void> {
    try {
      const s = await this.counters.read()
      this.samples.push(s)
      this.onSample?.(s)
    } catch { /* the lab is going down; the samples so far stand */ }
  }

  async stop (): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    await this.reading
  }
}
