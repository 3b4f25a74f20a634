/**
 * An aggregator's side of the tiered dissemination (docs/design.md §9.8),
 * and a host's ear for its aggregator's notices. Every item is checked
 * (decoded, signed by its author, then the view's and the ballot's rules,
 * as gossip is: Inbound.receive) before it counts or travels on:
 *
 *   report  from a host of our DC that chose us: applied, then passed to the
 *           other DCs' aggregators in the next batch
 *   batch   from another aggregator: applied; plans and votes our hosts
 *           need go on to them as notices
 *   notice  from our aggregator: plans (checked there against the full
 *           view) and, for the hosts a plan moves VMs of, the votes for it
 *   audit   from a host of another DC: the seq of its newest digest our
 *           view holds (auditor.ts: how a host catches an aggregator that
 *           hides its reports)
 *
 * An aggregator passes items on as their authors signed them: it cannot
 * invent or alter one (the signature fails at every receiver); what it
 * hides, the hosts' audits catch (auditor.ts).
 */
import type { RoundTiming } from '../../../lib/rounds.ts'
import { decodeEnvelope, WireError } from '../../../lib/wire/codec.ts'
import type { Envelope, Topic } from '../../../lib/wire/messages.ts'
import type { RelayAnswer, RelayMessage, SignedItem } from '../../../lib/wire/relay.ts'
import type { Logger } from '../../log.ts'
import type { Inbound } from '../inbound.ts'
import type { AggregatorRoles } from './roles.ts'
import type { Verifier } from './signing.ts'
import { PlanBook } from './plan-book.ts'
import { StateLedger } from './state-ledger.ts'

/** Votes wait at most this long to travel together (a plan's hosts vote within moments of each other). */
export const VOTE_BATCH_MS = 50

/** States and digests wait this long to travel together: a sixtieth of the round, 50 ms to 1 s. */
export function batchDelayMs (timing: RoundTiming): number {
  return Math.min(1000, Math.max(50, Math.round(timing.periodMs / 60)))
}

export interface RelayComponents {
  host: string
  roles: AggregatorRoles
  verifier: Verifier
  inbound: Pick<Inbound, 'receive' | 'countDrop'>
  log: Logger
  now: () => number
  /** How many members the cluster has: a plan's votes go to its movers once more than half voted. */
  memberCount: number
  /**
   * Whether a voter's vote counts: its latest state lists our members
   * (docs/design.md §5.3). Hosts that only report hold no states to check
   * with, so the aggregator, which holds them all, forwards only these.
   */
  countsVote: (host: string) => boolean
  /** Sends one relay message to `host`; resolves with its answer. */
  send: (host: string, msg: RelayMessage) => Promise<RelayAnswer>
  /**
   * Opens our stream to `host` ahead of need. A new aggregator's first
   * notices to its hosts (the round's plan) otherwise each waited for a
   * stream to open, and a plan's last hosts heard of it only after that.
   */
  warm?: (host: string) => void
  /** How long items wait to travel together to the other aggregators. */
  batchMs: number
  /** The round this agent is in, and its epoch. */
  round: () => number
  epoch: () => number
  /** Whether our view holds `host` live (a recent digest). */
  isUp: (host: string) => boolean
  /** The seq of `host`'s newest digest our view holds (-1: none): the answer to its audit. */
  heldDigest: (host: string) => number
}

/** An item that decoded and carries its author's signature. */
interface Authentic { item: SignedItem, env: Envelope, author: string }


export class Relay {
  private readonly c: RelayComponents
  private epoch = -1
  /** Hosts that reported to us, and the round they last did: the recent ones get the plans. */
  private readonly clients = new Map<string, number>()
  /**
   * Aggregators that sent us a batch, and the last round they did. One that
   * did in this round or the last aggregates now and gets our batches; one
   * not heard from since holds nothing of our hosts we can count on.
   */
  private readonly heard = new Map<string, number>()
  /** Our hosts' newest states, and which of them each other aggregator took this epoch. */
  private readonly ledger = new StateLedger()
  /** What our hosts reported since the last batch went out, with each item's topic (for how soon it must go). */
  private pending: Array<{ item: SignedItem, topic: Topic }> = []
  private timer: ReturnType<typeof setTimeout> | undefined
  private dueAt = Infinity
  /** What our hosts must hear of each round's plans and votes. */
  private readonly book: PlanBook
  private stopped = false
  /** The first round of this stretch of aggregating, and the last round a report came. */
  private since = -1
  private lastReport = -1

