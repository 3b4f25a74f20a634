/** bench:gossip's printed tables: heliotrope per size, then Serf beside it with the ratio of their p99s. */
import { fixed, formatTable, mib, percentile, seconds } from '../../sim/stats.ts'
import type { HeliotropeResult } from './heliotrope.ts'
import type { SerfResult } from './serf.ts'

export interface SizeResult {
  agents: number
  heliotrope?: HeliotropeResult
  heliotropeError?: string
  serf?: SerfResult
  serfError?: string
  /** 1-minute load average before and after this size. */
  load: [number, number]
}

export function heliotropeTable (rows: readonly SizeResult[]): string {
  const header = ['agents', 'dissemination', 'period s', 'rounds', 'start s', 'ready s', 'digest p50 ms', 'digest p99 ms', 'digests short', 'plan-all p50 s', 'plan-all p99 s', 'plans short', 'plan out->all p99 ms', 'wire B/agent/round', 'wire B/agent/s', 'payload B/agent/round', 'CPU ms/agent/round', 'quiet CPU ms/agent/s', 'relay frames in/agent/round', 'agents/process', 'RSS MiB/agent', 'loop lag p99 ms', 'load 1m']
  return formatTable(header, rows.map(r => {
    const h = r.heliotrope
    if (h === undefined) return [String(r.agents), ...header.slice(1).map(() => '-')]
    const wire = h.bytesPerAgentPerRound
    return [
      String(r.agents), h.dissemination ?? 'flood', seconds(h.periodMs, 1), String(h.rounds), seconds(h.startMs, 1), h.readyMs === undefined ? 'never' : seconds(h.readyMs, 1),
      fixed(percentile(h.latencies, 50), 0), fixed(percentile(h.latencies, 99), 0), String(h.incomplete),
      seconds(percentile(h.planMs, 50)), seconds(percentile(h.planMs, 99)), String(h.planMissing), fixed(percentile(h.planToAllMs ?? [], 99), 0),
      wire === undefined ? 'n/a' : fixed(wire, 0), wire === undefined ? 'n/a' : fixed(wire / h.periodMs * 1000, 0),
      fixed(h.payloadBytesPerAgentPerRound, 0), fixed(h.cpuMsPerAgentPerRound, 1),
      fixed(h.quietCpuMsPerAgentPerS, 1), fixed(h.relayFramesInPerAgentPerRound, 1), String(h.agentsPerProcess), mib(h.rssBytesPerAgent),
      fixed(h.loopLagP99Ms, 0), load(r)
    ]
  }))
}

export function serfTable (rows: readonly SizeResult[]): string {
  const header = ['agents', 'serf p50 ms', 'serf p99 ms', 'from origin p99 ms', 'events short', 'serf CLI p50 ms', 'wire B/agent/s', 'CPU %/agent', 'RSS MiB/agent', 'heliotrope p99 ms', 'serf p99 / heliotrope p99']
  // Flooding carries every digest to every agent: its digest p99 is the
  // comparison. Tiered carries digests to aggregators only; what reaches
  // every agent is the plan: its publication -> last acceptance.
  return formatTable(header, rows.map(r => {
    const s = r.serf
    if (s === undefined) return [String(r.agents), ...header.slice(1).map(() => '-')]
    const sp99 = percentile(s.latencies, 99)
    const h = r.heliotrope
    const hp99 = h === undefined ? NaN : percentile(h.dissemination === 'tiered' ? h.planToAllMs : h.latencies, 99)
    return [
      String(r.agents), fixed(percentile(s.latencies, 50), 0), fixed(sp99, 0), fixed(percentile(s.fromOrigin, 99), 0), String(s.missing),
      fixed(percentile(s.cliMs, 50), 0), s.bytesPerAgentPerS === undefined ? 'n/a' : fixed(s.bytesPerAgentPerS, 0),
      fixed(s.cpuPercentPerAgent, 2), mib(s.rssBytesPerAgent), fixed(hp99, 0), fixed(sp99 / hp99, 2)
    ]
  }))
}

/** The sizes that failed, and why: the tables show them as dashes. */
export function failures (rows: readonly SizeResult[]): string {
  const lines = rows.flatMap(r => [
    ...(r.heliotropeError !== undefined ? [`${r.agents} agents, heliotrope: ${r.heliotropeError}`] : []),
    ...(r.serfError !== undefined ? [`${r.agents} agents, serf: ${r.serfError}`] : [])
  ])
  return lines.length === 0 ? '' : `failed:\n${lines.map(l => `  ${l}`).join('\n')}\n`
}

function load (r: SizeResult): string {
  return `${fixed(r.load[0])}->${fixed(r.load[1])}`
}
