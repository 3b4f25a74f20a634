/**
 * One heliotrope agent: the daemon on a hypervisor host. It wires the parts
 * together and runs the round loop (DESIGN.md):
 *
 *   round start   publish HostState (from the hypervisor) and TrafficDigest
 *                 (from the collector)
 *   plan time     rank the live members for the round; rank k plans when no
 *                 plan of a lower rank arrived by its deadline
 *   plan final    at the next rank's deadline, carry out this host's moves
 *
 * Everything decided here is decided by lib/ functions; this class does the
 * I/O and keeps the clocks.
 */
import type { Plan } from '../lib/model.ts'
import type { Verdict as PlanVerdict } from '../lib/planners/safe-plan.ts'
import { defaultTiming, maxRanks, planDeadlineMs, publishOffsetMs, roundAt, roundStartMs, spreadOffsetMs, type RoundTiming } from '../lib/rounds.ts'
import { RateLimiter } from '../lib/rate-limit.ts'
import { parseSnapshot } from '../lib/snapshot.ts'
import type { Topology } from '../lib/topology.ts'
import { AddressBook, TrafficWindow } from '../lib/traffic.ts'
import { ReplicatedView, type Verdict as ViewVerdict } from '../lib/view.ts'
import { decodeEnvelope, encodeEnvelope, WireError } from '../lib/wire/codec.ts'
import { type Bodies, type Envelope, type HostState, type PlannedMove, type Topic, TOPICS } from '../lib/wire/messages.ts'
import type { AgentConfig } from './config.ts'
import { Controls } from './controls/controls.ts'
import type { HypervisorDriver, MigrationResult, TrafficCollector } from './drivers/types.ts'
import { Election, type AcceptedPlan } from './election.ts'
import { Executor } from './executor.ts'
import type { Logger } from './log.ts'
import { readMigrateRequest, readMigrateResponse, REFUSAL_REASONS, type MigrateRequest, type MigrateResponse, type RefusalReason } from './migrate-protocol.ts'
import { closestPeers, handle, meshPeers, publish, request, subscribeTopic, type ClusterNode, type GossipMessage, type Verdict } from './net/index.ts'
import { ReservationBook } from './reservations.ts'
import { StateWaits } from './state-waits.ts'
import { type Claim, claimKey, planDigest, signClaim, validateClaim } from './claims.ts'
import type { PrivateKey } from '@libp2p/interface'

export const TICK_MS = 100
/** The DHT cross-check of a round's ranking runs after this many takeover slots (plus the host's offset). */
const CROSS_CHECK_AFTER_RANKS = 2
/**
 * What one member may send on one topic per round before it counts as a
 * flood: a host sends its state when it changes (around each of its
 * migrations) and at most one answer to hellos per takeover slot (ten a
 * round), a digest and at most one plan per round; this is ample.
 */
export const MESSAGES_PER_ROUND = 40
/** Members heard within this many rounds count towards a quorum (each publishes its digest every round). */
export const QUORUM_ROUNDS = 1.5
/**
 * A host sends its state when it changes, and an unchanged one again once
 * in this many rounds in case a change was lost; its digest, sent every
 * round, keeps it live. (A state every round was half of the gossip before
 * planning, and on two cores for 64 agents the CPU for it queued every
 * message behind it: bench:gossip.)
 */
export const STATE_REFRESH_ROUNDS = 10
/** States a host sends in its first rounds say hello: every member answers with its own. */
export const HELLO_ROUNDS = 2
/** How long a digest that overtook its author's state waits for it. */
export const DIGEST_HOLD_MS = 1_000
/** How much longer than a migration's deadline a reservation holds its room. */
export const RESERVATION_MARGIN_MS = 10_000
const CLAIMED_BELOW = 'a lower rank claimed the round in the DHT: no takeover'
/** On stop, how long migrations in flight may take to finish before they are aborted. */
export const STOP_GRACE_MS = 5_000

export interface AgentComponents {
  node: ClusterNode
  hypervisor: HypervisorDriver
  collector: TrafficCollector
  log: Logger
  /** Wall clock in ms; tests pass a skewed one. */
  clock?: () => number
  /** Signs this agent's planner claims in the DHT; without it no claim is stored. */
  privateKey?: PrivateKey
}

export interface StateOptions {
  onlyIfChanged?: boolean
  hello?: boolean
}

export interface AgentInit {
  config: AgentConfig
  topology: Topology
  topologyHash: string
}

/** What an agent reports as it runs: for the API's monitor stream, the console and benchmarks. */
export type AgentEvent =
  | { type: 'gossip', topic: Topic, env: Envelope, from: string, atMs: number }
  | { type: 'drop', topic: Topic, reason: string, peer: string, atMs: number }
  | { type: 'published', topic: Topic, env: Envelope, bytes: number, atMs: number }
  | { type: 'plan-accepted', round: number, planner: string, rank: number, atMs: number }
  | { type: 'migration', vm: string, from: string, to: string, phase: 'started' | 'done' | 'failed', detail?: string, atMs: number }

