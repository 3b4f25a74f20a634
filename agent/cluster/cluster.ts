/**
 * The cluster layer (as Serf's is over memberlist): who the members are,
 * how this host's state and digest travel and when, who is live and
 * whether a quorum is. It is the one place that knows how states and
 * digests travel; the agent layer above it (plans, votes, migrations) sees
 * the view, sends through it, and hears plans and events (Upstream).
 *
 * Lifecycle (Startable): start subscribes the topics; afterStart joins
 * (dials the seeds) and says hello; stop unsubscribes; afterStop stops the
 * node, once everything above has stopped using it.
 */
import type { PrivateKey, Startable } from '@libp2p/interface'
import { publishOffsetMs, roundAt, roundStartMs, type RoundTiming } from '../../lib/rounds.ts'
import type { Topology } from '../../lib/topology.ts'
import { ReplicatedView } from '../../lib/view.ts'
import { type Bodies, type Envelope, type Topic, TOPICS } from '../../lib/wire/messages.ts'
import type { AgentConfig } from '../config.ts'
import type { HypervisorDriver, TrafficCollector } from '../drivers/types.ts'
import type { Logger } from '../log.ts'
import { meshPeers, peerScores, type ClusterNode } from '../net/index.ts'
import { memberListHash } from '../member-list.ts'
import type { SignedMembership } from '../membership/membership.ts'
import { Digests } from './digests.ts'
import { Inbound, type Upstream } from './inbound.ts'
import { hasQuorum, liveMembers } from './liveness.ts'
import { Outbox } from './outbox.ts'
import { SeqStore } from './seq-store.ts'
import { Rejoin } from './rejoin.ts'
import { StateWaits } from './state-waits.ts'
import { HELLO_ROUNDS, HostStates, type LocalState, type StateOptions } from './states.ts'
import { TieredDissemination } from './tiered/tiered.ts'
import { TopologySwitch, type StageResult, type TopologyFile } from './topology-switch.ts'
import type { ClusterContext, ClusterCounters, ClusterEvent } from './types.ts'

export interface ClusterComponents {
  node: ClusterNode
  hypervisor: HypervisorDriver
  collector: TrafficCollector
  log: Logger
  now: () => number
  emit: (event: ClusterEvent) => void
  counters: ClusterCounters
  upstream: Upstream
  local: LocalState
  /** Signs this host's messages when they travel through aggregators (dissemination "tiered"). */
  privateKey?: PrivateKey
  /** Signed membership (config adminKey): changes the view's member list at run time (agent/membership/). */
  membership?: SignedMembership
  /** Called when a staged topology takes over (topology-switch.ts). */
  topologySwitched?: (now: TopologyFile) => void
}

export interface ClusterInit {
  config: AgentConfig
  topology: Topology
  topologyHash: string
  timing: RoundTiming
}

export class Cluster implements Startable {
  readonly view: ReplicatedView
  /** The topology run now, and the one staged (docs/design.md §3.8). */
  readonly topology: TopologySwitch
  private readonly ctx: ClusterContext
  private readonly outbox: Outbox
  private readonly states: HostStates
  private readonly digests: Digests
  private readonly inbound: Inbound
  private readonly waits = new StateWaits()
  private readonly rejoin: Rejoin
  /** Set with dissemination "tiered": messages travel through per-DC aggregators instead of gossipsub (§9.8). */
  private readonly tiered: TieredDissemination | undefined
  private readonly membership: SignedMembership | undefined
  private leavingNow = false
  private currentRound = -1
  /** The first round this agent saw start. */
  private firstRound = -1
  /** The round whose state and digest went out (each round's go out at the host's offset into it). */
  private published = -1

