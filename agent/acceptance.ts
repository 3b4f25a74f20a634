/**
 * Plan acceptance and votes: which plan this agent takes for a round (the
 * ballot's rules, ballot.ts), its one vote per round for the first plan it
 * takes, and when a taken plan runs: once final and voted for by a
 * majority of the members, counting only the votes of members whose
 * member list is ours (docs/design.md §5.3). The vote is one per round across restarts too:
 * it is on disk before it goes out (vote-book.ts).
 */
import { planDeadlineMs, type RoundTiming } from '../lib/rounds.ts'
import type { Envelope, EventMessage, PlannedMove } from '../lib/wire/messages.ts'
import type { AcceptedPlan, Ballot } from './ballot.ts'
import type { Cluster, UpstreamVerdict } from './cluster/index.ts'
import type { Controls } from './policy/controls.ts'
import type { AgentEvent } from './events.ts'
import type { Logger } from './log.ts'
import type { RoundRecords } from './round-records.ts'
import type { VoteBook } from './vote-book.ts'

export interface AcceptanceComponents {
  cluster: Cluster
  ballot: Ballot
  controls: Controls
  records: RoundRecords
  /** This host's own votes, kept across restarts. */
  votes: VoteBook
  /** How long a vote for a plan of `round` waits before it is written and sent (Cluster.voteDelayMs). */
  voteDelayMs: (round: number) => number
  log: Logger
  counters: { votesUncounted: number }
  emit: (event: AgentEvent) => void
  publishEvent: (body: EventMessage) => Promise<void>
  /** Carries out this host's moves of a plan (see Migrations.execute). */
  execute: (round: number, moves: PlannedMove[], untilMs: number) => void
}

export interface AcceptanceInit {
  host: string
  timing: RoundTiming
}

export class PlanAcceptance {
  private readonly c: AcceptanceComponents
  private readonly host: string
  private readonly timing: RoundTiming

  constructor (components: AcceptanceComponents, init: AcceptanceInit) {
    this.c = components
    this.host = init.host
    this.timing = init.timing
  }

  /**
   * Checks a plan from the gossip against this round's ranking; a plan
   * merely superseded is no drop. A `relayed` plan came from this host's
   * aggregator, which ranked it (tiered dissemination, docs/design.md
   * §9.8): a host that only reports keeps no view to rank with, so only the
   * ballot's other rules (slot, round, one plan) are checked here.
   */
  check (env: Envelope<'plan'>, now: number, relayed = false): UpstreamVerdict {
    const { ballot, cluster } = this.c
    const ranking = relayed ? [env.host] : ballot.frozenRanking(env.round) ?? ballot.ranking(env.round, cluster.liveMembers(now), now)
    const v = ballot.check(env, ranking, now)
    if (v.ok) return v
    return v.reason === 'superseded' ? { ok: false, reject: v.reject } : { ok: false, reject: v.reject, reason: v.reason }
  }

  /** A plan from the gossip, applied: taken if it still passes (validation ran moments ago). */
  onPlan (env: Envelope<'plan'>, now: number, relayed = false): void {
    if (this.check(env, now, relayed).ok) this.accept(env, now)
  }

  /** An event from the gossip: a vote for a plan is counted. */
  onEvent (env: Envelope<'event'>): void {
    const ev = env.body
    if (ev.kind !== 'plan-ack' || ev.round === undefined || ev.planner === undefined) return
    this.c.ballot.ack(ev.round, ev.planner, env.host)
    // Kept, but counted only while the voter agrees (see runIfVoted); a
    // voter with another member list is reported by the cluster layer.
    const { view } = this.c.cluster
    if (!view.agreesOnMembers(env.host) && !(this.c.cluster.vettedVotes && view.member(env.host)?.state === undefined)) this.c.counters.votesUncounted++
  }

  /** Takes `env` as its round's plan (ours or a peer's). */
  accept (env: Envelope<'plan'>, now: number): AcceptedPlan {
    const first = this.c.ballot.accepted(env.round) === undefined
    const a = this.c.ballot.accept(env, now)
    // Vote for the first plan we accept this round, and only for it: a plan
    // runs only once a majority voted for it (see ballot.ts). "First" in
    // this run is not enough: before a restart we may have voted for
    // another plan of the round (the vote book remembers).
    if (first) this.voteFor(env)
    return this.noteAccepted(env, a)
  }

