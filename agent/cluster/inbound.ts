/**
 * Gossip in, by topic (as Serf's delegate.go is for memberlist): every
 * message is rate-limited per author and topic, decoded, checked against
 * the view before gossipsub forwards it, then applied. States and digests
 * stop here; plans and events go on to the agent layer (Upstream).
 */
import { RateLimiter } from '../../lib/rate-limit.ts'
import type { ViewDropReason, Verdict as ViewVerdict } from '../../lib/view.ts'
import { decodeEnvelope, WireError } from '../../lib/wire/codec.ts'
import { type Envelope, type HostState, type Topic, TOPICS } from '../../lib/wire/messages.ts'
import { subscribeTopic, type GossipMessage, type Verdict } from '../net/index.ts'
import type { StateWaits } from './state-waits.ts'
import type { HostStates } from './states.ts'
import type { ClusterContext } from './types.ts'

/**
 * What one member may send on one topic per round before it counts as a
 * flood: a host sends its state when it changes (around each of its
 * migrations) and at most one answer to hellos per takeover slot (ten a
 * round), a digest and at most one plan per round; this is ample.
 */
export const MESSAGES_PER_ROUND = 40
/** How long a digest that overtook its author's state waits for it. */
export const DIGEST_HOLD_MS = 1_000

/** The layer above's verdict on a plan; without a reason the drop is not counted (a plan merely superseded). */
export type UpstreamVerdict = { ok: true } | { ok: false, reject: boolean, reason?: ViewDropReason }

/** What the agent layer hears of the gossip: plans (checked before they spread) and events. */
export interface Upstream {
  /** `relayed`: from this host's aggregator, which ranked it against its full view (tiered dissemination). */
  checkPlan (env: Envelope<'plan'>, now: number, relayed: boolean): UpstreamVerdict
  /** Events the agent layer must vouch for before they spread (a cluster settings record's admin signature). */
  checkEvent (env: Envelope<'event'>): UpstreamVerdict
  deliver (env: Envelope<'plan'> | Envelope<'event'>, now: number, relayed: boolean): void
}

export interface InboundComponents extends ClusterContext {
  upstream: Upstream
  states: HostStates
  waits: StateWaits
}

export class Inbound {
  private readonly c: InboundComponents
  /** Per (author, topic): MESSAGES_PER_ROUND a round on average, and as a burst. */
  private readonly floodGuard: RateLimiter
  private readonly subscriptions: Array<() => void> = []
  /** The (host, member-list hash) mismatches reported already: each is logged and counted once. */
  private readonly mismatches = new Set<string>()

  constructor (components: InboundComponents) {
    this.c = components
    this.floodGuard = new RateLimiter({ burst: MESSAGES_PER_ROUND, perSecond: MESSAGES_PER_ROUND * 1000 / components.timing.periodMs })
  }

  subscribe (): void {
    const { node } = this.c
    for (const topic of TOPICS) {
      const sub = subscribeTopic(node, node.topic(topic), {
        validate: (msg) => this.validate(topic, msg),
        deliver: (msg) => this.deliver(topic, msg)
      })
      this.subscriptions.push(() => sub.unsubscribe())
    }
  }

  unsubscribe (): void {
    for (const u of this.subscriptions) u()
  }

  private decode (topic: Topic, msg: GossipMessage): Envelope | WireError {
    try {
      return decodeEnvelope(msg.data, topic)
    } catch (err) {
      if (err instanceof WireError) return err
      throw err
    }
  }

  /**
   * A message that came another way than the gossip (the tiered
   * dissemination relays signed envelopes: cluster/tiered/), checked and
   * applied as gossip is. `from` is the peer whose signature it carries;
   * `relayed` plans come from this host's aggregator, which checked them
   * against its full view (a host that only reports has none). True when
   * it was applied.
   */
  async receive (env: Envelope, from: string, opts: { relayed?: boolean } = {}): Promise<boolean> {
    const topic = env.topic
    if (!this.floodGuard.take(`${from}/${topic}`, this.c.now())) {
      this.c.view.countDrop('rate-limited'); this.drop(topic, 'rate-limited', from, this.c.now()); return false
    }
    if (await this.check(topic, env, from, opts.relayed === true) !== 'accept') return false
    return this.apply(topic, env, from, opts.relayed === true)
  }

  private validate (topic: Topic, msg: GossipMessage): Verdict | Promise<Verdict> {
    const { view } = this.c
    this.c.counters.messagesVia.set(msg.via, (this.c.counters.messagesVia.get(msg.via) ?? 0) + 1)
    // A member flooding a topic is cut off before any decoding work.
    if (!this.floodGuard.take(`${msg.from}/${topic}`, this.c.now())) {
      view.countDrop('rate-limited'); this.drop(topic, 'rate-limited', msg.from, this.c.now()); return 'reject'
    }
    const env = this.decode(topic, msg)
    if (env instanceof WireError) { view.countDrop(env.reason); this.drop(topic, env.reason, msg.from, this.c.now()); return 'reject' }
    return this.check(topic, env, msg.from, false)
  }

