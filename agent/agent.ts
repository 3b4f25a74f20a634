/**
 * One heliotrope agent: the daemon on a hypervisor host, a composition of
 * two layers (docs/design.md §1):
 *
 *   cluster layer  membership, how states and digests travel, liveness
 *                  and quorum (cluster/)
 *   agent layer    the round loop (round-loop.ts), planning and DHT claims
 *                  (planning.ts), plan acceptance and votes (acceptance.ts),
 *                  this host's migrations (migrations.ts), the migrate
 *                  protocol server (migrate-server.ts)
 *
 * Everything decided here is decided by lib/ functions; the parts do the
 * I/O and keep the clocks. Each part is a libp2p Startable; start and stop
 * go layer by layer (see below).
 */
import { start, stop, type PrivateKey, type Startable } from '@libp2p/interface'
import { defaultTiming, type RoundTiming } from '../lib/rounds.ts'
import { parseSnapshot } from '../lib/snapshot.ts'
import type { Topology } from '../lib/topology.ts'
import type { ReplicatedView } from '../lib/view.ts'
import type { Bodies, Envelope, Topic } from '../lib/wire/messages.ts'
import { PlanAcceptance } from './acceptance.ts'
import { Ballot } from './ballot.ts'
import type { Claim } from './claims.ts'
import { Cluster, type StateOptions } from './cluster/index.ts'
import type { AgentConfig } from './config.ts'
import { applyLive, classifyReload, reloadResult, type FieldChange, type ReloadResult, type RestartChange } from './config-reload.ts'
import type { SignedMembership } from './membership/membership.ts'
import type { TopologySwitch } from './cluster/topology-switch.ts'
import type { Revocation, Signed } from '../lib/membership.ts'
import { Controls } from './policy/controls.ts'
import { newCounters } from './counters.ts'
import type { HypervisorDriver, TrafficCollector } from './drivers/types.ts'
import { EventStream, type AgentListener } from './events.ts'
import type { LevelCell, Logger } from './log.ts'
import { MigrateServer } from './migrate-server.ts'
import { Migrations } from './migrations.ts'
import type { ClusterNode } from './net/index.ts'
import { keyFingerprint, pskKeys } from './net/keys.ts'
import { Planning } from './planning.ts'
import { RoundLoop } from './round-loop.ts'
import { RoundRecords, type RoundRecord } from './round-records.ts'
import { VoteBook } from './vote-book.ts'
import { definedOnly } from '../lib/defined.ts'

export { DIGEST_HOLD_MS, HELLO_ROUNDS, MESSAGES_PER_ROUND, QUORUM_ROUNDS, STATE_REFRESH_ROUNDS, type StateOptions } from './cluster/index.ts'
export type { AgentEvent, AgentListener } from './events.ts'
export { RESERVATION_MARGIN_MS } from './migrate-server.ts'
export { STOP_GRACE_MS } from './migrations.ts'
export type { RoundRecord } from './round-records.ts'
export { TICK_MS } from './round-loop.ts'

export interface AgentComponents {
  node: ClusterNode
  hypervisor: HypervisorDriver
  collector: TrafficCollector
  log: Logger
  /** Wall clock in ms; tests pass a skewed one. */
  clock?: () => number
  /** Signs this agent's planner claims in the DHT; without it no claim is stored. */
  privateKey?: PrivateKey
  /** The level `log` reads, for a reload to set (the CLI passes its logger's); without it logLevel needs a restart. */
  logLevel?: LevelCell
  /** Signed membership (config adminKey): made before the node, whose gater asks it (agent/membership/). */
  membership?: SignedMembership
}

/** What a config reload did (Agent.reload, Agent.refuseReload). */
export interface ReloadReport {
  result: ReloadResult
  /** Changes in effect now. */
  applied: FieldChange[]
  /** Changes not applied: they wait for a restart. */
  restartNeeded: RestartChange[]
  /** Why a refused config was refused. */
  reason?: string
  /**
   * What the reload did with its topology file when its bytes are not the
   * running ones, or when a staged one was withdrawn (docs/design.md §3.8):
   * the switch comes when every live member has staged the same topology.
   */
  topology?: { result: 'staged' | 'already-staged' | 'withdrawn', running: string, staged?: string }
}

export interface AgentInit {
  config: AgentConfig
  topology: Topology
  topologyHash: string
}