  private voteFor (env: Envelope<'plan'>): void {
    const { round, host: planner } = env
    // Taken now (no second vote of the round), written and sent after the
    // vote delay: the plan's fan-out goes first (tiered/vote-delay.ts).
    const vote = this.c.votes.take(round, planner, this.c.voteDelayMs(round))
    if (!vote.ok) {
      this.c.log.warn('not voting: voted for another plan of this round before a restart', { round, planner, votedFor: this.c.votes.votedFor(round) })
      return
    }
    // On disk before it goes out: a crash after the send must not forget it.
    vote.durable.then(async () => {
      this.c.ballot.ack(round, planner, this.host)
      await this.c.publishEvent({ kind: 'plan-ack', round, planner })
    }).catch(err => this.c.log.warn('could not acknowledge the plan', { round, error: (err as Error).message }))
  }

  private noteAccepted (env: Envelope<'plan'>, a: AcceptedPlan): AcceptedPlan {
    const now = a.acceptedAtMs
    const rec = this.c.records.record(env.round)
    rec.planner = env.host
    rec.rank = env.body.rank
    rec.plan = { initialCost: env.body.initialCost, finalCost: env.body.finalCost, moves: env.body.moves }
    this.c.emit({ type: 'plan-accepted', round: env.round, planner: env.host, rank: env.body.rank, atMs: now })
    if (env.host !== this.host) this.c.log.info('plan accepted', { round: env.round, planner: env.host, rank: env.body.rank, moves: env.body.moves.length, costBefore: env.body.initialCost, costAfter: env.body.finalCost })
    return a
  }

  /**
   * Runs the plans of this round and the previous one that became final
   * and gathered a majority of votes. The previous round's too: one
   * accepted late in its round becomes final only after the round turned,
   * and must still run (every agent that accepted it runs its share; none
   * may skip it silently).
   */
  runFinal (now: number, round: number): void {
    for (const r of [round - 1, round]) {
      const plan = this.c.ballot.accepted(r)
      if (plan !== undefined && !plan.executing && now >= this.c.ballot.executeAtMs(plan)) this.runIfVoted(now, round, plan)
    }
  }

  private runIfVoted (now: number, round: number, plan: AcceptedPlan): void {
    const { ballot, records } = this.c
    const r = plan.round
    // A plan runs once a majority of the members acknowledged it (see
    // ballot.ts); wait for the acknowledgements until the round ends. Only
    // voters that list the members we do count: a majority of another
    // member list is no majority of ours (docs/design.md §5.3). The
    // majority stays over our configured members.
    const { view } = this.c.cluster
    const members = view.members().length
    // With the tiered dissemination, a voter we hold no state of came
    // through our aggregator, which forwards only agreeing votes.
    const unknownOk = this.c.cluster.vettedVotes
    const agrees = (host: string): boolean => host === this.host || view.agreesOnMembers(host) || (unknownOk && view.member(host)?.state === undefined)
    const votes = ballot.acked(r, plan.planner, agrees)
    if (votes * 2 <= members) {
      if (now < planDeadlineMs(r + 1, 0, this.timing)) return
      plan.executing = true
      const others = ballot.voters(r, plan.planner).filter(h => !agrees(h))
      const why = others.length > 0 ? ` (not counted, their member list differs: ${others.join(', ')})` : ''
      records.noteOnce(records.record(r), `only ${votes} of ${members} members acknowledged ${plan.planner}'s plan${why}: not carried out`)
      return
    }
    plan.executing = true
    // The mode decides: carry it out, hold it for approval, or only log it.
    const runs = this.c.controls.planFinal(plan)
    // In mode auto the final plan is acted on even when it moves nothing; a
    // plan held for approval is acted on once approved (agent.ts), one only
    // logged (dry-run, observe) never.
    if (runs || this.c.controls.mode === 'auto') records.record(r).acted = true
    if (runs) this.c.execute(r, plan.plan.moves, Math.max(planDeadlineMs(r + 1, 0, this.timing), planDeadlineMs(round + 1, 0, this.timing)))
  }
}