  constructor (components: RelayComponents) {
    this.c = components
    this.book = new PlanBook(components.memberCount, components.countsVote)
  }

  /** True while this host aggregates: a host (itself included) reported to it this round or the last. */
  get aggregating (): boolean {
    return this.recentClients().length > 0
  }

  /** How many rounds this host has aggregated without a break (0 in the first; -1 when it does not). */
  get aggregatingFor (): number {
    return this.aggregating ? this.c.round() - this.since : -1
  }

  private noteReport (fromHost: string): void {
    const round = this.c.round()
    if (this.lastReport < round - 1) this.since = round
    this.lastReport = round
    // A host new to us this epoch: open the stream its notices will take
    // now, at its first report, not when the plan must go out.
    if (!this.clients.has(fromHost) && fromHost !== this.c.host) this.c.warm?.(fromHost)
    this.clients.set(fromHost, round)
  }

  /**
   * Whether `aggregator` sent us a batch this round or the last. A standby
   * that aggregated for a moment (one slow answer of its rank 0, common
   * while a cluster starts) stops getting our batches a round after its
   * last: kept for the whole epoch, such standbys made every batch go to
   * twice the aggregators (64 lab agents: 30 relay frames per agent per
   * round instead of 16).
   */
  private heardRecently (aggregator: string): boolean {
    return (this.heard.get(aggregator) ?? -Infinity) >= this.c.round() - 1
  }

  /** The hosts that reported to us this round or the last: a standby that took one report after a slow answer stops aggregating soon. */
  private recentClients (): string[] {
    const round = this.c.round()
    return [...this.clients].filter(([, r]) => r >= round - 1).map(([h]) => h)
  }

  stop (): void {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
  }

  /**
   * One relay message from `fromHost` (ourselves, for our own reports:
   * already applied here). The answer says how many items came authentic
   * (decoded, from a member, signed by their author); the view's own checks
   * run after it. They may hold a digest until its author's newer state
   * comes (up to DIGEST_HOLD_MS, 1 s, in inbound.ts): as long as a sender's
   * whole timeout at short periods, and a sender whose report or batch
   * timed out fails over or gives up, though its items arrived. Seen in the
   * aggregator-kill mesh test: handlers answering after exactly 1,000 ms,
   * and a live aggregator passed over round after round.
   */
  async receive (msg: RelayMessage, fromHost: string): Promise<RelayAnswer> {
    this.turnEpoch(this.c.epoch())
    // An audit carries nothing and changes nothing: it reads our view.
    if (msg.kind === 'audit') return { accepted: 0, dropped: msg.items.length, fresh: false, held: this.c.heldDigest(fromHost) }
    let dropped = 0
    const local = fromHost === this.c.host
    const fresh = msg.kind === 'batch' && !this.heardRecently(fromHost)
    if (msg.kind === 'batch') this.heard.set(fromHost, this.c.round())
    if (msg.kind === 'report') this.noteReport(fromHost)
    const authentic: Authentic[] = []
    for (const item of msg.items) {
      const got = local ? this.decodeOwn(item) : this.authenticate(item, fromHost)
      if (got === undefined) dropped++
      else authentic.push(got)
    }
    void this.apply(msg.kind, authentic, local)
      .catch(err => this.c.log.warn('relayed items not applied', { from: fromHost, kind: msg.kind, error: (err as Error).message }))
    return { accepted: authentic.length, dropped, fresh }
  }

  /** The view's checks (Inbound.receive, as gossip is), in the message's order; then what passes travels on. */
  private async apply (kind: RelayMessage['kind'], items: Authentic[], local: boolean): Promise<void> {
    for (const { item, env, author } of items) {
      if (!local && !(await this.c.inbound.receive(env, author, { relayed: kind === 'notice' }))) continue
      if (kind === 'notice') continue
      if (kind === 'report') {
        this.pending.push({ item, topic: env.topic })
        if (env.topic === 'host') this.ledger.took(env.host, item)
        // A plan leaves for the other DCs before our own hosts hear of it:
        // their aggregators each have a DC to pass it to (the fan-out the
        // plan's time to every host waits on).
        if (env.topic === 'plan') this.flushNow()
      }
      for (const n of this.book.track(env, item, this.recentClients())) this.notify(n.hosts, n.items)
    }
    if (kind === 'report' && this.pending.length > 0) this.schedule(this.urgency())
  }

  /** A new epoch: the roles moved; whoever reports to us again makes us an aggregator again. */
  turnEpoch (epoch: number): void {
    if (epoch <= this.epoch) return
    this.epoch = epoch
    this.clients.clear()
    this.heard.clear()
    this.ledger.newEpoch()
  }

