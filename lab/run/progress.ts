/** Progress lines while a run goes: plans, migrations, and the WAN load every few seconds. */
import { rates, type RouterSample } from '../net/counters.ts'
import type { ShapedLink } from '../net/shaping.ts'
import type { Migration, RoundPlan } from './runner.ts'

export const LOAD_EVERY_MS = 5_000

export class Progress {
  private last: RouterSample | undefined
  private printedLoadAt = 0
  /** Rounds are shown counted from the one the traffic started in. */
  private baseRound = 0

  private readonly print: (line: string) => void
  private readonly clock: () => number
  constructor (print: (line: string) => void, clock: () => number) {
    this.print = print
    this.clock = clock
  }

  line (text: string): void {
    this.print(`[${this.clock().toFixed(1).padStart(6)}s] ${text}`)
  }

  reset (sample: RouterSample | undefined, baseRound = this.baseRound): void {
    this.baseRound = baseRound
    this.last = sample
    this.printedLoadAt = sample?.atMs ?? 0
  }

  planned (p: RoundPlan): void {
    const moves = p.moves.length === 0 ? 'no moves' : `${p.moves.length} move${p.moves.length === 1 ? '' : 's'}: ${p.moves.join(' ')}`
    this.line(`round ${p.round - this.baseRound}: ${p.planner} planned${p.rank > 0 ? ` (takeover, rank ${p.rank})` : ''} with ${p.algorithm}, cost ${p.costBefore.toFixed(3)} -> ${p.costAfter.toFixed(3)}, ${moves}`)
  }

  migrated (m: Migration): void {
    this.line(m.ok
      ? `migrated ${m.vm} ${m.from} (${m.fromDc}) -> ${m.to} (${m.toDc}) in ${Math.round(m.totalMs)} ms, downtime ${m.downtimeMs !== undefined ? `${m.downtimeMs} ms` : 'not measured'}`
      : `migration of ${m.vm} ${m.from} -> ${m.to} failed: ${m.error ?? 'unknown'}`)
  }

  sample (s: RouterSample, links: readonly ShapedLink[]): void {
    if (this.last === undefined) { this.reset(s); return }
    if (s.atMs - this.printedLoadAt < LOAD_EVERY_MS) return
    const r = rates(this.last, s)
    const offered = r.reduce((a, x) => a + x.offeredBps, 0)
    const carried = r.reduce((a, x) => a + x.carriedBps, 0)
    const cost = links.length === 0 ? 0 : r.reduce((a, x, k) => a + x.offeredBps / links[k]!.capacityBps, 0) / links.length
    this.line(`WAN at the router: ${(offered / 1e6).toFixed(2)} Mbit/s offered, ${(carried / 1e6).toFixed(2)} Mbit/s carried, measured cost ${cost.toFixed(3)}`)
    this.last = s
    this.printedLoadAt = s.atMs
  }
}
