/** The table `heliotrope lab sim` prints at the end: one row per run. */
import { messagesPerAgentRound, roundTimes, type SimRunResult } from './run.ts'
import { fixed, formatTable, mib, percentile, seconds } from './stats.ts'

const HEADER = ['agents', 'transport', 'processes', 'VMs', 'period s', 'start s', 'ready s', 'agreed', 'plan sent p50 s', 'round p50 s', 'round p99 s', 'msgs out/agent/round', 'msgs in/agent/round', 'peak RSS MiB', 'end RSS MiB', 'CPU %', 'load 1m']

export function simTable (runs: readonly SimRunResult[]): string {
  return formatTable(HEADER, runs.map(r => {
    const t = roundTimes(r)
    const m = messagesPerAgentRound(r)
    const agreed = r.rounds.filter(s => s.agreed).length
    return [
      r.up < r.agents ? `${r.up}/${r.agents} up` : String(r.agents), r.transport, r.processes === 0 ? '1 (this)' : String(r.processes), String(r.vms), seconds(r.periodMs, 1),
      seconds(r.startMs, 1), r.readyMs !== undefined ? seconds(r.readyMs, 1) : r.up < r.agents ? '-' : 'timeout',
      `${agreed}/${r.rounds.length}`, seconds(percentile(r.rounds.flatMap(x => x.planSentMs !== undefined ? [x.planSentMs] : []), 50)), seconds(t.p50), seconds(t.p99),
      fixed(m.out), fixed(m.in), mib(r.use.peakRssBytes), mib(r.use.endRssBytes),
      fixed(100 * r.use.cpuMs / r.use.wallMs, 0), `${fixed(r.use.loadStart)}->${fixed(r.use.loadEnd)}`
    ]
  }))
}