  private decodeOwn (item: SignedItem): Authentic | undefined {
    try {
      const env = decodeEnvelope(item.e)
      return { item, env, author: this.c.roles.peerOf(env.host) ?? env.host }
    } catch {
      return undefined
    }
  }

  /** Decodes the item and checks its author's signature; undefined when dropped (and counted). */
  private authenticate (item: SignedItem, fromHost: string): Authentic | undefined {
    let env: Envelope
    try {
      env = decodeEnvelope(item.e)
    } catch (err) {
      if (err instanceof WireError) { this.c.inbound.countDrop('event', err.reason, this.c.roles.peerOf(fromHost) ?? fromHost); return undefined }
      throw err
    }
    const author = this.c.roles.peerOf(env.host)
    if (author === undefined) { this.c.inbound.countDrop(env.topic, 'not-member', fromHost); return undefined }
    if (!this.c.verifier.verify(item, author)) {
      this.c.log.warn('relayed item not signed by its author: dropped', { author: env.host, via: fromHost, topic: env.topic })
      this.c.inbound.countDrop(env.topic, 'bad-signature', this.c.roles.peerOf(fromHost) ?? fromHost)
      return undefined
    }
    return { item, env, author }
  }

  private notify (hosts: string[], items: SignedItem[]): void {
    for (const host of hosts) {
      if (host === this.c.host) continue
      void this.c.send(host, { kind: 'notice', epoch: Math.max(0, this.epoch), items })
        .catch(err => this.c.log.debug('notice not delivered', { host, error: (err as Error).message }))
    }
  }

  /**
   * How soon what is pending must travel: a plan at once (every host waits
   * for it, and its slot is short), votes within VOTE_BATCH_MS (a plan runs
   * once a majority is in), states and digests within the batch delay (the
   * planner needs them only at planning time).
   */
  private urgency (): number {
    let delay = this.c.batchMs
    for (const { topic } of this.pending) {
      if (topic === 'plan') return 0
      if (topic === 'event') delay = Math.min(delay, VOTE_BATCH_MS)
    }
    return delay
  }

  private flushNow (): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.dueAt = Infinity
    void this.flush()
  }

  private schedule (delayMs: number): void {
    if (this.stopped) return
    const due = this.c.now() + delayMs
    if (this.timer !== undefined && due >= this.dueAt) return
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.dueAt = due
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.flush()
    }, delayMs)
  }

  /**
   * Sends what our hosts reported to the aggregator of every other DC (the
   * first of its ranking that our view holds live, rank 0 while none is)
   * and to every aggregator that sent us a batch this epoch (a standby of
   * ours among them).
   */
  private async flush (): Promise<void> {
    const items = this.pending.map(p => p.item)
    this.pending = []
    if (items.length === 0 || this.stopped) return
    const epoch = Math.max(0, this.epoch)
    const targets = new Set([...this.heard.keys()].filter(h => this.heardRecently(h)))
    for (const ranking of this.c.roles.byDc(epoch).values()) {
      const mine = ranking.indexOf(this.c.host)
      // Our own DC: a standby that aggregates (some host's report to rank 0
      // failed) tells the ranks before it, so they learn of it and send it
      // theirs.
      if (mine >= 0) for (const h of ranking.slice(0, mine)) targets.add(h)
      else targets.add(ranking.find(h => this.c.isUp(h)) ?? ranking[0]!)
    }
    targets.delete(this.c.host)
    await Promise.all([...targets].map(async target => { await this.sendBatch(target, epoch, items) }))
  }

  private async sendBatch (target: string, epoch: number, items: SignedItem[]): Promise<boolean> {
    try {
      // States it lacks go first: the digests after them name their VMs.
      const batch = [...this.ledger.missing(target, this.recentClients(), items), ...items]
      const answer = await this.c.send(target, { kind: 'batch', epoch, items: batch })
      // A newly met aggregator (a new epoch there, or a restart) holds
      // nothing of ours that we can count on: all our hosts' states.
      if (answer.fresh) this.ledger.forget(target)
      this.ledger.gave(target, batch)
      const states = this.ledger.missing(target, this.recentClients(), [])
      if (states.length > 0) {
        await this.c.send(target, { kind: 'batch', epoch, items: states })
        this.ledger.gave(target, states)
      }
      return true
    } catch (err) {
      this.c.log.warn('aggregator did not take our batch', { aggregator: target, epoch, error: (err as Error).message })
      return false
    }
  }
}