export class Agent {
  readonly view: ReplicatedView
  /** Each round's planner election as this agent keeps it: rankings, the accepted plan, votes. */
  readonly election: Ballot
  readonly timing: RoundTiming
  readonly rounds: Map<number, RoundRecord>
  readonly counters = newCounters()
  /** The operator's controls: mode, approvals, pins, drain, migration limits (agent/policy/). */
  readonly controls: Controls
  /** Signed membership, when the config has an adminKey: /status shows its admin keys. */
  get membership (): SignedMembership | undefined { return this.c.membership }
  private readonly c: AgentComponents
  /** The config in effect: the one started with, and the live changes of each reload since. */
  private current: AgentConfig
  private readonly events = new EventStream()
  private readonly records: RoundRecords
  private readonly cluster: Cluster
  private readonly acceptance: PlanAcceptance
  /** This host's own votes, on disk before they go out (vote-book.ts). */
  private readonly votes: VoteBook
  private readonly planning: Planning
  private readonly migrations: Migrations
  private readonly server: MigrateServer
  private readonly loop: RoundLoop
  /** The goodbye, said as the agent layer stops: the others stop counting us as a candidate at once. */
  private readonly farewell: Startable = {
    start: () => {},
    stop: () => {},
    beforeStop: async () => {
      try {
        await this.cluster.leave()
        await this.publishEvent({ kind: 'leave' })
      } catch (err) {
        this.c.log.warn('could not announce leave', { error: (err as Error).message })
      }
    }
  }

  constructor (components: AgentComponents, init: AgentInit) {
    const { config } = init
    const { node, hypervisor, collector, log } = components
    const now = components.clock ?? Date.now
    const emit = this.events.emit.bind(this.events)
    const publishEvent = async (body: Bodies['event']): Promise<void> => await this.publishEvent(body)
    this.c = components
    this.current = config
    this.timing = defaultTiming(config.roundPeriodMs)
    const timing = this.timing
    this.records = new RoundRecords(log)
    this.rounds = this.records.byRound
    this.election = new Ballot({ cluster: config.cluster, timing })
    // The cluster layer calls up for plans and events, and for what only the
    // agent layer knows of this host's VMs; those parts exist by the time
    // anything arrives (start).
    this.cluster = new Cluster({
      node,
      hypervisor,
      collector,
      log,
      now,
      emit,
      counters: this.counters,
      upstream: {
        checkPlan: (env, at, relayed) => this.acceptance.check(env, at, relayed),
        checkEvent: (env) => this.controls.checkEvent(env),
        deliver: (env, at, relayed) => { this.fromGossip(env, at, relayed) }
      },
      local: {
        draining: () => this.controls.draining,
        pinned: (vmId) => this.controls.isPinned(vmId),
        migrating: (vmId) => this.migrations.isMigrating(vmId),
        settingsVersion: () => this.controls.settings.version
      },
      ...(components.privateKey !== undefined ? { privateKey: components.privateKey } : {}),
      ...definedOnly({ membership: components.membership }),
      // The staged file runs now: the config in effect names it.
      topologySwitched: (f) => { this.current = { ...this.current, topologyFile: f.file } }
    }, { config, topology: init.topology, topologyHash: init.topologyHash, timing })
    this.view = this.cluster.view
    this.controls = new Controls({
      host: config.host,
      config,
      view: this.view,
      timing,
      log,
      now,
      publishEvent,
      publishState: async () => this.publishState(),
      // An approved plan (mode approve): acted on now, rounds after it was final.
      execute: (round, moves, untilMs) => { this.records.record(round).acted = true; this.migrations.execute(round, moves, untilMs) },
      snapshot: () => parseSnapshot(this.view.snapshot(this.cluster.topology.topology, now())),
      ...(components.membership !== undefined
        ? {
            revoke: async (r: Signed<Revocation>) => await components.membership!.revoke(r),
            adminKey: async (rotate: Uint8Array | undefined) => await components.membership!.adminKey(rotate),
            verifyAdmin: (bytes: Uint8Array, sig: Uint8Array) => components.membership!.records.signedByAdmin(bytes, sig)
          }
        : {})
    })
    const parts = { node, cluster: this.cluster, ballot: this.election, controls: this.controls, records: this.records, counters: this.counters, log, now, emit, publishEvent }
    this.migrations = new Migrations({ ...parts, hypervisor }, { host: config.host, deadlineMs: config.migrationDeadlineMs })
    this.votes = new VoteBook(config.stateDir)
    this.acceptance = new PlanAcceptance({ ...parts, votes: this.votes, voteDelayMs: round => this.cluster.voteDelayMs(round), execute: (round, moves, untilMs) => { this.migrations.execute(round, moves, untilMs) } }, { host: config.host, timing })
    this.planning = new Planning({ ...parts, acceptance: this.acceptance, ...definedOnly({ privateKey: components.privateKey }) }, { host: config.host, cluster: config.cluster, topology: this.cluster.topology, timing })
    this.server = new MigrateServer({ ...parts, hypervisor }, { config })
    this.loop = new RoundLoop({ ...parts, planning: this.planning, acceptance: this.acceptance }, { timing })
  }

