/**
 * When a host's events leave for its aggregator (docs/design.md §9.8): a
 * vote at a fixed per-host offset after the plan was accepted, every other
 * event at once but never before an older one (a receiver drops an older
 * seq as a replay, so an event made while a vote waits goes after it).
 */
import { spreadOffsetMs, type RoundTiming } from '../../../lib/rounds.ts'
import type { Envelope } from '../../../lib/wire/messages.ts'

/**
 * A vote leaves within this share of a takeover slot after its plan was
 * accepted. A plan runs only at the next rank's slot (§5.4), so its votes
 * have the slot to gather; sent at once, they came back while the plan was
 * still spreading, and each costs four signature checks (its aggregator's
 * and every other DC's), about as much CPU as the plan's own fan-out.
 */
export const VOTE_SPREAD_SHARE = 0.15

export class EventTurns {
  private readonly timing: RoundTiming
  private last: Promise<void> = Promise.resolve()
  /** Votes waiting for their offset: released at stop. */
  private readonly waiting = new Map<ReturnType<typeof setTimeout>, () => void>()
  private stopped = false

  constructor (timing: RoundTiming) {
    this.timing = timing
  }

  /** How long `env`'s host waits before its vote for the plan of `env.round` leaves (ms). */
  voteDelayMs (env: Envelope<'event'>): number {
    return spreadOffsetMs(`${env.host}/vote/${env.round}`, VOTE_SPREAD_SHARE * this.timing.takeoverMs)
  }

  /** Resolves when `env` may leave; rejects once stopped (an unsent vote is on disk: a stop before the send is a crash before it). */
  async turn (env: Envelope<'event'>): Promise<void> {
    const vote = env.body.kind === 'plan-ack'
    const mine = this.last.then(async () => { if (vote) await this.wait(this.voteDelayMs(env)) })
    this.last = mine
    await mine
    if (this.stopped) throw new Error(`not sent: stopped while the ${env.body.kind} event waited its turn`)
  }

  stop (): void {
    this.stopped = true
    for (const [timer, release] of this.waiting) { clearTimeout(timer); release() }
    this.waiting.clear()
  }

  private async wait (ms: number): Promise<void> {
    if (ms <= 0 || this.stopped) return
    await new Promise<void>(resolve => {
      const timer = setTimeout(() => { this.waiting.delete(timer); resolve() }, ms)
      this.waiting.set(timer, resolve)
    })
  }
}
