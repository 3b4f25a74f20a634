/**
 * GET /metrics: the agent in Prometheus text. Most numbers are read from the
 * agent when scraped (its counters, the view's drops, the latest snapshot);
 * what the agent does not count itself (messages and bytes published per
 * topic, plans accepted by rank, migrations started, planning time) this
 * recorder counts from the agent's events while the API runs.
 *
 * Series carry no host label: Prometheus adds the target's own labels on
 * scrape, and heliotrope_info names the agent (join on it when needed).
 */
import { TOPICS, type Topic } from '../../lib/wire/messages.ts'
import { RELAY_KINDS } from '../../lib/wire/relay.ts'
import type { Topology } from '../../lib/topology.ts'
import type { Agent, AgentEvent } from '../agent.ts'
import { wanState } from './links.ts'
import { MODES } from '../policy/mode.ts'
import { Exposition } from './prometheus.ts'
import { RuntimeMetrics } from './runtime-metrics.ts'
import { buildStatus } from './status.ts'

/** Planning-time histogram bounds, seconds: the planners take ms at tens of VMs, seconds at thousands. */
export const PLANNING_SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30] as const

/** Migration time bounds, seconds: a small guest on a LAN takes about a second, a large one over a WAN link minutes. */
export const MIGRATION_SECONDS_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600] as const
/** Bytes a migration sent: 64 MiB to 64 GiB, by fours (memory plus what the guest dirtied meanwhile). */
export const MIGRATION_BYTES_BUCKETS = [2 ** 26, 2 ** 28, 2 ** 30, 2 ** 32, 2 ** 34, 2 ** 36] as const

/** A histogram's running state: cumulative bucket counts (each counts every value at or below its bound), sum and count. */
class Histogram {
  readonly bounds: readonly number[]
  readonly counts: number[]
  sum = 0
  count = 0
  constructor (bounds: readonly number[]) {
    this.bounds = bounds
    this.counts = bounds.map(() => 0)
  }
  observe (v: number): void {
    this.bounds.forEach((b, i) => { if (v <= b) this.counts[i]!++ })
    this.sum += v
    this.count++
  }
}

export class MetricsRecorder {
  private readonly agent: Agent
  private readonly published = Object.fromEntries(TOPICS.map(t => [t, { messages: 0, bytes: 0 }])) as Record<Topic, { messages: number, bytes: number }>
  private readonly acceptedByRank = new Map<number, number>()
  private migrationsStarted = 0
  /** Finished migrations of this host's VMs (it is their source), by outcome. */
  private readonly migrationSeconds = { done: new Histogram(MIGRATION_SECONDS_BUCKETS), failed: new Histogram(MIGRATION_SECONDS_BUCKETS) }
  private readonly migrationBytes = new Histogram(MIGRATION_BYTES_BUCKETS)
  private readonly planning = { buckets: PLANNING_SECONDS_BUCKETS.map(() => 0), sum: 0, count: 0 }
  private unsubscribe: (() => void) | undefined
  /** Streams to /events that fell behind: events they missed. */
  streamLagged = 0
  private readonly runtime = new RuntimeMetrics()

  constructor (agent: Agent) {
    this.agent = agent
  }

  start (): void {
    this.unsubscribe = this.agent.observe(e => this.record(e))
    this.runtime.start()
  }

  stop (): void {
    this.unsubscribe?.()
    this.unsubscribe = undefined
    this.runtime.stop()
  }

  private record (e: AgentEvent): void {
    if (e.type === 'published') {
      const p = this.published[e.topic]
      p.messages++
      p.bytes += e.bytes
      // makePlan records its planning time just before it publishes the plan.
      if (e.topic === 'plan') {
        const ms = this.agent.rounds.get(e.env.round)?.planMs
        if (ms !== undefined) this.observePlanning(ms / 1000)
      }
    } else if (e.type === 'plan-accepted') {
      this.acceptedByRank.set(e.rank, (this.acceptedByRank.get(e.rank) ?? 0) + 1)
    } else if (e.type === 'migration' && e.phase === 'started') {
      this.migrationsStarted++
    } else if (e.type === 'migration' && e.totalMs !== undefined) {
      this.migrationSeconds[e.phase === 'done' ? 'done' : 'failed'].observe(e.totalMs / 1000)
      if (e.phase === 'done' && e.bytes !== undefined) this.migrationBytes.observe(e.bytes)
    }
  }