  /** The config in effect (after reloads: with their live changes; a field needing a restart keeps its start value). */
  get config (): AgentConfig {
    return this.current
  }

  /**
   * Takes a new, valid config while running (SIGHUP): applies what can
   * change at run time, leaves the rest as it is and says it needs a
   * restart (agent/config-reload.ts); a topology file with new bytes is
   * staged (docs/design.md §3.8). `files` are what the files `next` names
   * hold: the topology file parsed with the sha256 of its bytes, and the
   * key file (parsePsk's canonical bytes).
   */
  reload (next: AgentConfig, files: { topology: Topology, topologyHash: string, psk: Uint8Array }): ReloadReport {
    const log = this.c.log.child('config')
    const nextKeys = pskKeys(files.psk)
    const keys = { running: this.c.node.keyring.keys.map(keyFingerprint), next: nextKeys.map(keyFingerprint) }
    const running = this.cluster.topology.hash
    // With the tiered dissemination a reporter holds no other member's state: it cannot tell when all staged (config-reload.ts).
    const topologyStaging = this.cluster.holdsEveryState
    const c = classifyReload(this.current, next, { topologyHash: { running, next: files.topologyHash }, keys, logLevelLive: this.c.logLevel !== undefined, topologyStaging })
    this.current = applyLive(this.current, next, c)
    const staging = topologyStaging ? this.cluster.stageTopology({ topology: files.topology, hash: files.topologyHash, file: next.topologyFile }) : 'running'
    const topology = staging === 'running' ? undefined : { result: staging, running, ...(staging === 'withdrawn' ? {} : { staged: files.topologyHash }) }
    if (c.live.some(f => f.field === 'pskFile')) this.c.node.keyring.set(nextKeys)
    this.controls.setLimits(this.current.planner, this.current.safety)
    const result = reloadResult(c)
    this.counters.configReloads[result]++
    for (const r of c.restart) log.warn('config reload: this change needs a restart; the running value is kept', { field: r.field, running: r.from, file: r.to, why: r.why })
    // Said before a new log level applies, so a quieter level still confirms the reload.
    log.info('config reloaded', { result, applied: c.live.map(f => f.field), restartNeeded: c.restart.map(f => f.field), ...(topology !== undefined ? { topology: topology.result } : {}) })
    if (this.c.logLevel !== undefined && c.live.some(f => f.field === 'logLevel')) this.c.logLevel.level = this.current.logLevel ?? 'info'
    return { result, applied: c.live, restartNeeded: c.restart, ...(topology !== undefined ? { topology } : {}) }
  }

  /** A reload whose config could not be read or is invalid: nothing changes; counted and said at error level. */
  refuseReload (reason: string): ReloadReport {
    this.counters.configReloads.refused++
    this.c.log.child('config').error('config reload refused; the running config is kept', { reason })
    return { result: 'refused', applied: [], restartNeeded: [], reason }
  }

  /** The topology this agent runs, and the one it staged (the API, status). */
  get topology (): TopologySwitch {
    return this.cluster.topology
  }

  get host (): string {
    return this.config.host
  }

  get peerId (): string {
    return this.c.node.peerId
  }

  /** The libp2p node: its keyring and connections (the API's mesh view, tests). */
  get node (): ClusterNode {
    return this.c.node
  }

  /** observe, dry-run, approve or auto: what this agent may do (the API reports it). */
  get mode (): string {
    return this.controls.mode
  }

  /** Subscribes to what the agent does; returns the unsubscribe function. */
  observe (listener: AgentListener): () => void {
    return this.events.observe(listener)
  }

