/**
 * The tiered dissemination (docs/design.md §9.8), composed: this host's
 * messages go signed to its DC's aggregator (reporter.ts); whoever is
 * reported to aggregates and exchanges batches with the other DCs'
 * aggregators (relay.ts); all of it over one request/response protocol on
 * direct streams (one kept per peer, channel.ts), nothing on gossipsub. The
 * cluster layer switches to it with `dissemination: "tiered"` in the config.
 */
import type { PrivateKey } from '@libp2p/interface'
import { epochOf } from '../../../lib/roles.ts'
import { roundAt } from '../../../lib/rounds.ts'
import type { Envelope } from '../../../lib/wire/messages.ts'
import type { SignedItem } from '../../../lib/wire/relay.ts'
import { MAX_RELAY_BYTES, readRelayAnswer, readRelayMessage, type RelayAnswer, type RelayMessage } from '../../../lib/wire/relay.ts'
import { Channels } from '../../net/channel.ts'
import type { Inbound } from '../inbound.ts'
import type { ClusterContext } from '../types.ts'
import { Auditor } from './auditor.ts'
import { Relay, batchDelayMs } from './relay.ts'
import { Reporter } from './reporter.ts'
import { AggregatorRoles, type RoleMember } from './roles.ts'
import { Signer, Verifier } from './signing.ts'
import { voteDelayMs } from './vote-delay.ts'

export interface TieredComponents extends ClusterContext {
  inbound: Inbound
  privateKey: PrivateKey
  /** Our state must go out again (to a new aggregator). */
  resendState: () => void
}

export interface TieredInit {
  cluster: string
  dc: string
  members: readonly RoleMember[]
}

/** Rounds a standby aggregates before it counts as its DC's aggregator (see candidates). */
export const STANDBY_WARMUP_ROUNDS = 2

export class TieredDissemination {
  private readonly c: TieredComponents
  private readonly roles: AggregatorRoles
  private readonly reporter: Reporter
  private readonly relay: Relay
  private readonly auditor: Auditor
  /** Our own digests' seqs, by the item that carries them: what the auditor checks. */
  private readonly digestSeqs = new WeakMap<SignedItem, number>()
  private readonly hosts = new Map<string, string>()
  private readonly timeoutMs: number
  private readonly dc: string
  private readonly signer: Signer
  private readonly channels: Channels

  constructor (components: TieredComponents, init: TieredInit) {
    this.c = components
    this.dc = init.dc
    this.signer = new Signer(components.privateKey)
    this.roles = new AggregatorRoles(init.cluster, init.members)
    for (const m of init.members) this.hosts.set(m.peerId, m.host)
    const { timing } = components
    // A report or batch that takes longer than a quarter of a round has missed its purpose: try a standby.
    this.timeoutMs = Math.max(1000, Math.min(10_000, Math.round(timing.periodMs / 4)))
    this.reporter = new Reporter({
      host: components.host,
      dc: init.dc,
      roles: this.roles,
      log: components.log,
      deliver: async (host, msg) => { await this.deliver(host, msg) },
      newAggregator: components.resendState,
      taken: (items, aggregator, round) => {
        for (const item of items) {
          const seq = this.digestSeqs.get(item)
          if (seq !== undefined) this.auditor.taken(seq, round, aggregator)
        }
      }
    })
    this.auditor = new Auditor({
      host: components.host,
      dc: init.dc,
      roles: this.roles,
      log: components.log,
      now: components.now,
      // A batch leaves within the batch delay; give it that and a second more on the way.
      graceMs: batchDelayMs(timing) + 1000,
      send: async (host, msg) => await this.deliver(host, msg),
      accuse: (aggregator, epoch) => {
        components.counters.aggregatorsAccused++
        this.reporter.shun(aggregator, epoch)
      }
    })
    this.relay = new Relay({
      host: components.host,
      roles: this.roles,
      verifier: new Verifier(),
      inbound: components.inbound,
      log: components.log,
      now: components.now,
      memberCount: init.members.length,
      send: async (host, msg) => await this.deliver(host, msg),
      warm: (host) => { const peer = this.roles.peerOf(host); if (peer !== undefined) this.channels.warm(peer) },
      batchMs: batchDelayMs(timing),
      round: () => roundAt(components.now(), timing),
      epoch: () => epochOf(roundAt(components.now(), timing)),
      isUp: (host) => components.view.isUp(host, components.now()),
      countsVote: (host) => components.view.agreesOnMembers(host),
      heldDigest: (host) => components.view.member(host)?.seq.traffic ?? -1
    })
    // One kept stream per peer: reports, batches and notices are small and
    // constant, and a stream per message cost most of an agent's CPU (channel.ts).
    this.channels = new Channels(components.node, this.protocol, async (body, ctx) => {
      const from = this.hosts.get(ctx.peer)
      if (from === undefined) throw new Error('not a member of this cluster')
      const msg = readRelayMessage(body)
      if (typeof msg === 'string') throw new Error(`malformed relay message: ${msg}`)
      components.counters.relayServed[msg.kind]++
      return await this.relay.receive(msg, from)
    }, {
      maxBytes: MAX_RELAY_BYTES,
      timeoutMs: this.timeoutMs,
      closed: (peer) => { const host = this.hosts.get(peer); if (host !== undefined) this.reporter.lost(host) }
    })
  }