  constructor (components: ClusterComponents, init: ClusterInit) {
    const { config } = init
    const membersHash = memberListHash(config.members)
    this.view = new ReplicatedView({
      members: config.members,
      observers: config.observers,
      downAfterMs: config.roundPeriodMs * config.downAfterRounds,
      membersHash
    })
    const { node, log, now, emit, counters } = components
    this.topology = new TopologySwitch({ host: config.host, view: this.view, log: log.child('topology'), ...(components.topologySwitched !== undefined ? { switched: components.topologySwitched } : {}) }, { topology: init.topology, hash: init.topologyHash, file: config.topologyFile })
    this.ctx = { host: config.host, node, view: this.view, timing: init.timing, log, now, emit, counters }
    this.rejoin = new Rejoin({ node, log, counters })
    this.outbox = new Outbox(this.ctx, new SeqStore(config.stateDir))
    this.states = new HostStates({
      ...this.ctx,
      hypervisor: components.hypervisor,
      collector: components.collector,
      outbox: this.outbox,
      local: components.local,
      leaving: () => this.leavingNow,
      round: () => this.currentRound,
      topology: this.topology
    }, { config, membersHash })
    this.digests = new Digests({ ...this.ctx, collector: components.collector, outbox: this.outbox, topology: this.topology })
    this.inbound = new Inbound({ ...this.ctx, upstream: components.upstream, states: this.states, waits: this.waits })
    this.membership = components.membership
    const membership = this.membership
    if (membership !== undefined) this.outbox.holdWhile(() => !membership.isMember)
    if (config.dissemination === 'tiered') {
      // The aggregators are ranked over the member list fixed at start (tiered/roles.ts).
      if (this.membership !== undefined) throw new Error('dissemination "tiered" does not take signed membership (adminKey) yet: its aggregator roles are fixed at start')
      if (components.privateKey === undefined) throw new Error('dissemination "tiered" needs the agent\'s private key (it signs every message)')
      const tiered = new TieredDissemination({
        ...this.ctx,
        inbound: this.inbound,
        privateKey: components.privateKey,
        resendState: () => { this.states.resendSoon(this.ctx.now()) }
      }, { cluster: config.cluster, dc: config.dc, members: config.members })
      this.outbox.through(async (env, bytes) => { await tiered.send(env, bytes) })
      this.tiered = tiered
    }
  }

  /** The round of the loop's latest step (-1 before its first). */
  get round (): number {
    return this.currentRound
  }

  /** The first round this agent saw start: before it, its view lacked the states sent before it joined. */
  get joinedRound (): number {
    return this.firstRound
  }

  /**
   * True with dissemination "tiered": a host that only reports holds no
   * other member's state, and its aggregator vets the votes it forwards.
   */
  get vettedVotes (): boolean {
    return this.tiered !== undefined
  }

  /**
   * How long this host waits after accepting the plan of `round` before it
   * votes: with dissemination "tiered", until the plan had time to reach
   * every host (tiered/vote-delay.ts); flooded votes go at once.
   */
  voteDelayMs (round: number): number {
    return this.tiered?.voteDelayMs(round) ?? 0
  }

  /** False with the tiered dissemination: a host that only reports holds no other member's state. */
  get holdsEveryState (): boolean {
    return this.tiered === undefined
  }

  /** True once this host announced its leave. */
  get leaving (): boolean {
    return this.leavingNow
  }

  /** Loads the sequence mark; subscribes the gossip topics, or (tiered) serves the relay protocol: nothing is flooded then. */
  async start (): Promise<void> {
    await this.outbox.load()
    if (this.tiered !== undefined) await this.tiered.start()
    else this.inbound.subscribe()
    await this.membership?.start({
      host: this.ctx.host,
      node: this.ctx.node,
      view: this.view,
      log: this.ctx.log.child('membership'),
      now: this.ctx.now,
      periodMs: this.ctx.timing.periodMs,
      admitted: () => { this.admitted() },
      listChanged: () => { this.states.resendSoon(this.ctx.now()) }
    })
  }

  /**
   * This host was just admitted (signed membership): until now its states
   * were dropped as a non-member's and its view held no member list, so it
   * starts over as a newcomer would: hello rounds from now, and a hello now.
   */
  private admitted (): void {
    this.firstRound = this.currentRound
    this.states.publish({ hello: true }).catch(err => { this.ctx.log.warn('could not say hello after admission', { error: (err as Error).message }) })
  }

  /** Joins: dials the seeds, then says who we are (reconciled with the hypervisor at once) and asks every member for its state. */
  async afterStart (): Promise<void> {
    const peers = await this.ctx.node.bootstrap()
    if (peers.length === 0 && this.view.members().length > 1) this.ctx.log.warn('no bootstrap peer answered: trying again at each round start while this host has no connection')
    await this.states.publish({ hello: true })
    this.membership?.afterStart()
  }

  async stop (): Promise<void> {
    await this.membership?.stop()
    this.inbound.unsubscribe()
    await this.tiered?.stop()
    this.waits.close()
    await this.rejoin.stop()
  }

