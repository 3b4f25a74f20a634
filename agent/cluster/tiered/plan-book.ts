/**
 * What an aggregator's hosts must hear of each round's plans (docs/design.md
 * §9.8): a plan goes to every host that reports to us at once; its votes go
 * to its movers (the hosts it moves VMs from or to) once a strict majority
 * of counted votes is in, so each mover can check every signature itself.
 * Votes may overtake their plan: they wait for it. Decides only; the relay
 * sends.
 */
import type { Envelope, EventMessage, PlanMessage } from '../../../lib/wire/messages.ts'
import type { SignedItem } from '../../../lib/wire/relay.ts'

/** Items to pass to some of our hosts. */
export interface Notice { hosts: string[], items: SignedItem[] }

interface PlanRecord { item: SignedItem, movers: Set<string>, votes: SignedItem[], voters: Set<string>, sent: boolean }

/** Rounds of plans kept: votes for a plan arrive within its round. */
const ROUNDS_KEPT = 4
const NO_ITEM: SignedItem = { e: new Uint8Array(), s: new Uint8Array() }

export class PlanBook {
  private readonly memberCount: number
  private readonly countsVote: (host: string) => boolean
  /** Per round, per planner: the plan, its movers, the votes for it. */
  private readonly plans = new Map<number, Map<string, PlanRecord>>()

  /** `countsVote`: whether a voter's vote counts (its state lists our members, docs/design.md §5.3). */
  constructor (memberCount: number, countsVote: (host: string) => boolean) {
    this.memberCount = memberCount
    this.countsVote = countsVote
  }

  /** A plan or vote we applied; `clients` are the hosts that report to us now. Returns what they must be told. */
  track (env: Envelope, item: SignedItem, clients: readonly string[]): Notice[] {
    if (env.topic === 'plan') {
      const plan = env.body as PlanMessage
      const byPlanner = this.roundPlans(env.round)
      const known = byPlanner.get(env.host)
      if (known !== undefined && known.item.e.length > 0) return []
      const movers = new Set(plan.moves.flatMap(m => [m.from, m.to]))
      // Votes may have overtaken the plan: keep them.
      const rec: PlanRecord = { item, movers, votes: known?.votes ?? [], voters: known?.voters ?? new Set(), sent: false }
      byPlanner.set(env.host, rec)
      return [{ hosts: clients.filter(h => h !== env.host), items: [item] }, ...this.votesFor(rec, clients)]
    }
    const ev = env.body as EventMessage
    if (env.topic !== 'event' || ev.kind !== 'plan-ack' || ev.round === undefined || ev.planner === undefined) return []
    const byPlanner = this.roundPlans(ev.round)
    let rec = byPlanner.get(ev.planner)
    if (rec === undefined) {
      rec = { item: NO_ITEM, movers: new Set(), votes: [], voters: new Set(), sent: false }
      byPlanner.set(ev.planner, rec)
    }
    if (rec.voters.has(env.host)) return []
    rec.voters.add(env.host)
    rec.votes.push(item)
    return this.votesFor(rec, clients)
  }

  private roundPlans (round: number): Map<string, PlanRecord> {
    let m = this.plans.get(round)
    if (m === undefined) {
      m = new Map()
      this.plans.set(round, m)
      for (const old of this.plans.keys()) if (old < round - ROUNDS_KEPT) this.plans.delete(old)
    }
    return m
  }

  /** The plan and its counted votes for our movers, once (and only once) a majority voted. */
  private votesFor (rec: PlanRecord, clients: readonly string[]): Notice[] {
    if (rec.sent || rec.item.e.length === 0) return []
    // voters and votes are filled together, in one order (see track).
    const voters = [...rec.voters]
    const counted = rec.votes.filter((_, i) => this.countsVote(voters[i]!))
    if (counted.length * 2 <= this.memberCount) return []
    rec.sent = true
    const movers = clients.filter(h => rec.movers.has(h))
    return movers.length > 0 ? [{ hosts: movers, items: [rec.item, ...counted] }] : []
  }
}