  /** Per gossip topic, the peers grafted into this agent's mesh: whom it forwards to (none: its messages reach no one). */
  /** gossipsub's score of each gossip peer, by peer id. */
  peerScores (): Array<{ peerId: string, score: number }> {
    return this.cluster.peerScores()
  }

  meshPeers (): Record<Topic, string[]> {
    return this.cluster.meshPeers()
  }

  /** With the tiered dissemination: whom this host reports to in `round` (undefined when flooding). */
  aggregator (round: number): string | undefined {
    return this.cluster.aggregator(round)
  }

  /** VMs this host is migrating away right now. */
  inFlight (): string[] {
    return this.migrations.inFlight()
  }

  /** Our dialable addresses (with /p2p/<peer id>), for bootstrap lists. */
  addresses (): string[] {
    return this.c.node.addresses()
  }

  /** See HostStates.publish (cluster/states.ts). */
  async publishState (opts: StateOptions = {}): Promise<boolean> {
    return await this.cluster.publishState(opts)
  }

  /** Who planned `round`, as the DHT's signed claim says (undefined if none is found). */
  async whoPlanned (round: number): Promise<Claim | undefined> {
    return await this.planning.whoPlanned(round)
  }

  /**
   * Bottom up, each layer on running ones: the drivers, the operator's
   * controls and this host's votes (pins, drain and the votes of earlier
   * runs come from disk before we first say who we are); the cluster layer
   * (its sequence mark loaded from disk first) and the migrate server
   * (topics and protocol, then the seeds dialled, a hello said, stale
   * incoming VMs cancelled); then the round loop.
   */
  async start (): Promise<void> {
    const { hypervisor, collector, node, log } = this.c
    await start(hypervisor, collector, this.controls, this.votes)
    await start(this.cluster, this.server)
    await start(this.loop, this.migrations)
    log.info('agent started', { host: this.host, peerId: this.peerId, dc: this.config.dc, mode: this.mode, addresses: node.addresses() })
  }

  /**
   * Graceful leave, top down while the layers below still carry the
   * messages. The agent layer: no new step or migration, the leave
   * announced, the step in flight ended (beforeStop); migrations in flight
   * get STOP_GRACE_MS, then the hypervisor driver stops, aborting the rest
   * (Migrations.stop). Then what it stood on: reservations, topics,
   * controls and collector; the node last (Cluster.afterStop).
   */
  async stop (): Promise<void> {
    await stop(this.loop, this.migrations, this.farewell)
    await stop(this.server, this.cluster, this.controls, this.c.collector, this.votes)
    this.c.log.info('agent stopped', { host: this.host })
  }

  /**
   * Stops without a word to the others: what a crash looks like to the
   * cluster (the simulator and tests use it; a real crash is kill -9). It
   * ends what a dying process ends, in that order: the loop and new
   * migrations at once, the topics, controls and node (no goodbye, no
   * grace), then the hypervisor driver once the step in flight is over,
   * which aborts the migrations in flight; the halt returns once they have
   * ended, so nothing of this agent writes after it. What a crash leaves
   * stays, for the restart to find: reservations' incoming VMs (see
   * MigrateServer.afterStart) and the collector's state.
   */
  async halt (): Promise<void> {
    this.loop.pause()
    this.migrations.stopStarting()
    await stop(this.cluster, this.controls)
    await this.loop.settled()
    await this.c.hypervisor.stop()
    // The driver's stop aborted what was in flight; nothing of this agent may
    // write after the halt, into a state directory being removed or restarted.
    await this.migrations.settled()
    await this.votes.idle()
  }

  /** Our own events take effect here first, even when no peer hears them. */
  private async publishEvent (body: Bodies['event']): Promise<void> {
    const env = this.cluster.envelope('event', Math.max(0, this.cluster.round), body)
    this.controls.onEvent(env)
    await this.cluster.send(env)
  }

  /** A plan or event from the gossip, for the agent layer. */
  private fromGossip (env: Envelope<'plan'> | Envelope<'event'>, now: number, relayed: boolean): void {
    if (env.topic === 'event') {
      const ev = env as Envelope<'event'>
      this.acceptance.onEvent(ev)
      this.controls.onEvent(ev)
    } else {
      this.acceptance.onPlan(env as Envelope<'plan'>, now, relayed)
    }
  }
}
