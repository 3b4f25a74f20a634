/**
 * Planning: in each round, when this host's rank comes up and no plan was
 * accepted, plan (unless just started, without a quorum, or a lower rank
 * claimed the round in the DHT), gossip the plan and claim the round in the
 * DHT; later, cross-check the round's ranking against the DHT's own.
 */
import type { PrivateKey } from '@libp2p/interface'
import { maxRanks, planDeadlineMs, publishOffsetMs, type RoundTiming } from '../lib/rounds.ts'
import { parseSnapshot } from '../lib/snapshot.ts'
import type { TopologySwitch } from './cluster/topology-switch.ts'
import { encodeEnvelope } from '../lib/wire/codec.ts'
import type { Envelope, EventMessage } from '../lib/wire/messages.ts'
import type { PlanAcceptance } from './acceptance.ts'
import type { Ballot } from './ballot.ts'
import { type Claim, claimKey, planDigest, signClaim, validateClaim } from './claims.ts'
import type { Cluster } from './cluster/index.ts'
import type { Controls } from './policy/controls.ts'
import type { AgentCounters } from './counters.ts'
import type { Logger } from './log.ts'
import { closestPeers, type ClusterNode } from './net/index.ts'
import type { RoundRecord, RoundRecords } from './round-records.ts'

/** The DHT cross-check of a round's ranking runs after this many takeover slots (plus the host's offset). */
const CROSS_CHECK_AFTER_RANKS = 2
const CLAIMED_BELOW = 'a lower rank claimed the round in the DHT: no takeover'
/**
 * The planner stores its DHT claim this share of a takeover slot after its
 * plan went out. The claim is read only by the next rank at its slot, while
 * the put's lookup (a dozen DHT requests) competes with the plan's fan-out:
 * at 64 agents (bench:gossip, tiered) the hosts sharing the planner's
 * process accepted the plan last, 300-470 ms after it went out against a
 * median of 120.
 */
const CLAIM_AFTER_SLOT_SHARE = 0.2

export interface PlanningComponents {
  node: ClusterNode
  cluster: Cluster
  ballot: Ballot
  acceptance: PlanAcceptance
  controls: Controls
  records: RoundRecords
  counters: AgentCounters
  log: Logger
  now: () => number
  publishEvent: (body: EventMessage) => Promise<void>
  /** Signs this agent's planner claims in the DHT; without it no claim is stored. */
  privateKey?: PrivateKey
}

export interface PlanningInit {
  host: string
  cluster: string
  /** The topology run now (a staged one takes over at a switch: cluster/topology-switch.ts). */
  topology: Pick<TopologySwitch, 'topology'>
  timing: RoundTiming
}

export class Planning {
  private readonly c: PlanningComponents
  private readonly host: string
  private readonly clusterName: string
  private readonly topology: Pick<TopologySwitch, 'topology'>
  private readonly timing: RoundTiming
  /** Our last plan, until its claim is stored (see CLAIM_AFTER_SLOT_SHARE). */
  private unclaimed: { env: Envelope<'plan'>, dueMs: number } | undefined
  /** The configured placement rules last left out (noteIgnoredRules), as one string. */
  private ignoredRules = ''

  constructor (components: PlanningComponents, init: PlanningInit) {
    this.c = components
    this.host = init.host
    this.clusterName = init.cluster
    this.topology = init.topology
    this.timing = init.timing
  }

  /** Plan time in round `round`: ranks the live members once the round's planning opens, and plans if it is our turn. */
  async turn (now: number, round: number): Promise<void> {
    const { ballot, cluster } = this.c
    this.claimIfDue(now)
    const rec = this.c.records.record(round)
    if (ballot.accepted(round) === undefined && now >= planDeadlineMs(round, 0, this.timing)) {
      rec.ranking = ballot.frozenRanking(round) ?? ballot.ranking(round, cluster.liveMembers(now), now)
      const rank = rec.ranking.indexOf(this.host)
      if (this.ourTurn(rec, rank, now)) await this.planUnlessHeldBack(rec, rank, now)
    }
    // The DHT cross-check of the ranking waits until the plan is out and
    // spread (at a per-host offset after two takeover slots): fifty agents
    // asking the DHT at the plan's moment doubled the time the plan took to
    // reach them all.
    if (rec.dhtRanking === undefined && rec.ranking.length > 0 && now >= planDeadlineMs(round, CROSS_CHECK_AFTER_RANKS, this.timing) + publishOffsetMs(this.host, round, this.timing)) void this.crossCheck(round)
  }

  /** Our rank is a planning one, its deadline came, and we may plan at all. */
  private ourTurn (rec: RoundRecord, rank: number, now: number): boolean {
    return rank >= 0 && rank < maxRanks(this.timing) && now >= planDeadlineMs(rec.round, rank, this.timing) &&
      rec.planned === undefined && rec.planError === undefined && !this.c.cluster.leaving && this.c.controls.plans
  }

  private async planUnlessHeldBack (rec: RoundRecord, rank: number, now: number): Promise<void> {
    const { cluster, records } = this.c
    const round = rec.round
    if (round <= cluster.joinedRound) {
      // Just (re)started: our view lacks members whose states came before
      // we joined, so our ranking may differ from everyone else's.
      records.noteOnce(rec, 'warming up: no planning in the first round')
    } else if (!cluster.hasQuorum(now)) {
      records.noteOnce(rec, 'no quorum: this side of a partition does not plan')
    } else if (rank > 0 && rec.notes?.includes(CLAIMED_BELOW) !== true && await this.claimedBelow(round, rank)) {
      // A lower rank planned (its gossip just did not reach us): no takeover.
      records.noteOnce(rec, CLAIMED_BELOW)
    } else if (this.c.ballot.accepted(round) === undefined && rec.notes?.includes(CLAIMED_BELOW) !== true) {
      await this.makePlan(round, rank)
    }
  }

