/**
 * The check that earns the model trust: `today` at the sizes real agents
 * were measured, beside the measurements (docs/benchmarks.md: bench:gossip
 * CPU per agent and round, lab sim messages in per agent and round).
 * FRAME_CPU_MS was fitted at 64 agents, so that row agrees by construction;
 * the others are predictions.
 */
import { runModel } from './run.ts'
import { align } from './table.ts'

/** The lab sim's and bench:gossip's round period (lab/sim/run.ts defaultPeriodMs, copied: that module loads the agent). */
export function labPeriodMs (agents: number): number {
  return Math.max(5000, Math.round(agents * agents * 10 / 1000) * 1000)
}

/** bench:gossip, 2026-11-26: agents, CPU ms per agent per round. */
export const MEASURED_CPU: ReadonlyArray<[number, number]> = [[8, 141], [16, 248], [32, 349], [64, 742]]
/** lab sim (docs/benchmarks.md "At scale", and one run at 16 made for this model on a loaded machine): agents, messages in per agent per round. */
export const MEASURED_MSGS: ReadonlyArray<[number, number]> = [[16, 28.5], [50, 171], [100, 263]]

export function calibrationTable (seed: number): string {
  const rows = [['agents', 'period s', 'model msgs in', 'measured msgs in', 'model CPU ms', 'measured CPU ms', 'CPU model/measured', 'msgs model/measured']]
  const sizes = [...new Set([...MEASURED_CPU.map(m => m[0]), ...MEASURED_MSGS.map(m => m[0])])].sort((a, b) => a - b)
  for (const agents of sizes) {
    const periodMs = labPeriodMs(agents)
    const r = runModel({ hosts: agents, dcs: 4, vmsPerHost: 4, rounds: 3, seed, protocol: 'today', periodMs, crashRate: 0, loss: 0, changeRate: 1, killAggregator: false, killPlanner: false })
    const all = [...r.samples.host, ...r.samples.planner]
    const msgs = all.reduce((s, x) => s + x.msgsIn, 0) / all.length
    const cpu = all.reduce((s, x) => s + x.cpuMs, 0) / all.length
    const mc = MEASURED_CPU.find(m => m[0] === agents)?.[1]
    const mm = MEASURED_MSGS.find(m => m[0] === agents)?.[1]
    rows.push([String(agents), (periodMs / 1000).toFixed(2), msgs.toFixed(1), mm?.toString() ?? '-', cpu.toFixed(0), mc?.toString() ?? '-', mc === undefined ? '-' : (cpu / mc).toFixed(2), mm === undefined ? '-' : (msgs / mm).toFixed(2)])
  }
  return align(rows)
}
