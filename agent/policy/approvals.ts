/**
 * Plans waiting for an operator (mode approve). A final plan is held for a
 * window of rounds; an approval (gossiped, so any host's `heliotrope approve`
 * reaches every agent) releases it and discards every other waiting plan:
 * they were computed without its moves, and running one after it could move
 * a VM twice. Approved plans are kept for the window too, so
 * a target can check that a reservation belongs to one.
 */
import type { PlanMessage } from '../../lib/wire/messages.ts'

export interface WaitingPlan {
  round: number
  planner: string
  plan: PlanMessage
}

export class ApprovalBook {
  private readonly waiting = new Map<number, WaitingPlan>()
  private readonly approved = new Map<number, WaitingPlan>()
  /** Approvals that arrived before the plan was final here (clocks differ a little). */
  private readonly early = new Set<number>()
  private readonly windowRounds: number

  constructor (windowRounds: number) {
    this.windowRounds = windowRounds
  }

  /** Holds a final plan; returns it at once when its approval came first. */
  hold (p: WaitingPlan): WaitingPlan | undefined {
    if (this.early.delete(p.round)) return this.release(p)
    this.waiting.set(p.round, p)
    return undefined
  }

  /** Records an approval; returns the plan to carry out, if it waits here. */
  approve (round: number, currentRound: number): WaitingPlan | undefined {
    const p = this.waiting.get(round)
    if (p !== undefined) return this.release(p)
    if (round >= currentRound - 1 && !this.approved.has(round)) this.early.add(round)
    return undefined
  }

  private release (p: WaitingPlan): WaitingPlan {
    this.waiting.clear()
    this.approved.set(p.round, p)
    return p
  }

  isWaiting (round: number): boolean {
    return this.waiting.has(round)
  }

  list (): WaitingPlan[] {
    return [...this.waiting.values()].sort((a, b) => a.round - b.round)
  }

  /** Is this move part of a plan approved lately? (The target's reservation check.) */
  approvedMove (round: number, vm: string, from: string, to: string): boolean {
    return this.approved.get(round)?.plan.moves.some(m => m.vm === vm && m.from === from && m.to === to) === true
  }

  /** Drops what is older than the window; returns the rounds of plans that lapsed unapproved. */
  expire (currentRound: number): number[] {
    const lapsed: number[] = []
    for (const r of this.waiting.keys()) if (currentRound - r > this.windowRounds) { this.waiting.delete(r); lapsed.push(r) }
    for (const r of this.approved.keys()) if (currentRound - r > this.windowRounds) this.approved.delete(r)
    for (const r of this.early) if (currentRound - r > 2) this.early.delete(r)
    return lapsed
  }
}
