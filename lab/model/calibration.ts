/**
 * The check that earns the model trust: each protocol at the sizes real
 * agents were measured, beside the measurements.
 *  - `today` beside flooding agents (docs/benchmarks.md: bench:gossip CPU
 *    per agent and round, lab sim messages in per agent and round).
 *    FRAME_CPU_MS was fitted at 64 agents, so that row agrees by
 *    construction; the others are predictions.
 *  - `relay` beside tiered agents (bench:gossip --dissemination tiered
 *    --dht-servers-per-dc 2 --agents-per-process 4: relay frames in and CPU
 *    per agent and round, steady rounds, not an epoch's first). The two
 *    16-agent runs fitted RELAY_IDLE_CPU_MS_PER_S and RELAY_ROUND_WORK_MS;
 *    frames everywhere, and CPU at 32 and 64, are predictions.
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

/**
 * bench:gossip's child, tiered agents (2026-12-04 at d43770e, this machine:
 * 4 agents per process, 2 DHT servers per DC, 4 VMs per agent, 4 DCs): per
 * agent and round, the mean over the measured rounds that were not an
 * epoch's first. `warmupRounds`: the rounds the model runs first, so that
 * its planner moves VMs about as the agents' did in the measured rounds
 * (`moves`; the model's world settles sooner than the lab's, which was
 * still moving 5 VMs a round at 64).
 */
export interface RelayMeasurement { agents: number, periodMs: number, rounds: number, warmupRounds: number, moves: number, framesIn: number, cpuMs: number, fitted: boolean }
export const MEASURED_RELAY: readonly RelayMeasurement[] = [
  { agents: 16, periodMs: 5000, rounds: 21, warmupRounds: 12, moves: 1.1, framesIn: 14.66, cpuMs: 47.7, fitted: true },
  { agents: 16, periodMs: 41000, rounds: 3, warmupRounds: 0, moves: 3.7, framesIn: 20.96, cpuMs: 147.9, fitted: true },
  { agents: 32, periodMs: 10000, rounds: 8, warmupRounds: 12, moves: 0.25, framesIn: 12.76, cpuMs: 56.1, fitted: false },
  { agents: 64, periodMs: 41000, rounds: 2, warmupRounds: 0, moves: 5, framesIn: 14.17, cpuMs: 182.3, fitted: false }
]

/** The model's `relay` per agent and round beside one measurement: frames in, CPU. */
export function relayBeside (m: RelayMeasurement, seed: number): { framesIn: number, cpuMs: number, moves: number } {
  const r = runModel({ hosts: m.agents, dcs: 4, vmsPerHost: 4, rounds: MODEL_ROUNDS, warmupRounds: m.warmupRounds, seed, protocol: 'relay', periodMs: m.periodMs, crashRate: 0, loss: 0, changeRate: 1, killAggregator: false, killPlanner: false })
  const all = [...r.samples.host, ...r.samples.aggregator, ...r.samples.planner]
  return { framesIn: all.reduce((s, x) => s + x.framesIn, 0) / all.length, cpuMs: all.reduce((s, x) => s + x.cpuMs, 0) / all.length, moves: r.rounds.reduce((s, o) => s + o.moves, 0) / r.rounds.length }
}

const MODEL_ROUNDS = 6

export function relayCalibrationTable (seed: number): string {
  const rows = [['agents', 'period s', 'rounds', 'moves model/measured', 'model frames in', 'measured frames in', 'frames model/measured', 'model CPU ms', 'measured CPU ms', 'CPU model/measured', 'CPU']]
  for (const m of MEASURED_RELAY) {
    const model = relayBeside(m, seed)
    rows.push([String(m.agents), (m.periodMs / 1000).toFixed(0), String(m.rounds), `${model.moves.toFixed(1)} / ${m.moves.toFixed(1)}`, model.framesIn.toFixed(1), m.framesIn.toFixed(1), (model.framesIn / m.framesIn).toFixed(2), model.cpuMs.toFixed(0), m.cpuMs.toFixed(0), (model.cpuMs / m.cpuMs).toFixed(2), m.fitted ? 'fitted' : 'predicted'])
  }
  return align(rows)
}