export type AgentListener = (event: AgentEvent) => void

/** What the agent did in a round, for tests, the API and the console. */
export interface RoundRecord {
  round: number
  ranking: string[]
  planner?: string
  rank?: number
  plan?: { initialCost: number, finalCost: number, moves: PlannedMove[] }
  /** Set when this agent computed a plan itself. */
  planned?: Plan
  /** What the safety controls made of that plan (run, below-min-improvement...): a plan held back gossips as one with no moves. */
  verdict?: PlanVerdict
  /** The DHT's closest peers to the round key (hosts), for cross-checking the ranking. */
  dhtRanking?: string[]
  /** How long this agent's planner took, when it planned (ms). */
  planMs?: number
  outcomes: Array<{ vm: string, from: string, to: string, ok: boolean, error?: string }>
  /** Set when this agent started carrying out the round's plan (its own share). */
  acted?: boolean
  /** Why the agent did not plan or act when it could have (no quorum, a claim below its rank). */
  notes?: string[]
}

export class Agent {
  readonly config: AgentConfig
  readonly view: ReplicatedView
  readonly election: Election
  readonly timing: RoundTiming
  readonly rounds = new Map<number, RoundRecord>()
  readonly counters = {
    published: 0,
    messagesIn: { host: 0, traffic: 0, plan: 0, event: 0 } as Record<Topic, number>,
    plansMade: 0,
    migrationsOk: 0,
    migrationsFailed: 0,
    /** Bytes the collector saw but could not attribute to a pair (a full set): the digest under-reports by this much. */
    uncountedBytes: 0,
    /** Migrate requests this host refused as a target, by reason (DESIGN.md invariant 5). */
    migrateRefused: Object.fromEntries(REFUSAL_REASONS.map(r => [r, 0])) as Record<RefusalReason, number>
  }
  /** The operator's controls: mode, approvals, pins, drain, migration limits (agent/controls/). */
  readonly controls: Controls
  private readonly c: AgentComponents
  private readonly topology: Topology
  private readonly topologyHash: string
  private readonly window = new TrafficWindow()
  private readonly reservations: ReservationBook
  private readonly executor: Executor
  private readonly now: () => number
  private readonly seqs: Record<Topic, number> = { host: 0, traffic: 0, plan: 0, event: 0 }
  private timer: ReturnType<typeof setInterval> | undefined
  private currentRound = -1
  private leaving = false
  private busy = false
  private readonly migrating = new Set<string>()
  private readonly unsubscribe: Array<() => void> = []
  private running: Promise<unknown> = Promise.resolve()
  private executing: Promise<unknown> = Promise.resolve()
  private readonly listeners = new Set<AgentListener>()
  /** The first round this agent saw start: it plans and acts only from the round after. */
  private firstRound = -1
  /** The round whose state and digest went out (each round's go out at the host's offset into it). */
  private statePublished = -1
  /** The last state sent (without its hello flag). */
  private lastState = ''
  /** When to send our state again though it did not change: a newcomer said hello, or a peer's view of us proved stale. */
  private stateDueAtMs: number | undefined
  /** When such an extra state last went out: at most one per takeover slot. */
  private extraStateAtMs = -Infinity
  /** States go out one after the other (see publishState). */
  private stateQueue: Promise<unknown> = Promise.resolve()
  private readonly stateWaits = new StateWaits()
  /** Per (author, topic): MESSAGES_PER_ROUND a round on average, and as a burst. */
  private readonly floodGuard: RateLimiter
  /** The VM addresses the collector counts for, as last told. */
  private countedAddresses = ''