  get protocol (): string {
    return this.c.node.protocol('relay', '2.0.0')
  }

  async start (): Promise<void> {
    await this.channels.start()
  }

  async stop (): Promise<void> {
    this.relay.stop()
    await this.channels.stop()
  }

  /** How long this host waits after accepting the plan of `round` before it votes (vote-delay.ts). */
  voteDelayMs (round: number): number {
    return voteDelayMs(this.c.host, round, this.c.timing)
  }

  roundStarted (round: number): void {
    this.relay.turnEpoch(epochOf(round))
    void this.auditor.audit(round).catch(err => this.c.log.warn('audit failed', { error: (err as Error).message }))
  }

  /** Our own message (already applied to our view), signed, to our aggregator, in the order made (the reporter queues in order). */
  async send (env: Envelope, bytes: Uint8Array): Promise<void> {
    const item = this.signer.sign(bytes)
    if (env.topic === 'traffic') this.digestSeqs.set(item, env.seq)
    await this.reporter.send(item, env.round, env.topic === 'plan' || env.topic === 'event')
  }

  /**
   * The round's planner candidates among `live` (hosts with a recent
   * digest): for each DC the first of its epoch's aggregator ranking that
   * is live; none when this host only reports (it holds no view to plan
   * with). Every aggregator holds the whole view, so they rank alike, as
   * every agent did with the flooded view.
   */
  candidates (round: number, live: ReadonlySet<string>): Set<string> {
    const out = new Set<string>()
    const byDc = this.roles.byDc(epochOf(round))
    // A standby that took a report moments ago (one slow answer of rank 0)
    // holds only part of the view: it ranks and plans only once it has
    // aggregated for a whole round (rank 0 did not come back).
    const rankZero = byDc.get(this.dc)?.[0] === this.c.host
    if (this.relay.aggregatingFor < (rankZero ? 0 : STANDBY_WARMUP_ROUNDS)) return out
    for (const ranking of byDc.values()) {
      const first = ranking.find(h => live.has(h))
      if (first !== undefined) out.add(first)
    }
    return out
  }

  /** Whom this host reports to in `round`'s epoch. */
  aggregator (round: number): string | undefined {
    return this.reporter.aggregator(round)
  }

  private async deliver (host: string, msg: RelayMessage): Promise<RelayAnswer> {
    if (host === this.c.host) return await this.relay.receive(msg, host)
    const peer = this.roles.peerOf(host)
    if (peer === undefined) throw new Error(`unknown host ${host}`)
    this.c.counters.relaySent[msg.kind]++
    this.c.counters.relayItemsSent[msg.kind] += msg.items.length
    const answer = readRelayAnswer(await this.channels.request(peer, msg))
    if (typeof answer === 'string') throw new Error(`malformed answer from ${host}: ${answer}`)
    return answer
  }
}
