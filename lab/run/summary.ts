/**
 * The numbers a run is judged by, from the router's samples: WAN load per
 * link over time, the thesis's cost (mean loading factor of the links) on
 * measured loads, and per phase the load before the agents acted and at
 * the end.
 */
import { rates, type RouterSample } from '../net/counters.ts'
import type { ShapedLink } from '../net/shaping.ts'

export interface LoadPoint {
  /** Seconds since the traffic started (the middle of the interval). */
  t: number
  /** Per link (in the order of the lab's links). */
  offeredBps: number[]
  carriedBps: number[]
  /** Sum over links. */
  offeredTotal: number
  carriedTotal: number
  /** Mean over links of offered / capacity: the thesis's cost, measured. */
  cost: number
}

export function loadSeries (samples: readonly RouterSample[], links: readonly ShapedLink[], t0Ms: number): LoadPoint[] {
  const out: LoadPoint[] = []
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!; const b = samples[i]!
    if (b.atMs <= a.atMs) continue
    const r = rates(a, b)
    const offeredBps = r.map(x => x.offeredBps)
    const carriedBps = r.map(x => x.carriedBps)
    out.push({
      t: ((a.atMs + b.atMs) / 2 - t0Ms) / 1000,
      offeredBps,
      carriedBps,
      offeredTotal: sum(offeredBps),
      carriedTotal: sum(carriedBps),
      cost: links.length === 0 ? 0 : sum(r.map((x, k) => x.offeredBps / links[k]!.capacityBps)) / links.length
    })
  }
  return out
}

export interface WindowLoad {
  fromSec: number
  toSec: number
  offeredBps: number
  carriedBps: number
  cost: number
  points: number
}

/** Mean load over the points whose time lies in [fromSec, toSec]. */
export function windowLoad (series: readonly LoadPoint[], fromSec: number, toSec: number): WindowLoad {
  const pts = series.filter(p => p.t >= fromSec && p.t <= toSec)
  const mean = (f: (p: LoadPoint) => number): number => pts.length === 0 ? NaN : sum(pts.map(f)) / pts.length
  return { fromSec, toSec, offeredBps: mean(p => p.offeredTotal), carriedBps: mean(p => p.carriedTotal), cost: mean(p => p.cost), points: pts.length }
}

export interface PhaseSummary {
  name: string
  startSec: number
  endSec: number
  /** Before the first migration of the phase (at most two rounds in). */
  before: WindowLoad
  /** The phase's last stretch (three rounds, at most ten seconds). */
  after: WindowLoad
  migrations: number
}

/** Skip the first second of a phase: its samples mix the old traffic and the new. */
const SETTLE_SEC = 1

export function phaseSummaries (series: readonly LoadPoint[], phases: ReadonlyArray<{ name: string, atSec: number }>, durationSec: number, migrationSecs: readonly number[], roundSec: number): PhaseSummary[] {
  return phases.map((ph, i) => {
    const startSec = ph.atSec
    const endSec = phases[i + 1]?.atSec ?? durationSec
    const moves = migrationSecs.filter(s => s >= startSec && s < endSec)
    const firstMove = moves.length > 0 ? Math.min(...moves) : Infinity
    const beforeEnd = Math.max(startSec + SETTLE_SEC + 1, Math.min(firstMove, startSec + 2 * roundSec, endSec))
    const tail = Math.min(10, 3 * roundSec, (endSec - startSec) / 2)
    return {
      name: ph.name,
      startSec,
      endSec,
      before: windowLoad(series, startSec + SETTLE_SEC, beforeEnd),
      after: windowLoad(series, endSec - tail, endSec),
      migrations: moves.length
    }
  })
}

function sum (xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0)
}
