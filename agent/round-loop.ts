/**
 * The round loop (docs/design.md §4): every TICK_MS, one step of the current round.
 *
 *   round start   this host's HostState and TrafficDigest go out (the cluster layer)
 *   plan time     the live members are ranked for the round; rank k plans
 *                 when no plan of a lower rank arrived by its deadline
 *   plan final    at the next rank's deadline, this host's moves are carried out
 *
 * Steps never overlap: a tick while one runs is skipped.
 */
import type { Startable } from '@libp2p/interface'
import { roundAt, type RoundTiming } from '../lib/rounds.ts'
import type { PlanAcceptance } from './acceptance.ts'
import type { Cluster } from './cluster/index.ts'
import type { Controls } from './policy/controls.ts'
import type { Logger } from './log.ts'
import type { Planning } from './planning.ts'
import type { RoundRecords } from './round-records.ts'

export const TICK_MS = 100

export interface RoundLoopComponents {
  cluster: Cluster
  planning: Planning
  acceptance: PlanAcceptance
  controls: Controls
  records: RoundRecords
  log: Logger
  now: () => number
}

export interface RoundLoopInit {
  timing: RoundTiming
}

export class RoundLoop implements Startable {
  private readonly c: RoundLoopComponents
  private readonly timing: RoundTiming
  private timer: ReturnType<typeof setInterval> | undefined
  private busy = false
  private running: Promise<unknown> = Promise.resolve()

  constructor (components: RoundLoopComponents, init: RoundLoopInit) {
    this.c = components
    this.timing = init.timing
  }

  start (): void {
    this.timer = setInterval(() => { this.tick() }, TICK_MS)
  }

  /** No new step starts, and the one in flight ends while the rest of the agent still runs. */
  async beforeStop (): Promise<void> {
    this.pause()
    await this.settled()
  }

  /** Nothing left to stop: beforeStop ended the loop while the rest still ran. */
  stop (): void {}

  /** Starts no further step. */
  pause (): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  /** Resolves once the step in flight (if any) has ended. */
  async settled (): Promise<void> {
    await this.running.catch(() => undefined)
  }

  private tick (): void {
    if (this.busy) return
    this.busy = true
    const work = this.step().catch(err => this.c.log.error('round step failed', { error: (err as Error).stack ?? String(err) }))
      .finally(() => { this.busy = false })
    this.running = work
  }

  private async step (): Promise<void> {
    const { cluster, planning, acceptance } = this.c
    const now = this.c.now()
    const round = roundAt(now, this.timing)
    if (round !== cluster.round) this.roundStarted(round)
    await cluster.disseminate(now, round)
    await planning.turn(now, round)
    acceptance.runFinal(now, round)
  }

  private roundStarted (round: number): void {
    this.c.cluster.roundStarted(round)
    this.c.records.record(round)
    this.c.controls.roundStarted(round)
  }
}
