/**
 * What both protocols get for a round and what they hand back. Times are
 * absolute model milliseconds (round r starts at r x period, as in
 * lib/rounds.ts).
 */
import { planDeadlineMs, type RoundTiming } from '../../lib/rounds.ts'
import { RELAY_KINDS, type RelayKind } from '../../lib/wire/relay.ts'
import type { Accusation, Attack } from './audit.ts'
import type { Ledger } from './ledger.ts'
import type { Network } from './network.ts'
import type { PlanningRole } from './planning.ts'
import type { World } from './world.ts'

export const ROLE_HOST = 0
export const ROLE_AGGREGATOR = 1
export const ROLE_PLANNER = 2
export const ROLE_NAMES = ['host', 'aggregator', 'planner'] as const

export interface RoundInput {
  world: World
  net: Network
  ledger: Ledger
  timing: RoundTiming
  round: number
  planning: PlanningRole
  /** Hosts every agent ranks this round (heard recently: today's view, or the last roster). */
  members: number[]
  /** Kill this round's aggregator of the first DC, or its planner, while it works. */
  killAggregator?: boolean
  killPlanner?: boolean
  /** A dishonest aggregator in the first DC (tiered only). */
  attack?: Attack
}

export interface Takeover {
  role: 'aggregator' | 'planner'
  killed: string
  killedAt: number
  by?: string
  /** When the one who took over had done the dead one's job (its bundle at the planner, or its plan sent). */
  doneAt?: number
}

export interface RoundOutcome {
  round: number
  /** Per host: ROLE_HOST, ROLE_AGGREGATOR or ROLE_PLANNER. */
  roles: Uint8Array
  planner?: string
  plannerRank?: number
  moves: number
  /** Per host: when it accepted the round's plan (NaN if it did not). */
  acceptedAt: Float64Array
  /** Hosts up at the round's end, and those of them that accepted the plan and saw its majority in time. */
  live: number
  agreeing: number
  takeovers: Takeover[]
  accusations: Accusation[]
  /** The relay protocol's requests this round, by kind (each is two frames: the request and its answer). */
  relaySent?: Record<RelayKind, number>
}

export function noRelayCounts (): Record<RelayKind, number> {
  return Object.fromEntries(RELAY_KINDS.map(k => [k, 0])) as Record<RelayKind, number>
}

export function newOutcome (input: RoundInput): RoundOutcome {
  const n = input.world.hostIds.length
  return { round: input.round, roles: new Uint8Array(n), moves: 0, acceptedAt: new Float64Array(n).fill(NaN), live: 0, agreeing: 0, takeovers: [], accusations: [] }
}

/** Counts the hosts up when the round's plan must have become final everywhere: the next round's planning time. */
export function finishRound (input: RoundInput, out: RoundOutcome): RoundOutcome {
  const end = planDeadlineMs(input.round + 1, 0, input.timing)
  out.live = 0
  for (let h = 0; h < input.world.hostIds.length; h++) if (input.net.up(h, end)) out.live++
  return out
}
