/**
 * What a run costs this process: CPU time and resident memory, sampled so the
 * peak is seen (RSS swings by a gigabyte between garbage collections at a few
 * hundred agents), and the machine's load average, which says how much of the
 * two cores others were using meanwhile.
 */
import { loadavg } from 'node:os'

export const RSS_SAMPLE_MS = 250

export interface ResourceUse {
  wallMs: number
  /** User + system CPU of this process, ms. */
  cpuMs: number
  peakRssBytes: number
  endRssBytes: number
  /** 1-minute load average at the start and the end. */
  loadStart: number
  loadEnd: number
}

export class ResourceMeter {
  private readonly startMs = performance.now()
  private readonly cpuStart = process.cpuUsage()
  private readonly loadStart = loadavg()[0]!
  private peak = process.memoryUsage.rss()
  private readonly timer = setInterval(() => { this.sample() }, RSS_SAMPLE_MS).unref()

  sample (): void {
    this.peak = Math.max(this.peak, process.memoryUsage.rss())
  }

  /** Use so far; the meter keeps running until stop(). */
  read (): ResourceUse {
    this.sample()
    const cpu = process.cpuUsage(this.cpuStart)
    return {
      wallMs: performance.now() - this.startMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      peakRssBytes: this.peak,
      endRssBytes: process.memoryUsage.rss(),
      loadStart: this.loadStart,
      loadEnd: loadavg()[0]!
    }
  }

  stop (): ResourceUse {
    const use = this.read()
    clearInterval(this.timer)
    return use
  }
}