  private observePlanning (seconds: number): void {
    PLANNING_SECONDS_BUCKETS.forEach((b, i) => { if (seconds <= b) this.planning.buckets[i]!++ })
    this.planning.sum += seconds
    this.planning.count++
  }

  render (topology: Topology, startedAtMs: number, nowMs: number, streams: number): string {
    const a = this.agent
    const x = new Exposition()
    const status = buildStatus(a, startedAtMs, nowMs)
    x.family('heliotrope_info', 'gauge', 'Always 1; labels say which agent this is.')
      .sample('heliotrope_info', 1, { host: a.host, dc: a.config.dc, cluster: a.config.cluster, peer_id: a.peerId, planner: a.config.planner.name })
    x.family('heliotrope_uptime_seconds', 'gauge', 'Seconds since the API (and so the agent) started.').sample('heliotrope_uptime_seconds', status.uptimeMs / 1000)
    x.family('heliotrope_round', 'gauge', 'The current round number.').sample('heliotrope_round', status.round)
    x.family('heliotrope_rounds_recorded', 'gauge', 'Rounds in the agent\'s recent history.').sample('heliotrope_rounds_recorded', a.rounds.size)
    x.family('heliotrope_plans_made_total', 'counter', 'Plans this agent computed as a round\'s planner.').sample('heliotrope_plans_made_total', a.counters.plansMade)
    x.family('heliotrope_plan_failures_total', 'counter', 'Rounds in which this agent\'s planner threw (a bug; the next rank took over).').sample('heliotrope_plan_failures_total', a.counters.planFailures)
    x.family('heliotrope_plans_accepted_total', 'counter', 'Plans accepted for a round, by the planner\'s rank (0 = first choice; above 0 = takeover).')
    for (const [rank, n] of [...this.acceptedByRank].sort((p, q) => p[0] - q[0])) x.sample('heliotrope_plans_accepted_total', n, { rank: String(rank) })
    x.family('heliotrope_planning_seconds', 'histogram', 'How long this agent\'s planner took per plan.')
    const cumulative = this.planning.buckets
    x.histogram('heliotrope_planning_seconds', PLANNING_SECONDS_BUCKETS, cumulative, this.planning.sum, this.planning.count)
    x.family('heliotrope_migration_seconds', 'histogram', 'How long this host\'s migrations (as their source) took, by outcome, as the driver measured them.')
    for (const outcome of ['done', 'failed'] as const) {
      const h = this.migrationSeconds[outcome]
      x.histogram('heliotrope_migration_seconds', MIGRATION_SECONDS_BUCKETS, h.counts, h.sum, h.count, { outcome })
    }
    x.family('heliotrope_migration_bytes', 'histogram', 'Bytes this host\'s migrations sent (done ones, where the driver reports them).')
    x.histogram('heliotrope_migration_bytes', MIGRATION_BYTES_BUCKETS, this.migrationBytes.counts, this.migrationBytes.sum, this.migrationBytes.count)
    // Per neighbour: bounded by the allowlist (members and observers), never by the cluster's traffic.
    const hostOf = (peerId: string): string => a.view.hostOfPeer(peerId) ?? ''
    x.family('heliotrope_peer_messages_received_total', 'counter', 'Gossip messages each neighbour passed on to this agent (accepted or dropped), by its peer id and host (empty for an observer).')
    for (const [peerId, n] of [...a.counters.messagesVia].sort((p, q) => p[0].localeCompare(q[0]))) x.sample('heliotrope_peer_messages_received_total', n, { peer_id: peerId, host: hostOf(peerId) })
    x.family('heliotrope_peer_score', 'gauge', 'gossipsub\'s score of each connected gossip peer (below 0 it is shunned, far below it is graylisted), by peer id and host.')
    for (const { peerId, score } of a.peerScores()) x.sample('heliotrope_peer_score', score, { peer_id: peerId, host: hostOf(peerId) })
    x.family('heliotrope_messages_received_total', 'counter', 'Gossip messages accepted, by topic.')
    for (const t of TOPICS) x.sample('heliotrope_messages_received_total', a.counters.messagesIn[t], { topic: t })
    x.family('heliotrope_messages_published_total', 'counter', 'Gossip messages published, by topic.')
    for (const t of TOPICS) x.sample('heliotrope_messages_published_total', this.published[t].messages, { topic: t })
    x.family('heliotrope_published_bytes_total', 'counter', 'Bytes of gossip published, by topic.')
    for (const t of TOPICS) x.sample('heliotrope_published_bytes_total', this.published[t].bytes, { topic: t })
    x.family('heliotrope_relay_requests_total', 'counter', 'Relay requests (tiered dissemination) sent and answered, by kind; each is two frames, the request and its answer.')
    for (const k of RELAY_KINDS) {
      x.sample('heliotrope_relay_requests_total', a.counters.relaySent[k], { kind: k, direction: 'sent' })
      x.sample('heliotrope_relay_requests_total', a.counters.relayServed[k], { kind: k, direction: 'served' })
    }
    x.family('heliotrope_relay_items_sent_total', 'counter', 'Signed items in the relay requests sent, by kind (a batch carries many).')
    for (const k of RELAY_KINDS) x.sample('heliotrope_relay_items_sent_total', a.counters.relayItemsSent[k], { kind: k })
    x.family('heliotrope_messages_dropped_total', 'counter', 'Gossip messages dropped, by reason.')
    for (const [reason, n] of Object.entries(a.view.drops)) x.sample('heliotrope_messages_dropped_total', n, { reason })
    x.family('heliotrope_collector_uncounted_bytes_total', 'counter', 'Bytes the traffic collector saw but could not count by VM pair (its set was full).')
    x.sample('heliotrope_collector_uncounted_bytes_total', a.counters.uncountedBytes)
    x.family('heliotrope_migrate_refused_total', 'counter', 'Migrate requests this host refused as a target, by reason.')
    for (const [reason, n] of Object.entries(a.counters.migrateRefused)) x.sample('heliotrope_migrate_refused_total', n, { reason })
    x.family('heliotrope_config_reloads_total', 'counter', 'Config reloads (SIGHUP) by result: applied, staged (a new topology staged), restart-needed (the live changes applied, the others wait for a restart), refused (the file was bad; the running config kept).')
    for (const [result, n] of Object.entries(a.counters.configReloads)) x.sample('heliotrope_config_reloads_total', n, { result })
    x.family('heliotrope_migrations_total', 'counter', 'Migrations of this host\'s VMs, by outcome (started counts attempts).')
    x.sample('heliotrope_migrations_total', this.migrationsStarted, { outcome: 'started' })
    x.sample('heliotrope_migrations_total', a.counters.migrationsOk, { outcome: 'done' })
    x.sample('heliotrope_migrations_total', a.counters.migrationsFailed, { outcome: 'failed' })
    x.family('heliotrope_migrations_in_flight', 'gauge', 'This host\'s VMs being migrated away now.').sample('heliotrope_migrations_in_flight', status.inFlight.length)
    x.family('heliotrope_members', 'gauge', 'Cluster members by state, as this agent sees them.')
    for (const state of ['live', 'down', 'leaving', 'draining'] as const) x.sample('heliotrope_members', status.members[state], { state })
    x.family('heliotrope_member_list_mismatch', 'gauge', 'Members whose latest state carries another member-list hash than ours: their votes do not count.')
    x.sample('heliotrope_member_list_mismatch', a.view.memberListMismatches().length)
    x.family('heliotrope_member_list_mismatch_total', 'counter', 'Member-list mismatches found, once per member and hash.')
    x.sample('heliotrope_member_list_mismatch_total', a.counters.memberListMismatches)
    x.family('heliotrope_aggregators_accused_total', 'counter', 'Times this host caught its aggregator hiding its digests (tiered audits) and reported to the next rank for the epoch.')
    x.sample('heliotrope_aggregators_accused_total', a.counters.aggregatorsAccused)
    x.family('heliotrope_rejoins_total', 'counter', 'Times this host found itself with no connection to any peer and dialed its bootstrap peers again.')
    x.sample('heliotrope_rejoins_total', a.counters.rejoins)
    x.family('heliotrope_cluster_key_refusals_total', 'counter', 'Connections closed because the remote spoke no cluster key this host holds (another cluster, or a host left behind by a key rotation).')
    x.sample('heliotrope_cluster_key_refusals_total', a.node.keyring.refused)
    x.family('heliotrope_cluster_keys', 'gauge', 'Cluster keys this host accepts: 2 or more while a rotation is under way.')
    x.sample('heliotrope_cluster_keys', a.node.keyring.keys.length)
    x.family('heliotrope_votes_uncounted_total', 'counter', 'Votes received from members whose member list differed from ours: not counted.')
    x.sample('heliotrope_votes_uncounted_total', a.counters.votesUncounted)
    x.family('heliotrope_mesh_peers', 'gauge', 'Peers in this agent\'s gossipsub mesh, by topic (the ones it forwards to).')
    for (const t of TOPICS) x.sample('heliotrope_mesh_peers', status.mesh?.[t].length ?? 0, { topic: t })
    x.family('heliotrope_events_stream_clients', 'gauge', 'Clients attached to /events.').sample('heliotrope_events_stream_clients', streams)
    x.family('heliotrope_events_stream_lagged_total', 'counter', 'Events not sent to a slow /events client.').sample('heliotrope_events_stream_lagged_total', this.streamLagged)
    const wan = wanState(a, topology, nowMs)
    x.family('heliotrope_cost', 'gauge', 'Cost of the placement in the latest snapshot (the planner\'s cost function).')
    if (wan !== undefined) x.sample('heliotrope_cost', wan.cost)
    const latest = [...a.rounds.values()].filter(r => r.plan !== undefined).sort((p, q) => q.round - p.round)[0]
    x.family('heliotrope_plan_cost', 'gauge', 'Cost before and after the latest accepted plan.')
    if (latest?.plan !== undefined) {
      x.sample('heliotrope_plan_cost', latest.plan.initialCost, { when: 'before' })
      x.sample('heliotrope_plan_cost', latest.plan.finalCost, { when: 'after' })
    }
    x.family('heliotrope_link_load_bps', 'gauge', 'Traffic on each WAN link in the latest snapshot, bit/s.')
    for (const l of wan?.links ?? []) x.sample('heliotrope_link_load_bps', l.loadBps, { link: l.link, from: l.from, to: l.to })
    x.family('heliotrope_link_capacity_bps', 'gauge', 'Capacity of each WAN link, bit/s.')
    for (const l of wan?.links ?? []) x.sample('heliotrope_link_capacity_bps', l.capacityBps, { link: l.link, from: l.from, to: l.to })
    x.family('heliotrope_link_utilization_ratio', 'gauge', 'Load over capacity of each WAN link (the thesis\'s loading factor).')
    for (const l of wan?.links ?? []) x.sample('heliotrope_link_utilization_ratio', l.utilization, { link: l.link, from: l.from, to: l.to })
    const controls = a.controls.status() as { mode: string, draining: boolean, pinned: string[], waiting: unknown[] }
    x.family('heliotrope_mode', 'gauge', '1 for the mode this agent runs in, 0 for the others.')
    for (const m of MODES) x.sample('heliotrope_mode', m === controls.mode ? 1 : 0, { mode: m })
    x.family('heliotrope_cluster_settings_version', 'gauge', 'Version of the cluster settings this agent holds (0: none set); agents that differ have not all heard the latest `heliotrope cluster set`.').sample('heliotrope_cluster_settings_version', a.controls.settings.version)
    x.family('heliotrope_plans_awaiting_approval', 'gauge', 'Plans waiting for an operator here (mode approve; only the newest waits).').sample('heliotrope_plans_awaiting_approval', controls.waiting.length)
    x.family('heliotrope_draining', 'gauge', '1 while this host is drained (its VMs leave, none arrive).').sample('heliotrope_draining', controls.draining ? 1 : 0)
    x.family('heliotrope_pinned_vms', 'gauge', 'VMs pinned cluster-wide, as this agent knows.').sample('heliotrope_pinned_vms', controls.pinned.length)
    this.runtime.render(x)
    return x.text()
  }
}