  async afterStop (): Promise<void> {
    await this.ctx.node.stop()
  }

  /** Marks this host as leaving and says so: the others stop counting it as a candidate at once. */
  async leave (): Promise<void> {
    this.leavingNow = true
    await this.states.publish()
  }

  roundStarted (round: number): void {
    if (this.firstRound < 0) this.firstRound = round
    this.currentRound = round
    // A host alone stays alone (it cannot look anyone up): dial the seeds again.
    if (this.view.members().length > 1) this.rejoin.check()
    this.membership?.roundStarted(round)
    this.tiered?.roundStarted(round)
    // Switched: the others see it at once (and a late one takes our state by its staged hash).
    if (this.topology.roundStarted(round, this.ctx.now())) {
      this.states.publish().catch(err => { this.ctx.log.warn('could not publish the state after the topology switch', { error: (err as Error).message }) })
    }
  }

  /** A reload's topology file: staged, or a staged one withdrawn (TopologySwitch.stage); the states say so at once. */
  stageTopology (file: TopologyFile): StageResult {
    const result = this.topology.stage(file, Math.max(0, this.currentRound))
    if (result === 'staged' || result === 'withdrawn') {
      this.states.publish().catch(err => { this.ctx.log.warn('could not publish the state after staging a topology', { error: (err as Error).message }) })
    }
    return result
  }

  /**
   * This round's dissemination, called by the round loop on every step: at
   * the host's offset into the round its state and digest; whenever due, a
   * state a member asked for.
   */
  async disseminate (now: number, round: number): Promise<void> {
    const { host, timing, log } = this.ctx
    if (this.published !== round && now >= roundStartMs(round, timing) + publishOffsetMs(host, round, timing)) {
      this.published = round
      const stateSent = await this.states.publishForRound(round, this.greeting())
      let digest = false
      try {
        digest = await this.digests.publish(round)
      } catch (err) {
        log.warn('no traffic digest this round: the collector failed', { round, error: (err as Error).message })
      }
      // Without a digest nothing else says we are alive this round: the state does.
      if (!digest && !stateSent) await this.states.publish()
    }
    await this.states.publishIfDue(now)
  }

  /** True in this agent's first rounds, whose states say hello. */
  private greeting (): boolean {
    return this.firstRound < 0 || this.currentRound < this.firstRound + HELLO_ROUNDS
  }

  /** See HostStates.publish. */
  async publishState (opts: StateOptions = {}): Promise<boolean> {
    return await this.states.publish(opts)
  }

  /** A peer's view of us proved stale: our state goes out again at the next step. */
  resendState (now: number): void {
    this.states.resendSoon(now)
  }

  envelope<T extends Topic> (topic: T, round: number, body: Bodies[T]): Envelope<T> {
    return this.outbox.envelope(topic, round, body)
  }

  async send (env: Envelope): Promise<void> {
    await this.outbox.send(env)
  }

  /**
   * The live members: the round's planner candidates. With the tiered
   * dissemination only aggregators hold the whole view, so only each DC's
   * live aggregator is a candidate (and a host that only reports has none:
   * it never plans).
   */
  liveMembers (now: number): Array<{ host: string, peerId: string }> {
    const live = liveMembers(this.view, now)
    if (this.tiered === undefined) return live
    const candidates = this.tiered.candidates(roundAt(now, this.ctx.timing), new Set(live.map(m => m.host)))
    return live.filter(m => candidates.has(m.host))
  }

  /** With the tiered dissemination: whom this host reports to in `round` (after failovers). */
  aggregator (round: number): string | undefined {
    return this.tiered?.aggregator(round)
  }

  hasQuorum (now: number): boolean {
    return hasQuorum(this.view, this.ctx.host, now, this.ctx.timing.periodMs)
  }

  /** Per gossip topic, the peers grafted into this agent's mesh: whom it forwards to (none: its messages reach no one). */
  /** gossipsub's score of each gossip peer (agent/net/mesh.ts). */
  peerScores (): Array<{ peerId: string, score: number }> {
    return peerScores(this.ctx.node)
  }

  meshPeers (): Record<Topic, string[]> {
    const { node } = this.ctx
    return Object.fromEntries(TOPICS.map(t => [t, meshPeers(node, node.topic(t))])) as Record<Topic, string[]>
  }
}