  /**
   * Says once, when it changes, which configured placement rules the
   * cluster's snapshot cannot apply (a VM, group or DC it lacks): every
   * round would repeat it otherwise.
   */
  private noteIgnoredRules (ignored: string[]): void {
    const key = ignored.join('\n')
    if (key === this.ignoredRules) return
    this.ignoredRules = key
    if (ignored.length > 0) this.c.log.warn('placement rules left out of planning', { rules: ignored })
  }

  private async makePlan (round: number, rank: number): Promise<void> {
    const { cluster, controls, log } = this.c
    const rec = this.c.records.record(round)
    const now = this.c.now()
    const snapshot = parseSnapshot(cluster.view.snapshot(this.topology.topology, now))
    const planStart = performance.now()
    // The chosen planner under the operator's limits, or a drained host's evacuation.
    let planned: ReturnType<Controls['plan']>
    try {
      planned = controls.plan(snapshot, round)
    } catch (err) {
      // A planner bug must not become a loop re-planning (and logging) every
      // tick: this round is given up here, and the next rank takes over.
      rec.planError = (err as Error).message
      this.c.counters.planFailures++
      log.error('planning failed: the next rank takes over this round', { round, rank, error: (err as Error).stack ?? String(err) })
      return
    }
    const { plan, verdict } = planned
    this.noteIgnoredRules(planned.ignoredRules)
    rec.planned = plan
    rec.verdict = verdict
    rec.planMs = performance.now() - planStart
    this.c.counters.plansMade++
    const inputs: Record<string, number> = {}
    for (const m of cluster.view.members()) if (m.seq.host >= 0) inputs[m.host] = m.seq.host
    const env = cluster.envelope('plan', round, {
      rank,
      planner: this.host,
      inputs,
      initialCost: plan.initialCost,
      finalCost: plan.finalCost,
      moves: plan.moves.map(m => ({ vm: m.vm, from: m.from, to: m.to, cost: m.cost }))
    })
    log.info('planned', { round, rank, planner: plan.planner, verdict, planMs: Math.round(rec.planMs), costBefore: plan.initialCost, costAfter: plan.finalCost, moves: plan.moves.map(m => `${m.vm}:${m.from}->${m.to}`) })
    if (rank > 0) await this.c.publishEvent({ kind: 'takeover', detail: `rank ${rank} planned round ${round}` })
    this.c.acceptance.accept(env, now)
    await cluster.send(env)
    this.unclaimed = { env, dueMs: now + Math.round(this.timing.takeoverMs * CLAIM_AFTER_SLOT_SHARE) }
  }

  private claimIfDue (now: number): void {
    const pending = this.unclaimed
    if (pending === undefined || now < pending.dueMs) return
    this.unclaimed = undefined
    void this.storeClaim(pending.env).catch(err => this.c.log.warn('could not store the planner claim', { round: pending.env.round, error: (err as Error).message }))
  }

  /** Stores our signed claim to round `env.round` in the DHT. */
  private async storeClaim (env: Envelope<'plan'>): Promise<void> {
    if (this.c.privateKey === undefined) return
    const { node } = this.c
    const value = await signClaim(this.c.privateKey, { cluster: this.clusterName, round: env.round, host: this.host, peerId: node.peerId, rank: env.body.rank, plan: planDigest(encodeEnvelope(env)) })
    for await (const _ of node.libp2p.services.dht.put(claimKey(this.clusterName, env.round), value, { signal: AbortSignal.timeout(this.timing.periodMs) })) { /* drain the query */ }
  }

  /** Who planned `round`, as the DHT's signed claim says (undefined if none is found). */
  async whoPlanned (round: number): Promise<Claim | undefined> {
    const key = claimKey(this.clusterName, round)
    try {
      for await (const e of this.c.node.libp2p.services.dht.get(key, { signal: AbortSignal.timeout(this.timing.periodMs) })) {
        if (e.name === 'VALUE') return await validateClaim(key, e.value)
      }
    } catch { /* not found, or no peer answered in time */ }
    return undefined
  }

  /** True when the DHT holds a claim to `round` by a rank below `rank` (asked briefly). */
  private async claimedBelow (round: number, rank: number): Promise<boolean> {
    const key = claimKey(this.clusterName, round)
    try {
      for await (const e of this.c.node.libp2p.services.dht.get(key, { signal: AbortSignal.timeout(Math.max(200, this.timing.takeoverMs / 2)) })) {
        if (e.name !== 'VALUE') continue
        try { if ((await validateClaim(key, e.value)).rank < rank) return true } catch { /* an invalid record proves nothing */ }
      }
    } catch { /* nothing found in time */ }
    return false
  }

  /** Asks the DHT for the round key's closest peers: the cross-check of our own ranking. */
  private async crossCheck (round: number): Promise<void> {
    const rec = this.c.records.record(round)
    if (rec.dhtRanking !== undefined) return
    rec.dhtRanking = []
    try {
      const peers = await closestPeers(this.c.node, this.c.ballot.roundKey(round), { timeoutMs: this.timing.takeoverMs * 4 })
      rec.dhtRanking = peers.map(p => this.c.cluster.view.hostOfPeer(p)).filter((h): h is string => h !== undefined)
    } catch (err) {
      this.c.log.debug('DHT cross-check failed', { round, error: (err as Error).message })
    }
  }
}
