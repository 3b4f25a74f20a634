/** Samples the router's WAN counters at a fixed period for the whole run. */
import { RouterCounters, type RouterSample } from '../net/counters.ts'

export const SAMPLE_PERIOD_MS = 1_000

export class WanMonitor {
  readonly samples: RouterSample[] = []
  private timer: ReturnType<typeof setInterval> | undefined
  private reading: Promise<void> = Promise.resolve()

  private readonly counters: RouterCounters
  private readonly onSample?: (s: RouterSample) => void
  constructor (counters: RouterCounters, onSample?: (s: RouterSample) => void) {
    this.counters = counters
    this.onSample = onSample
  }

  async start (): Promise<void> {
    await this.sample()
    this.timer = setInterval(() => { this.reading = this.reading.then(async () => this.sample()) }, SAMPLE_PERIOD_MS)
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
