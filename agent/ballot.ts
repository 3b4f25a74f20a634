/**
 * Each round's ballot, as this agent keeps it (lib/election.ts ranks; this
 * holds the rounds): hashes round keys and peer ids, freezes each round's
 * ranking of candidates at its planning time, decides which plan the agent
 * accepts for a round, and counts the votes for it.
 *
 * A plan from host H claiming rank k is accepted when H's position in our
 * own ranking is at most k (a planner may be more modest than our view, not
 * bolder), it arrives no earlier than rank k's deadline minus the skew
 * tolerance, and no plan of a lower or equal rank was accepted before
 * (lower ranks win until the plan is final). An agent acknowledges the first
 * plan it accepts in a round to all (a 'plan-ack' event), and only that one:
 * a vote. A plan is carried out only once a majority of the members voted
 * for it (counting only voters whose member list is ours: acceptance.ts); since each member votes once per round, two plans of one round can
 * never both be carried out, whatever the views, losses or partitions.
 */
import { createHash } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import { rankCandidates, roundKeyText } from '../lib/election.ts'
import { planDeadlineMs, type RoundTiming } from '../lib/rounds.ts'
import type { Envelope, PlanMessage } from '../lib/wire/messages.ts'
import type { ViewDropReason } from '../lib/view.ts'

export interface AcceptedPlan {
  round: number
  planner: string
  rank: number
  plan: PlanMessage
  acceptedAtMs: number
  executing: boolean
}

export type PlanVerdict = { ok: true } | { ok: false, reason: ViewDropReason | 'superseded', reject: boolean }

export class Ballot {
  private readonly cluster: string
  private readonly timing: RoundTiming
  private readonly skewMs: number
  private readonly kadIds = new Map<string, Uint8Array>()
  private readonly frozen = new Map<number, string[]>()
  private readonly plans = new Map<number, AcceptedPlan>()
  private readonly acks = new Map<number, Map<string, Set<string>>>()

  constructor (init: { cluster: string, timing: RoundTiming, skewToleranceMs?: number }) {
    this.cluster = init.cluster
    this.timing = init.timing
    this.skewMs = init.skewToleranceMs ?? Math.floor(init.timing.takeoverMs / 2)
  }

  /** K_r: the key a DHT closest-peer lookup for round r asks for. */
  roundKey (round: number): Uint8Array {
    return sha256(new TextEncoder().encode(roundKeyText(this.cluster, round)))
  }

  /** The DHT hashes lookup keys once more before measuring XOR distance; so do we. */
  private rankingKey (round: number): Uint8Array {
    return sha256(this.roundKey(round))
  }

  /** Kademlia id of a peer: sha256 of its multihash bytes, as kad-dht uses. */
  kadId (peerId: string): Uint8Array {
    let id = this.kadIds.get(peerId)
    if (id === undefined) { id = sha256(peerIdFromString(peerId).toMultihash().bytes); this.kadIds.set(peerId, id) }
    return id
  }

  /**
   * The ranking for `round` over the live members. Frozen the first time it
   * is asked for at or after the round's planning time, so every decision in
   * the round uses one ranking.
   */
  ranking (round: number, live: ReadonlyArray<{ host: string, peerId: string }>, nowMs: number): string[] {
    const f = this.frozen.get(round)
    if (f !== undefined) return f
    const r = rankCandidates(this.rankingKey(round), live.map(m => ({ host: m.host, kadId: this.kadId(m.peerId) })))
    if (nowMs >= planDeadlineMs(round, 0, this.timing)) {
      this.frozen.set(round, r)
      for (const old of this.frozen.keys()) if (old < round - 8) this.frozen.delete(old)
    }
    return r
  }

  /** The ranking for `round` if it is frozen already (see ranking): the round loop asks every tick, so the live members are not listed again. */
  frozenRanking (round: number): string[] | undefined {
    return this.frozen.get(round)
  }

  /** Records that `host` acknowledged `planner`'s plan for `round`. */
  ack (round: number, planner: string, host: string): void {
    let byPlanner = this.acks.get(round)
    if (byPlanner === undefined) {
      byPlanner = new Map()
      this.acks.set(round, byPlanner)
      for (const old of this.acks.keys()) if (old < round - 8) this.acks.delete(old)
    }
    const hosts = byPlanner.get(planner) ?? new Set<string>()
    hosts.add(host)
    byPlanner.set(planner, hosts)
  }

  /**
   * How many members acknowledged `planner`'s plan for `round`; with
   * `counts`, only the voters it passes (those that agree on the member
   * list, docs/design.md §5.3).
   */
  acked (round: number, planner: string, counts: (host: string) => boolean = () => true): number {
    let n = 0
    for (const host of this.acks.get(round)?.get(planner) ?? []) if (counts(host)) n++
    return n
  }

  /** Who acknowledged `planner`'s plan for `round`, sorted. */
  voters (round: number, planner: string): string[] {
    return [...this.acks.get(round)?.get(planner) ?? []].sort()
  }

  accepted (round: number): AcceptedPlan | undefined {
    return this.plans.get(round)
  }

  check (env: Envelope<'plan'>, ranking: string[], nowMs: number): PlanVerdict {
    const rank = env.body.rank
    if (env.body.planner !== env.host) return { ok: false, reason: 'impersonation', reject: true }
    const position = ranking.indexOf(env.host)
    if (position < 0 || position > rank) return { ok: false, reason: 'not-elected', reject: true }
    if (nowMs < planDeadlineMs(env.round, rank, this.timing) - this.skewMs) return { ok: false, reason: 'not-elected', reject: true }
    if (nowMs > planDeadlineMs(env.round + 1, 0, this.timing)) return { ok: false, reason: 'stale-round', reject: false }
    const current = this.plans.get(env.round)
    if (current !== undefined && (current.executing || current.rank <= rank)) return { ok: false, reason: 'superseded', reject: false }
    return { ok: true }
  }

  accept (env: Envelope<'plan'>, nowMs: number): AcceptedPlan {
    const a: AcceptedPlan = { round: env.round, planner: env.host, rank: env.body.rank, plan: env.body, acceptedAtMs: nowMs, executing: false }
    this.plans.set(env.round, a)
    for (const old of this.plans.keys()) if (old < env.round - 8) this.plans.delete(old)
    return a
  }

  /** A plan becomes final when the next rank's slot opens: no lower rank can still arrive in time. */
  executeAtMs (plan: AcceptedPlan): number {
    return planDeadlineMs(plan.round, plan.rank + 1, this.timing)
  }
}

function sha256 (bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest()
}