  private check (topic: Topic, env: Envelope, from: string, relayed: boolean): Verdict | Promise<Verdict> {
    const { view } = this.c
    const verdict = view.check(env, from)
    if (!verdict.ok && verdict.reason === 'foreign-vm') return this.afterState(topic, env, from)
    if (!verdict.ok && verdict.reason === 'topology-mismatch') this.topologyMismatch(env.host, (env.body as HostState).topology)
    if (!verdict.ok) { this.drop(topic, verdict.reason, from, this.c.now()); return this.dropped(verdict) }
    if (env.topic === 'plan' || env.topic === 'event') {
      const now = this.c.now()
      const v = env.topic === 'plan' ? this.c.upstream.checkPlan(env as Envelope<'plan'>, now, relayed) : this.c.upstream.checkEvent(env as Envelope<'event'>)
      if (!v.ok) {
        if (v.reason !== undefined) { view.countDrop(v.reason); this.drop(topic, v.reason, from, now) }
        return v.reject ? 'reject' : 'ignore'
      }
    }
    return 'accept'
  }

  /** A digest naming a VM its author's state does not list (yet): checked again once the author's next state is here (see state-waits.ts). */
  private async afterState (topic: Topic, env: Envelope, from: string): Promise<Verdict> {
    await this.c.waits.wait(env.host, DIGEST_HOLD_MS)
    const verdict = this.c.view.check(env, from)
    if (!verdict.ok) this.drop(topic, verdict.reason, from, this.c.now())
    return this.dropped(verdict)
  }

  private dropped (v: ViewVerdict): Verdict {
    if (v.ok) return 'accept'
    this.c.view.countDrop(v.reason)
    return v.reject ? 'reject' : 'ignore'
  }

  private drop (topic: Topic, reason: string, peer: string, atMs: number): void {
    this.c.emit({ type: 'drop', topic, reason, peer, atMs })
  }

  private deliver (topic: Topic, msg: GossipMessage): void {
    const env = this.decode(topic, msg)
    if (env instanceof WireError) return
    this.apply(topic, env, msg.from)
  }

  private apply (topic: Topic, env: Envelope, from: string, relayed = false): boolean {
    const now = this.c.now()
    // Validation ran moments ago; apply re-checks sequence numbers so a
    // message that raced another from the same host is still applied once.
    if (!this.c.view.accept(env, from, now).ok) return false
    this.c.counters.messagesIn[topic]++
    this.c.emit({ type: 'gossip', topic, env, from: env.host, atMs: now })
    if (env.topic === 'host') {
      this.c.waits.arrived(env.host)
      this.checkMemberList(env.host, (env.body as HostState).members)
      if ((env.body as HostState).hello === true) this.c.states.answerHello(env.host, now)
    }
    if (env.topic === 'plan' || env.topic === 'event') this.c.upstream.deliver(env as Envelope<'plan'> | Envelope<'event'>, now, relayed)
    return true
  }

  /**
   * A member whose member list is not ours: its votes do not count
   * (docs/design.md §5.3), and an operator must hear of it: a warning and a
   * count, once per host and hash (its state comes again every few rounds).
   */
  private checkMemberList (host: string, hash: string | undefined): void {
    const { view } = this.c
    if (view.agreesOnMembers(host)) return
    const key = `${host} ${hash ?? ''}`
    if (this.mismatches.has(key)) return
    this.mismatches.add(key)
    this.c.counters.memberListMismatches++
    this.c.log.warn('member list mismatch: this member lists other members than we do; its votes do not count until the configs agree', { member: host, theirs: hash ?? 'none (an older agent)', ours: view.membersHash })
  }

  /**
   * A member on another topology file (not staged here, nor staging ours):
   * its states are dropped and the one held is stale, so it is not up here
   * (ReplicatedView.otherTopology). Said once per host and
   * hash: typically a host that was down while the cluster switched
   * (docs/operations.md, Changing the topology).
   */
  private topologyMismatch (host: string, hash: string): void {
    this.c.view.otherTopology(host)
    const key = `topology ${host} ${hash}`
    if (this.mismatches.has(key)) return
    this.mismatches.add(key)
    this.c.log.warn('topology mismatch: this member runs another topology file; its states are dropped. Put the cluster\'s topology file on it and reload it (it stages the file and switches at once) or restart it', { member: host, theirs: hash })
  }

  /** A drop found outside (a relayed item's signature), counted and reported as the others. */
  countDrop (topic: Topic, reason: ViewDropReason, peer: string): void {
    this.c.view.countDrop(reason)
    this.drop(topic, reason, peer, this.c.now())
  }
}