  constructor (components: AgentComponents, init: AgentInit) {
    this.c = components
    this.config = init.config
    this.topology = init.topology
    this.topologyHash = init.topologyHash
    this.now = components.clock ?? Date.now
    this.timing = defaultTiming(this.config.roundPeriodMs)
    this.view = new ReplicatedView({
      members: this.config.members,
      observers: this.config.observers,
      downAfterMs: this.config.roundPeriodMs * this.config.downAfterRounds,
      topology: this.topologyHash
    })
    this.election = new Election({ cluster: this.config.cluster, timing: this.timing })
    this.floodGuard = new RateLimiter({ burst: MESSAGES_PER_ROUND, perSecond: MESSAGES_PER_ROUND * 1000 / this.config.roundPeriodMs })
    this.reservations = new ReservationBook(components.hypervisor, {
      capacity: this.config.capacity,
      leaving: () => this.leaving || this.controls.refusesIncoming(),
      planned: (round, vmId, from) => this.election.accepted(round)?.plan.moves.some(m => m.vm === vmId && m.from === from && m.to === this.config.host) === true ||
        this.controls.approvedMove(round, vmId, from, this.config.host),
      now: this.now
        // A reservation must outlive the migration it admits, or its room could
    // be given away while the VM is still on its way (the cluster uses one
    // migration deadline, so our own bounds the source's).
    }, Math.max(this.config.reservationTtlMs, this.config.migrationDeadlineMs + RESERVATION_MARGIN_MS), components.log.child('reservations'))
    this.executor = new Executor({
      host: this.config.host,
      driver: components.hypervisor,
      log: components.log.child('executor'),
      now: this.now,
      deadlineMs: this.config.migrationDeadlineMs,
      ask: async (host, req) => this.ask(host, req),
      started: async (move) => { this.migrating.add(move.vm); this.emit({ type: 'migration', vm: move.vm, from: move.from, to: move.to, phase: 'started', atMs: this.now() }); await this.publishEvent({ kind: 'migration-started', vm: move.vm, from: move.from, to: move.to }); await this.publishState() },
      finished: async (move, result) => this.onFinished(move, result)
    })
    this.controls = new Controls({
      host: this.config.host,
      config: this.config,
      view: this.view,
      timing: this.timing,
      log: components.log,
      now: this.now,
      publishEvent: async (body) => this.publishEvent(body),
      publishState: async () => this.publishState(),
      execute: (round, moves, untilMs) => { this.execute(round, moves, untilMs) }
    })
  }

  get host (): string {
    return this.config.host
  }

  get peerId (): string {
    return this.c.node.peerId
  }

  /** observe, dry-run, approve or auto: what this agent may do (the API reports it). */
  get mode (): string {
    return this.controls.mode
  }

  /** Subscribes to what the agent does; returns the unsubscribe function. */
  observe (listener: AgentListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private emit (event: AgentEvent): void {
    for (const l of this.listeners) {
      try { l(event) } catch { /* an observer must not break the agent */ }
    }
  }

  /** Per gossip topic, the peers grafted into this agent's mesh: whom it forwards to (none: its messages reach no one). */
  meshPeers (): Record<Topic, string[]> {
    const node = this.c.node
    return Object.fromEntries(TOPICS.map(t => [t, meshPeers(node, node.topic(t))])) as Record<Topic, string[]>
  }

  /** VMs this host is migrating away right now. */
  inFlight (): string[] {
    return [...this.migrating].sort()
  }

  /** Our dialable addresses (with /p2p/<peer id>), for bootstrap lists. */
  addresses (): string[] {
    return this.c.node.addresses()
  }

  async start (): Promise<void> {
    const { node, log } = this.c
    await this.c.hypervisor.start()
    await this.c.collector.start()
    // Pins and drain come from disk before we first say who we are.
    await this.controls.start()
    for (const topic of TOPICS) {
      const sub = subscribeTopic(node, node.topic(topic), {
        validate: (msg) => this.validate(topic, msg),
        deliver: (msg) => this.deliver(topic, msg)
      })
      this.unsubscribe.push(() => sub.unsubscribe())
    }
    await handle(node, this.migrateProtocol(), async (body, ctx) => this.onMigrateRequest(body, ctx.peer))
    await node.bootstrap()
    // Reservations live in memory: a VM still waiting to arrive from before a
    // restart has none any more, so its receiving side is cleaned up.
    for (const vm of await this.c.hypervisor.list()) {
      if (vm.status !== 'incoming') continue
      log.warn('cancelling an incoming VM left from before a restart', { vm: vm.id })
      await this.c.hypervisor.cancelIncoming(vm.id).catch(err => log.warn('could not cancel it', { vm: vm.id, error: (err as Error).message }))
    }
    // Reconcile with the hypervisor at once and say who we are.
    await this.publishState({ hello: true })
    this.timer = setInterval(() => { this.tick() }, TICK_MS)
    log.info('agent started', { host: this.host, peerId: this.peerId, dc: this.config.dc, addresses: node.addresses() })
  }

  /**
   * Graceful leave: announce it (others stop counting us as a candidate at
   * once), let in-flight migrations finish or abort, then stop the node.
   */
  async stop (): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    this.leaving = true
    this.executor.stop()
    try {
      await this.publishState()
      await this.publishEvent({ kind: 'leave' })
    } catch (err) {
      this.c.log.warn('could not announce leave', { error: (err as Error).message })
    }
    await this.running.catch(() => undefined)
    // Migrations in flight finish within the grace period, or the driver
    // aborts them (the VM stays on its source); either way they are reported.
    const grace = new Promise(resolve => setTimeout(resolve, STOP_GRACE_MS).unref())
    await Promise.race([this.executing, grace])
    await this.c.hypervisor.stop()
    await this.executing.catch(() => undefined)
    await this.reservations.stop()
    for (const u of this.unsubscribe) u()
    this.stateWaits.close()
    await this.controls.stop()
    await this.c.collector.stop()
    await this.c.node.stop()
    this.c.log.info('agent stopped', { host: this.host })
  }

