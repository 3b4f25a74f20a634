/** What the agent did in each recent round, for tests, the API and the console. */
import type { Plan } from '../lib/model.ts'
import type { Verdict as PlanVerdict } from '../lib/planners/safe-plan.ts'
import type { PlannedMove } from '../lib/wire/messages.ts'
import type { Logger } from './log.ts'

/** How many rounds back records are kept. */
const KEPT_ROUNDS = 64

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
  /** Set when this agent's planner threw in this round: it does not try again until the next. */
  planError?: string
  /** How long this agent's planner took, when it planned (ms). */
  planMs?: number
  outcomes: Array<{ vm: string, from: string, to: string, ok: boolean, error?: string }>
  /** Set when this agent started carrying out the round's plan (its own share). */
  acted?: boolean
  /** Why the agent did not plan or act when it could have (no quorum, a claim below its rank). */
  notes?: string[]
}

export class RoundRecords {
  readonly byRound = new Map<number, RoundRecord>()
  private readonly log: Logger

  constructor (log: Logger) {
    this.log = log
  }

  /** The record of `round`, made on first use. */
  record (round: number): RoundRecord {
    let r = this.byRound.get(round)
    if (r === undefined) {
      r = { round, ranking: [], outcomes: [] }
      this.byRound.set(round, r)
      for (const old of this.byRound.keys()) if (old < round - KEPT_ROUNDS) this.byRound.delete(old)
    }
    return r
  }

  /** Notes (and logs) why the agent held back in a round, once per reason. */
  noteOnce (rec: RoundRecord, note: string): void {
    if (rec.notes?.includes(note) === true) return
    rec.notes = [...(rec.notes ?? []), note]
    this.log.info(note, { round: rec.round })
  }
}
