/**
 * A host's side of the tiered dissemination (docs/design.md §9.8): every
 * message this host authors goes, signed, to its DC's aggregator for the
 * epoch: rank 0 of the DC's ranking, or the first standby that answers.
 * Messages queued while a report is on its way go together in the next.
 * A new aggregator (a new epoch, or a failover) first gets this host's
 * whole state: it holds nothing of ours yet.
 */
import { epochOf } from '../../../lib/roles.ts'
import type { RelayMessage, SignedItem } from '../../../lib/wire/relay.ts'
import type { Logger } from '../../log.ts'
import type { AggregatorRoles } from './roles.ts'

/** How long a state or digest waits for the other before its report goes (one request instead of two). */
export const COALESCE_MS = 25

export interface ReporterComponents {
  host: string
  dc: string
  roles: AggregatorRoles
  log: Logger
  /** Sends one relay message to `host` (or handles it here, when `host` is us). */
  deliver: (host: string, msg: RelayMessage) => Promise<void>
  /** Called when the aggregator changed: our state must go to the new one. */
  newAggregator: () => void
  /** Called when `aggregator` took `items` (the auditor checks they travel on). */
  taken?: (items: readonly SignedItem[], aggregator: string, round: number) => void
}

export class Reporter {
  private readonly c: ReporterComponents
  private queue: SignedItem[] = []
  private flushing: Promise<void> | undefined
  private epoch = -1
  private round = -1
  /** Index into this epoch's ranking of the aggregator that answers (this round). */
  private choice = 0
  private lastTarget: string | undefined
  /** Aggregators we caught hiding our reports (auditor.ts), passed over until their epoch ends. */
  private shunned = new Set<string>()
  private shunEpoch = -1
  /** Reports that reached no aggregator at all (their items are lost; the next state and digest repair the loss). */
  failed = 0

  constructor (components: ReporterComponents) {
    this.c = components
  }

  /** Passes `aggregator` over for the rest of `epoch`: it took our reports and did not pass them on. */
  shun (aggregator: string, epoch: number): void {
    if (epoch !== this.shunEpoch) { this.shunned = new Set(); this.shunEpoch = epoch }
    this.shunned.add(aggregator)
    // The next report goes to the next rank at once, not after a failed try.
    if (epoch === this.epoch) this.choice = this.firstTrusted(this.c.roles.ofDc(this.c.dc, epoch), epoch)
  }

  /**
   * Our stream to `aggregator` broke (it died, or its connection closed).
   * When it is the one we report to, the rest of the round goes to the
   * next rank, and our state with it at once: that standby then counts us
   * among its hosts and passes us the round's plan. Without this, hosts
   * that reported before their aggregator died heard of no plan until
   * their next report, the round after (lab model, docs/design.md §9.7:
   * 92% of 10,000 hosts agreed in a round whose planner was killed).
   * Rank 0 is tried again next round, as after any failover.
   */
  lost (aggregator: string): void {
    if (this.epoch < 0 || aggregator !== this.lastTarget) return
    const ranking = this.c.roles.ofDc(this.c.dc, this.epoch)
    if (ranking[this.choice] !== aggregator || this.choice + 1 >= ranking.length) return
    this.choice++
    this.c.log.info('our aggregator\'s stream broke: reporting to the next rank', { aggregator, epoch: this.epoch, rank: this.choice })
    this.c.newAggregator()
  }

  /** Whom this host reports to in `round`'s epoch (after failovers). */
  aggregator (round: number): string | undefined {
    const ranking = this.c.roles.ofDc(this.c.dc, epochOf(round))
    return ranking[Math.min(this.epoch === epochOf(round) ? this.choice : 0, ranking.length - 1)]
  }

  /**
   * Queues `item` and sends the queue unless a report is on its way (it
   * takes the queue next). A state and the digest that follows it moments
   * later go in one report (`urgent` false: they wait COALESCE_MS); plans
   * and votes go at once.
   */
  async send (item: SignedItem, round: number, urgent: boolean): Promise<void> {
    this.queue.push(item)
    if (this.flushing === undefined) {
      const wait = urgent ? Promise.resolve() : new Promise(resolve => setTimeout(resolve, COALESCE_MS))
      this.flushing = wait.then(async () => { await this.flush(round) }).finally(() => { this.flushing = undefined })
    }
    // A state's sender goes on to its digest while the report waits for it;
    // report() logs and counts a report no aggregator took.
    if (urgent) await this.flushing
  }

  private async flush (round: number): Promise<void> {
    while (this.queue.length > 0) {
      const items = this.queue
      this.queue = []
      await this.report(items, round)
    }
  }

  private async report (items: SignedItem[], round: number): Promise<void> {
    const epoch = epochOf(round)
    // Rank 0 is tried again every round: a failover after one slow answer
    // must not make a second aggregator for the rest of the epoch.
    const ranking = this.c.roles.ofDc(this.c.dc, epoch)
    if (round !== this.round) { this.round = round; this.epoch = epoch; this.choice = this.firstTrusted(ranking, epoch) }
    for (; this.choice < ranking.length; this.choice++) {
      const target = ranking[this.choice]!
      try {
        await this.c.deliver(target, { kind: 'report', epoch, items })
        this.c.taken?.(items, target, round)
        if (target !== this.lastTarget) {
          if (this.lastTarget !== undefined) this.c.log.info('reporting to a new aggregator', { aggregator: target, epoch, rank: this.choice })
          this.lastTarget = target
          this.c.newAggregator()
        }
        return
      } catch (err) {
        this.c.log.warn('aggregator did not take our report: trying the next', { aggregator: target, epoch, rank: this.choice, error: (err as Error).message })
      }
    }
    // Every rank failed: start from the first again next time (it may be back).
    this.choice = this.firstTrusted(ranking, epoch)
    this.failed++
    this.c.log.warn('no aggregator of our DC took the report: its items are lost until our next state and digest', { epoch, items: items.length })
  }

  /** The first rank not caught hiding our reports this epoch (rank 0 when every one was). */
  private firstTrusted (ranking: readonly string[], epoch: number): number {
    if (epoch !== this.shunEpoch) return 0
    const i = ranking.findIndex(h => !this.shunned.has(h))
    return i < 0 ? 0 : i
  }
}