  /**
   * Stops without a word to the others: what a crash looks like to the
   * cluster (the simulator and tests use it; a real crash is kill -9).
   */
  async halt (): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    this.executor.stop()
    for (const u of this.unsubscribe) u()
    this.stateWaits.close()
    await this.controls.stop()
    await this.c.node.stop()
    await this.running.catch(() => undefined)
    await this.c.hypervisor.stop()
  }

  private migrateProtocol (): string {
    return this.c.node.protocol('migrate', '1.0.0')
  }

  // --- the round loop -------------------------------------------------------

  private tick (): void {
    if (this.busy) return
    this.busy = true
    const work = this.step().catch(err => this.c.log.error('round step failed', { error: (err as Error).stack ?? String(err) }))
      .finally(() => { this.busy = false })
    this.running = work
  }

  private async step (): Promise<void> {
    const now = this.now()
    const round = roundAt(now, this.timing)
    if (round !== this.currentRound) {
      if (this.firstRound < 0) this.firstRound = round
      this.currentRound = round
      this.record(round)
      this.controls.roundStarted(round)
    }
    if (this.statePublished !== round && now >= roundStartMs(round, this.timing) + publishOffsetMs(this.host, round, this.timing)) {
      this.statePublished = round
      // In our first rounds every state goes out and says hello (the first
      // may have reached nobody yet). Later, an unchanged one goes out only
      // in this host's refresh round, each host in its own of every
      // STATE_REFRESH_ROUNDS, so the refreshes do not all come at once.
      const refresh = round % STATE_REFRESH_ROUNDS === spreadOffsetMs(`${this.host}/refresh`, STATE_REFRESH_ROUNDS)
      const stateSent = await this.publishState(this.greeting() ? { hello: true } : { onlyIfChanged: !refresh })
      let digest = false
      try {
        digest = await this.publishDigest()
      } catch (err) {
        this.c.log.warn('no traffic digest this round: the collector failed', { round, error: (err as Error).message })
      }
      // Without a digest nothing else says we are alive this round: the state does.
      if (!digest && !stateSent) await this.publishState()
    }
    if (this.stateDueAtMs !== undefined && now >= this.stateDueAtMs && now >= this.extraStateAtMs + this.timing.takeoverMs) {
      // One answer serves every hello before it; a cluster starting at once
      // says hello many times, and its answers stay within the flood bound.
      this.stateDueAtMs = undefined
      this.extraStateAtMs = now
      await this.publishState()
    }
    const rec = this.record(round)
    const accepted = this.election.accepted(round)
    if (accepted === undefined && now >= planDeadlineMs(round, 0, this.timing)) {
      const ranking = this.election.ranking(round, this.liveMembers(now), now)
      rec.ranking = ranking
      const rank = ranking.indexOf(this.host)
      if (rank >= 0 && rank < maxRanks(this.timing) && now >= planDeadlineMs(round, rank, this.timing) && rec.planned === undefined && !this.leaving && this.controls.plans) {
        if (round <= this.firstRound) {
          // Just (re)started: our view lacks members whose states came before
          // we joined, so our ranking may differ from everyone else's.
          this.noteOnce(rec, 'warming up: no planning in the first round')
        } else if (!this.hasQuorum(now)) {
          this.noteOnce(rec, 'no quorum: this side of a partition does not plan')
        } else if (rank > 0 && rec.notes?.includes(CLAIMED_BELOW) !== true && await this.claimedBelow(round, rank)) {
          // A lower rank planned (its gossip just did not reach us): no takeover.
          this.noteOnce(rec, CLAIMED_BELOW)
        } else if (this.election.accepted(round) === undefined && rec.notes?.includes(CLAIMED_BELOW) !== true) {
          await this.makePlan(round, rank)
        }
      }
    }
    // The DHT cross-check of the ranking waits until the plan is out and
    // spread (at a per-host offset after two takeover slots): fifty agents
    // asking the DHT at the plan's moment doubled the time the plan took to
    // reach them all.
    if (rec.dhtRanking === undefined && rec.ranking.length > 0 && now >= planDeadlineMs(round, CROSS_CHECK_AFTER_RANKS, this.timing) + publishOffsetMs(this.host, round, this.timing)) void this.crossCheck(round)
    // The previous round's plan too: one accepted late in its round becomes
    // final only after the round turned, and must still run (every agent
    // that accepted it runs its share; none may skip it silently).
    for (const r of [round - 1, round]) {
      const plan = this.election.accepted(r)
      if (plan !== undefined && !plan.executing && now >= this.election.executeAtMs(plan)) {
        // A plan runs once a majority of the members acknowledged it (see
        // election.ts); wait for the acknowledgements until the round ends.
        const members = this.view.members().length
        if (this.election.acked(r, plan.planner) * 2 <= members) {
          if (now < planDeadlineMs(r + 1, 0, this.timing)) continue
          plan.executing = true
          this.noteOnce(this.record(r), `only ${this.election.acked(r, plan.planner)} of ${members} members acknowledged ${plan.planner}'s plan: not carried out`)
          continue
        }
        plan.executing = true
        this.record(r).acted = true
        // The mode decides: carry it out, hold it for approval, or only log it.
        if (this.controls.planFinal(plan)) this.execute(r, plan.plan.moves, Math.max(planDeadlineMs(r + 1, 0, this.timing), planDeadlineMs(round + 1, 0, this.timing)))
      }
    }
  }

  /** Carries out this host's moves of a round's plan, beside the loop so the next round's gossip is not held up. */
  private execute (round: number, moves: PlannedMove[], untilMs: number): void {
    const rec = this.record(round)
    const run = this.executor.run(round, moves, untilMs).then(outcomes => {
      rec.outcomes.push(...outcomes.map(o => ({ vm: o.move.vm, from: o.move.from, to: o.move.to, ok: o.result.ok, ...(o.result.error !== undefined ? { error: o.result.error } : {}) })))
    })
    this.executing = Promise.all([this.executing, run])
  }

  private record (round: number): RoundRecord {
    let r = this.rounds.get(round)
    if (r === undefined) {
      r = { round, ranking: [], outcomes: [] }
      this.rounds.set(round, r)
      for (const old of this.rounds.keys()) if (old < round - 64) this.rounds.delete(old)
    }
    return r
  }

  private liveMembers (now: number): Array<{ host: string, peerId: string }> {
    return this.view.live(now).map(m => ({ host: m.host, peerId: m.peerId }))
  }

  /**
   * A strict majority of the members (ourselves included) has been heard
   * within the last QUORUM_ROUNDS rounds: a side of a partition without it
   * does not plan (its plan could never gather a majority of votes anyway).
   */
  private hasQuorum (now: number): boolean {
    const members = this.view.members()
    const heard = members.filter(m => m.host === this.host || now - m.lastSeenMs <= this.timing.periodMs * QUORUM_ROUNDS).length
    return heard > members.length / 2
  }

  /** True when the DHT holds a claim to `round` by a rank below `rank` (asked briefly). */
  private async claimedBelow (round: number, rank: number): Promise<boolean> {
    const key = claimKey(this.config.cluster, round)
    try {
      for await (const e of this.c.node.libp2p.services.dht.get(key, { signal: AbortSignal.timeout(Math.max(200, this.timing.takeoverMs / 2)) })) {
        if (e.name !== 'VALUE') continue
        try { if ((await validateClaim(key, e.value)).rank < rank) return true } catch { /* an invalid record proves nothing */ }
      }
    } catch { /* nothing found in time */ }
    return false
  }

  private noteOnce (rec: RoundRecord, note: string): void {
    if (rec.notes?.includes(note) === true) return
    rec.notes = [...(rec.notes ?? []), note]
    this.c.log.info(note, { round: rec.round })
  }

  private async makePlan (round: number, rank: number): Promise<void> {
    const rec = this.record(round)
    const now = this.now()
    const snapshot = parseSnapshot(this.view.snapshot(this.topology, now))
    const planStart = performance.now()
    // The chosen planner under the operator's limits, or a drained host's evacuation.
    const { plan, verdict } = this.controls.plan(snapshot, round)
    rec.planned = plan
    rec.verdict = verdict
    rec.planMs = performance.now() - planStart
    this.counters.plansMade++
    const inputs: Record<string, number> = {}
    for (const m of this.view.members()) if (m.seq.host >= 0) inputs[m.host] = m.seq.host
    const env = this.envelope('plan', round, {
      rank,
      planner: this.host,
      inputs,
      initialCost: plan.initialCost,
      finalCost: plan.finalCost,
      moves: plan.moves.map(m => ({ vm: m.vm, from: m.from, to: m.to, cost: m.cost }))
    })
    this.c.log.info('planned', { round, rank, planner: plan.planner, verdict, costBefore: plan.initialCost, costAfter: plan.finalCost, moves: plan.moves.map(m => `${m.vm}:${m.from}->${m.to}`) })
    if (rank > 0) await this.publishEvent({ kind: 'takeover', detail: `rank ${rank} planned round ${round}` })
    this.acceptPlan(env, now)
    await this.send(env)
    void this.storeClaim(env).catch(err => this.c.log.warn('could not store the planner claim', { round, error: (err as Error).message }))
  }

  /** Stores our signed claim to round `env.round` in the DHT. */
  private async storeClaim (env: Envelope<'plan'>): Promise<void> {
    if (this.c.privateKey === undefined) return
    const value = await signClaim(this.c.privateKey, { cluster: this.config.cluster, round: env.round, host: this.host, peerId: this.peerId, rank: env.body.rank, plan: planDigest(encodeEnvelope(env)) })
    for await (const _ of this.c.node.libp2p.services.dht.put(claimKey(this.config.cluster, env.round), value, { signal: AbortSignal.timeout(this.timing.periodMs) })) { /* drain the query */ }
  }

  /** Who planned `round`, as the DHT's signed claim says (undefined if none is found). */
  async whoPlanned (round: number): Promise<Claim | undefined> {
    const key = claimKey(this.config.cluster, round)
    try {
      for await (const e of this.c.node.libp2p.services.dht.get(key, { signal: AbortSignal.timeout(this.timing.periodMs) })) {
        if (e.name === 'VALUE') return await validateClaim(key, e.value)
      }
    } catch { /* not found, or no peer answered in time */ }
    return undefined
  }

  /** Asks the DHT for the round key's closest peers: the cross-check of our own ranking. */
  private async crossCheck (round: number): Promise<void> {
    const rec = this.record(round)
    if (rec.dhtRanking !== undefined) return
    rec.dhtRanking = []
    try {
      const peers = await closestPeers(this.c.node, this.election.roundKey(round), { timeoutMs: this.timing.takeoverMs * 4 })
      rec.dhtRanking = peers.map(p => this.view.hostOfPeer(p)).filter((h): h is string => h !== undefined)
    } catch (err) {
      this.c.log.debug('DHT cross-check failed', { round, error: (err as Error).message })
    }
  }

  private acceptPlan (env: Envelope<'plan'>, now: number): AcceptedPlan {
    const first = this.election.accepted(env.round) === undefined
    const a = this.election.accept(env, now)
    // Vote for the first plan we accept this round, and only for it: a plan
    // runs only once a majority voted for it (see election.ts).
    if (first) this.voteFor(env)
    return this.noteAccepted(env, a)
  }

  private voteFor (env: Envelope<'plan'>): void {
    this.election.ack(env.round, env.host, this.host)
    void this.publishEvent({ kind: 'plan-ack', round: env.round, planner: env.host }).catch(err => this.c.log.warn('could not acknowledge the plan', { round: env.round, error: (err as Error).message }))
  }

  private noteAccepted (env: Envelope<'plan'>, a: AcceptedPlan): AcceptedPlan {
    const now = a.acceptedAtMs
    const rec = this.record(env.round)
    rec.planner = env.host
    rec.rank = env.body.rank
    rec.plan = { initialCost: env.body.initialCost, finalCost: env.body.finalCost, moves: env.body.moves }
    this.emit({ type: 'plan-accepted', round: env.round, planner: env.host, rank: env.body.rank, atMs: now })
    if (env.host !== this.host) this.c.log.info('plan accepted', { round: env.round, planner: env.host, rank: env.body.rank, moves: env.body.moves.length, costBefore: env.body.initialCost, costAfter: env.body.finalCost })
    return a
  }

  // --- gossip in ------------------------------------------------------------

  private decode (topic: Topic, msg: GossipMessage): Envelope | WireError {
    try {
      return decodeEnvelope(msg.data, topic)
    } catch (err) {
      if (err instanceof WireError) return err
      throw err
    }
  }

  private validate (topic: Topic, msg: GossipMessage): Verdict | Promise<Verdict> {
    // A member flooding a topic is cut off before any decoding work.
    if (!this.floodGuard.take(`${msg.from}/${topic}`, this.now())) {
      this.view.countDrop('rate-limited'); this.emit({ type: 'drop', topic, reason: 'rate-limited', peer: msg.from, atMs: this.now() }); return 'reject'
    }
    const env = this.decode(topic, msg)
    if (env instanceof WireError) { this.view.countDrop(env.reason); this.emit({ type: 'drop', topic, reason: env.reason, peer: msg.from, atMs: this.now() }); return 'reject' }
    const verdict = this.view.check(env, msg.from)
    if (!verdict.ok && verdict.reason === 'foreign-vm') return this.afterState(topic, env, msg)
    if (!verdict.ok) { this.emit({ type: 'drop', topic, reason: verdict.reason, peer: msg.from, atMs: this.now() }); return this.dropped(verdict) }
    if (env.topic === 'plan') {
      const now = this.now()
      const ranking = this.election.ranking(env.round, this.liveMembers(now), now)
      const v = this.election.check(env as Envelope<'plan'>, ranking, now)
      if (!v.ok) {
        if (v.reason !== 'superseded') { this.view.countDrop(v.reason); this.emit({ type: 'drop', topic, reason: v.reason, peer: msg.from, atMs: now }) }
        return v.reject ? 'reject' : 'ignore'
      }
    }
    return 'accept'
  }

  /** A digest naming a VM its author's state does not list (yet): checked again once the author's next state is here (see state-waits.ts). */
  private async afterState (topic: Topic, env: Envelope, msg: GossipMessage): Promise<Verdict> {
    await this.stateWaits.wait(env.host, DIGEST_HOLD_MS)
    const verdict = this.view.check(env, msg.from)
    if (!verdict.ok) this.emit({ type: 'drop', topic, reason: verdict.reason, peer: msg.from, atMs: this.now() })
    return this.dropped(verdict)
  }

  private dropped (v: ViewVerdict): Verdict {
    if (v.ok) return 'accept'
    this.view.countDrop(v.reason)
    return v.reject ? 'reject' : 'ignore'
  }

  private deliver (topic: Topic, msg: GossipMessage): void {
    const env = this.decode(topic, msg)
    if (env instanceof WireError) return
    const now = this.now()
    // Validation ran moments ago; apply re-checks sequence numbers so a
    // message that raced another from the same host is still applied once.
    if (!this.view.accept(env, msg.from, now).ok) return
    this.counters.messagesIn[topic]++
    this.emit({ type: 'gossip', topic, env, from: env.host, atMs: now })
    if (env.topic === 'host') this.stateWaits.arrived(env.host)
    if (env.topic === 'host' && (env.body as HostState).hello === true) {
      // A newcomer (or a restarted host) knows no states yet: answer with
      // ours, at an offset of our own so the answers do not all come at once.
      // One answer serves every hello that came before it; answers never say
      // hello themselves, so two newcomers do not answer each other forever.
      this.stateDueAtMs ??= now + spreadOffsetMs(`${this.host}/hello/${env.host}`, this.timing.takeoverMs)
    }
    if (env.topic === 'event') {
      const ev = (env as Envelope<'event'>).body
      if (ev.kind === 'plan-ack' && ev.round !== undefined && ev.planner !== undefined) this.election.ack(ev.round, ev.planner, env.host)
      this.controls.onEvent(env as Envelope<'event'>)
    }
    if (env.topic === 'plan') {
      const ranking = this.election.ranking(env.round, this.liveMembers(now), now)
      if (this.election.check(env as Envelope<'plan'>, ranking, now).ok) this.acceptPlan(env as Envelope<'plan'>, now)
    }
  }

  // --- gossip out -----------------------------------------------------------

  private envelope<T extends Topic> (topic: T, round: number, body: Bodies[T]): Envelope<T> {
    // Sequence numbers come from the clock so they keep rising across restarts.
    const seq = Math.max(this.seqs[topic] + 1, this.now() * 1000)
    this.seqs[topic] = seq
    return { v: 1, topic, host: this.host, round, seq, body }
  }

  private async send (env: Envelope): Promise<void> {
    // Our own messages are not delivered back to us: apply them directly.
    this.view.accept(env, this.peerId, this.now())
    const bytes = encodeEnvelope(env)
    await publish(this.c.node, this.c.node.topic(env.topic), bytes)
    this.counters.published++
    this.emit({ type: 'published', topic: env.topic, env, bytes: bytes.length, atMs: this.now() })
  }

  /**
   * Sends this host's state as the hypervisor reports it; with
   * `onlyIfChanged`, not when it is the state that went out last; with
   * `hello`, asking every member for its state. True when it went out.
   */
  async publishState (opts: StateOptions = {}): Promise<boolean> {
    // One at a time: the round's publish and a migration's could both read
    // the hypervisor, and the one that read first could go out last, an
    // older state with a newer sequence number that no later round would
    // correct while nothing changes.
    const next = this.stateQueue.then(async () => await this.sendState(opts))
    this.stateQueue = next.catch(() => undefined)
    return await next
  }

  private async sendState (opts: StateOptions): Promise<boolean> {
    // A VM arriving here is still its source's until the migration is done;
    // a stopped one stays ours but is not to be moved while it is down.
    const vms = (await this.c.hypervisor.list()).filter(v => v.status !== 'incoming')
    const state: HostState = {
      dc: this.config.dc,
      memoryMiB: this.config.capacity.memoryMiB,
      vcpus: this.config.capacity.vcpus,
      address: this.config.address,
      topology: this.topologyHash,
      leaving: this.leaving || this.controls.draining,
      ...(this.controls.draining ? { draining: true } : {}),
      vms: vms.map(v => ({
        id: v.id,
        addresses: v.addresses,
        memoryMiB: v.memoryMiB,
        vcpus: v.vcpus,
        pinned: this.controls.isPinned(v.id) || v.status === 'stopped',
        migrating: v.status === 'migrating' || this.migrating.has(v.id)
      }))
    }
    const text = JSON.stringify(state)
    const send = opts.onlyIfChanged !== true || text !== this.lastState
    if (send) {
      await this.send(this.envelope('host', Math.max(0, this.currentRound), opts.hello === true ? { ...state, hello: true } : state))
      this.lastState = text
    }
    const addresses = state.vms.flatMap(v => v.addresses).sort()
    if (this.c.collector.setLocalAddresses !== undefined && addresses.join() !== this.countedAddresses) {
      this.countedAddresses = addresses.join()
      await this.c.collector.setLocalAddresses(addresses)
    }
    return send
  }

  /** True in this agent's first rounds, whose states say hello. */
  private greeting (): boolean {
    return this.firstRound < 0 || this.currentRound < this.firstRound + HELLO_ROUNDS
  }

  /** True when a digest went out (none does for the collector's first, empty window). */
  private async publishDigest (): Promise<boolean> {
    const now = this.now()
    const sample = await this.c.collector.read(now)
    if (sample.uncountedBytes > 0) {
      // Not an error (the set is bounded on purpose), but the digest is short by this much: say so.
      this.counters.uncountedBytes += sample.uncountedBytes
      this.c.log.warn('traffic not counted by pair this window (collector set full)', { bytes: sample.uncountedBytes, totalBytes: this.counters.uncountedBytes })
    }
    const mine = this.view.member(this.host)?.state?.vms.map(v => v.id) ?? []
    const all = this.view.members().flatMap(m => m.state?.vms ?? [])
    const book = new AddressBook(all, this.topology.prefixes, mine)
    this.window.update(sample.deltas, sample.windowMs, book, mine)
    if (sample.windowMs <= 0) return false
    await this.send(this.envelope('traffic', this.currentRound, this.window.digest()))
    return true
  }

  private async publishEvent (body: Bodies['event']): Promise<void> {
    const env = this.envelope('event', Math.max(0, this.currentRound), body)
    // Our own events take effect here first, even when no peer hears them.
    this.controls.onEvent(env)
    await this.send(env)
  }

  private async onFinished (move: PlannedMove, result: MigrationResult): Promise<void> {
    this.migrating.delete(move.vm)
    if (result.ok) this.counters.migrationsOk++; else this.counters.migrationsFailed++
    this.emit({ type: 'migration', vm: move.vm, from: move.from, to: move.to, phase: result.ok ? 'done' : 'failed', ...(result.error !== undefined ? { detail: result.error } : {}), atMs: this.now() })
    await this.publishEvent({
      kind: result.ok ? 'migration-done' : 'migration-failed',
      vm: move.vm,
      from: move.from,
      to: move.to,
      totalMs: result.totalMs,
      ...(result.downtimeMs !== undefined ? { downtimeMs: result.downtimeMs } : {}),
      ...(result.bytes !== undefined ? { bytes: result.bytes } : {}),
      ...(result.error !== undefined ? { detail: result.error } : {})
    })
    await this.publishState()
  }

  // --- the migrate protocol -------------------------------------------------

  private async ask (host: string, req: MigrateRequest): Promise<MigrateResponse> {
    const peer = this.view.member(host)?.peerId
    if (peer === undefined) return { ok: false, reason: 'not-member', detail: `unknown host ${host}` }
    const answer = readMigrateResponse(await request(this.c.node, peer, this.migrateProtocol(), req))
    // The executor counts a throw as a failed attempt; a malformed answer must not reach the driver.
    if (typeof answer === 'string') throw new Error(`malformed answer from ${host}: ${answer}`)
    return answer
  }

  private async onMigrateRequest (body: unknown, peer: string): Promise<MigrateResponse> {
    const r = await this.answerMigrate(body, peer)
    if (!r.ok) this.counters.migrateRefused[r.reason]++
    // A planner sent a VM here that does not fit: its view of us is out of
    // date (a state of ours was lost on its way), and with states sent only
    // on change nothing else would correct it soon.
    if (!r.ok && r.reason === 'no-room') this.stateDueAtMs ??= this.now()
    return r
  }

  private async answerMigrate (body: unknown, peer: string): Promise<MigrateResponse> {
    // Observers may connect (the allowlist admits them) but never reserve room.
    const from = this.view.hostOfPeer(peer)
    if (from === undefined) return { ok: false, reason: 'not-member', detail: 'not a member of this cluster' }
    const req = readMigrateRequest(body)
    if (typeof req === 'string') return { ok: false, reason: 'bad-request', detail: req }
    if (req.op === 'reserve') return this.reservations.reserve(from, req.round, req.vm)
    if (req.op === 'commit') {
      const r = this.reservations.commit(from, req.vmId)
      await this.publishState()
      return r
    }
    return this.reservations.cancel(from, req.vmId)
  }
}
