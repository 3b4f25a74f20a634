/**
 * Plans waiting for an operator (mode approve). Only the newest final plan
 * waits: an older one was made from an older view, and approving it after
 * the cluster moved on runs moves nobody would plan today. A new plan with
 * the same moves as the waiting one does not replace it but joins it: the
 * operator may approve either round (nothing changed, and a plan re-made
 * every round must not slip away while someone reads it). A waiting plan
 * lapses after a window of rounds. An approval (gossiped, so any host's
 * `heliotrope approve` reaches every agent) releases the plan if it still
 * fits the cluster (controls.ts checks that) and is refused otherwise.
 * Approved plans are kept for the window too, so a target can check that a
 * reservation belongs to one. Every plan's fate is remembered for a while,
 * so `approve` can say why a round cannot be approved.
 */
import type { PlanMessage } from '../../lib/wire/messages.ts'

export interface WaitingPlan {
  round: number
  planner: string
  plan: PlanMessage
  /** Later rounds whose plans had the same moves: approving one of them approves this. */
  sameAs?: number[]
}

export type PlanState =
  | { state: 'awaiting' }
  | { state: 'approved' }
  | { state: 'superseded', by: number }
  | { state: 'lapsed' }
  | { state: 'refused', reason: string }

/** Plans' fates are remembered this many rounds after the plan's own. */
const HISTORY_ROUNDS = 64

export class ApprovalBook {
  private waiting: WaitingPlan | undefined
  private readonly approved = new Map<number, WaitingPlan>()
  private readonly states = new Map<number, PlanState>()
  /** Approvals that arrived before the plan was final here (clocks differ a little). */
  private readonly early = new Set<number>()
  private windowRounds: number

  constructor (windowRounds: number) {
    this.windowRounds = windowRounds
  }

  /** A reloaded config's window; expire applies it at the next round's start. */
  setWindow (windowRounds: number): void {
    this.windowRounds = windowRounds
  }

  /** Holds a final plan in place of the one waiting; returns it at once when its approval came first. */
  hold (p: WaitingPlan): WaitingPlan | undefined {
    if (this.early.delete(p.round)) return this.release(p)
    const w = this.waiting
    if (w !== undefined && w.round > p.round) return undefined // a newer one waits already
    if (w !== undefined && sameMoves(w.plan, p.plan)) {
      this.waiting = { ...w, sameAs: [...(w.sameAs ?? []), p.round] }
      this.states.set(p.round, { state: 'awaiting' })
      return undefined
    }
    if (w !== undefined) for (const r of [w.round, ...(w.sameAs ?? [])]) this.states.set(r, { state: 'superseded', by: p.round })
    this.waiting = p
    this.states.set(p.round, { state: 'awaiting' })
    return undefined
  }

  /** The plan of `round` if it is the one waiting (or has its moves). */
  waitingPlan (round: number): WaitingPlan | undefined {
    const w = this.waiting
    return w !== undefined && (w.round === round || w.sameAs?.includes(round) === true) ? w : undefined
  }

  /**
   * Records an approval of `round`: the plan to carry out if it waits here
   * (the caller has checked it still fits), undefined if not (yet).
   */
  approve (round: number, currentRound: number): WaitingPlan | undefined {
    const p = this.waitingPlan(round)
    if (p !== undefined) return this.release(p, round)
    if (round >= currentRound - 1 && !this.states.has(round)) this.early.add(round)
    return undefined
  }

  /** The waiting plan of `round` will not run: it no longer fits the cluster. */
  refuse (round: number, reason: string): void {
    const w = this.waitingPlan(round)
    if (w !== undefined) this.waiting = undefined
    for (const r of w === undefined ? [round] : [w.round, ...(w.sameAs ?? [])]) this.states.set(r, { state: 'refused', reason })
  }

  /** Releases the waiting plan, approved as `round` (its own or one with its moves): sources ask targets by that round. */
  private release (p: WaitingPlan, round = p.round): WaitingPlan {
    this.waiting = undefined
    this.approved.set(round, p)
    for (const r of [p.round, ...(p.sameAs ?? [])]) this.states.set(r, { state: 'approved' })
    return p
  }

  isWaiting (round: number): boolean {
    return this.waitingPlan(round) !== undefined
  }

  list (): WaitingPlan[] {
    return this.waiting === undefined ? [] : [this.waiting]
  }

  /** What became of the plan of `round`, if this agent saw one. */
  stateOf (round: number): PlanState | undefined {
    return this.states.get(round)
  }

  /** Is this move part of a plan approved lately? (The target's reservation check.) */
  approvedMove (round: number, vm: string, from: string, to: string): boolean {
    return this.approved.get(round)?.plan.moves.some(m => m.vm === vm && m.from === from && m.to === to) === true
  }

  /** Drops what is older than the window; returns the rounds of plans that lapsed unapproved. */
  expire (currentRound: number): number[] {
    const lapsed: number[] = []
    const w = this.waiting
    // The window runs from the newest round that planned these moves.
    if (w !== undefined && currentRound - Math.max(w.round, ...(w.sameAs ?? [])) > this.windowRounds) {
      this.waiting = undefined
      for (const r of [w.round, ...(w.sameAs ?? [])]) this.states.set(r, { state: 'lapsed' })
      lapsed.push(w.round)
    }
    for (const r of this.approved.keys()) if (currentRound - r > this.windowRounds) this.approved.delete(r)
    for (const r of this.early) if (currentRound - r > 2) this.early.delete(r)
    for (const r of this.states.keys()) if (currentRound - r > HISTORY_ROUNDS) this.states.delete(r)
    return lapsed
  }
}

/** A plan's state in words, for the operator. */
export function describeState (s: PlanState): string {
  switch (s.state) {
    case 'awaiting': return 'awaiting approval'
    case 'approved': return 'approved'
    case 'superseded': return `superseded by round ${s.by} (only the newest plan waits)`
    case 'lapsed': return 'lapsed unapproved'
    case 'refused': return `refused: ${s.reason}`
  }
}

/** The same moves in the same order. */
function sameMoves (a: PlanMessage, b: PlanMessage): boolean {
  return a.moves.length === b.moves.length && a.moves.every((m, i) => m.vm === b.moves[i]!.vm && m.from === b.moves[i]!.from && m.to === b.moves[i]!.to)
}
