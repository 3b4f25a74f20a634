/**
 * The process and runtime series an operator looks for first (the names
 * prom-client's default collectors use, so existing dashboards work):
 * memory, CPU, open files, event-loop delay and garbage collection. The
 * event-loop delay and GC observers run while the API does.
 */
import { readdirSync } from 'node:fs'
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import type { Exposition } from './prometheus.ts'

/** GC pause histogram bounds, seconds. */
export const GC_SECONDS_BUCKETS = [0.001, 0.01, 0.1, 1, 2, 5] as const
/** Event-loop delay sampling resolution, ms. */
const LOOP_RESOLUTION_MS = 20
/** Node's GC kinds (perf_hooks constants), as prom-client labels them. */
const GC_KINDS: Readonly<Record<number, string>> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' }

export class RuntimeMetrics {
  private readonly startedAtS = Date.now() / 1000 - process.uptime()
  private loop: ReturnType<typeof monitorEventLoopDelay> | undefined
  private gcObserver: PerformanceObserver | undefined
  private readonly gc = new Map<string, { buckets: number[], sum: number, count: number }>()

  start (): void {
    this.loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS })
    this.loop.enable()
    this.gcObserver = new PerformanceObserver(list => {
      for (const e of list.getEntries()) {
        // A gc entry's detail carries its kind (Node >= 16); the DOM's PerformanceEntry type does not know it.
        const kind = GC_KINDS[(e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other'
        let h = this.gc.get(kind)
        if (h === undefined) { h = { buckets: GC_SECONDS_BUCKETS.map(() => 0), sum: 0, count: 0 }; this.gc.set(kind, h) }
        const s = e.duration / 1000
        GC_SECONDS_BUCKETS.forEach((b, i) => { if (s <= b) h.buckets[i]!++ })
        h.sum += s; h.count++
      }
    })
    this.gcObserver.observe({ entryTypes: ['gc'] })
  }

  stop (): void {
    this.loop?.disable()
    this.gcObserver?.disconnect()
    this.loop = undefined
    this.gcObserver = undefined
  }

  render (x: Exposition): void {
    const mem = process.memoryUsage()
    const cpu = process.cpuUsage()
    x.family('process_cpu_user_seconds_total', 'counter', 'User CPU time spent, seconds.').sample('process_cpu_user_seconds_total', cpu.user / 1e6)
    x.family('process_cpu_system_seconds_total', 'counter', 'System CPU time spent, seconds.').sample('process_cpu_system_seconds_total', cpu.system / 1e6)
    x.family('process_cpu_seconds_total', 'counter', 'User and system CPU time spent, seconds.').sample('process_cpu_seconds_total', (cpu.user + cpu.system) / 1e6)
    x.family('process_resident_memory_bytes', 'gauge', 'Resident memory size, bytes.').sample('process_resident_memory_bytes', mem.rss)
    x.family('process_start_time_seconds', 'gauge', 'Start time of the process since the Unix epoch, seconds.').sample('process_start_time_seconds', this.startedAtS)
    const fds = openFds()
    x.family('process_open_fds', 'gauge', 'Open file descriptors.')
    if (fds !== undefined) x.sample('process_open_fds', fds)
    x.family('nodejs_heap_size_total_bytes', 'gauge', 'V8 heap size, bytes.').sample('nodejs_heap_size_total_bytes', mem.heapTotal)
    x.family('nodejs_heap_size_used_bytes', 'gauge', 'V8 heap used, bytes.').sample('nodejs_heap_size_used_bytes', mem.heapUsed)
    x.family('nodejs_external_memory_bytes', 'gauge', 'Memory of C++ objects bound to JavaScript ones, bytes.').sample('nodejs_external_memory_bytes', mem.external)
    const loop = this.loop
    // The histogram's figures are nanoseconds; before its first sample they are NaN (mean) or huge (min).
    const s = (ns: number): number => (loop !== undefined && loop.count > 0 ? ns / 1e9 : 0)
    x.family('nodejs_eventloop_lag_mean_seconds', 'gauge', 'Mean event-loop delay since the API started, seconds.').sample('nodejs_eventloop_lag_mean_seconds', s(loop?.mean ?? 0))
    x.family('nodejs_eventloop_lag_p50_seconds', 'gauge', 'Median event-loop delay, seconds.').sample('nodejs_eventloop_lag_p50_seconds', s(loop?.percentile(50) ?? 0))
    x.family('nodejs_eventloop_lag_p99_seconds', 'gauge', '99th percentile event-loop delay, seconds.').sample('nodejs_eventloop_lag_p99_seconds', s(loop?.percentile(99) ?? 0))
    x.family('nodejs_eventloop_lag_max_seconds', 'gauge', 'Longest event-loop delay, seconds.').sample('nodejs_eventloop_lag_max_seconds', s(loop?.max ?? 0))
    x.family('nodejs_gc_duration_seconds', 'histogram', 'Garbage collection pauses by kind, seconds.')
    for (const [kind, h] of [...this.gc].sort((a, b) => a[0].localeCompare(b[0]))) x.histogram('nodejs_gc_duration_seconds', GC_SECONDS_BUCKETS, h.buckets, h.sum, h.count, { kind })
  }
}

/** Open file descriptors (Linux: /proc/self/fd); undefined elsewhere. */
function openFds (): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length
  } catch {
    return undefined
  }
}
