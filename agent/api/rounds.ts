/**
 * GET /rounds: the round history as this agent saw it, and why each VM moved.
 *
 * The gossiped plan carries only each move's resulting cost. The agent that
 * planned a round still holds the full Plan, with each move's gain and the
 * link it relieved most, so it explains its own rounds in full; any other
 * agent explains a move by the cost drop from the move before it.
 */
import type { Agent, RoundRecord } from '../agent.ts'
import type { MoveWhy, PlanResponse, RoundsResponse, RoundView } from './types.ts'
import { roundAt } from '../../lib/rounds.ts'
import { currentRanking } from './status.ts'
import { definedOnly } from '../../lib/defined.ts'

export const DEFAULT_ROUNDS_LIMIT = 20
/** How many recent rounds' frozen rankings agent/ballot.ts keeps. */
export const ELECTION_MEMORY_ROUNDS = 8

export function buildRounds (agent: Agent, nowMs: number, limit = DEFAULT_ROUNDS_LIMIT): RoundsResponse {
  const records = [...agent.rounds.values()].sort((a, b) => b.round - a.round).slice(0, limit)
  const current = roundAt(nowMs, agent.timing)
  return { host: agent.host, current, rounds: records.map(r => roundView(agent, r, rankingOf(agent, r, current, nowMs))) }
}

/**
 * GET /plan: the newest round's accepted plan as /rounds shows it (null
 * before the first), and in mode approve the plan waiting for an operator.
 */
export function buildPlan (agent: Agent, nowMs: number): PlanResponse {
  const current = roundAt(nowMs, agent.timing)
  const latest = [...agent.rounds.values()].filter(r => r.plan !== undefined).sort((a, b) => b.round - a.round)[0]
  const waiting = (agent.controls.status() as { waiting: unknown[] }).waiting
  return { host: agent.host, current, plan: latest === undefined ? null : roundView(agent, latest, rankingOf(agent, latest, current, nowMs)), awaitingApproval: waiting[0] ?? null }
}

/**
 * An agent writes the ranking into its round record only when it ranks the
 * round itself; one that received the plan first has it only in the
 * election, which froze it when it checked that plan. Ask there, for the
 * rounds it still remembers.
 */
function rankingOf (agent: Agent, r: RoundRecord, current: number, nowMs: number): string[] {
  if (r.ranking.length > 0 || r.planner === undefined || r.round < current - ELECTION_MEMORY_ROUNDS) return r.ranking
  return currentRanking(agent, r.round, nowMs)
}

function roundView (agent: Agent, r: RoundRecord, ranking: string[]): RoundView {
  const plannedHere = r.planner === agent.host && r.planned !== undefined
  const dcOf = (host: string): string | undefined => agent.view.member(host)?.state?.dc
  const moves: MoveWhy[] = []
  let before = r.plan?.initialCost ?? 0
  for (const [i, m] of (r.plan?.moves ?? []).entries()) {
    // The local Plan is the same computation the gossiped one came from, so
    // its moves line up one for one when this agent planned the round.
    const local = plannedHere ? r.planned!.moves[i] : undefined
    const gain = local !== undefined && local.vm === m.vm ? local.gain : before - m.cost
    const relieves = local !== undefined && local.vm === m.vm ? local.relieves : undefined
    const fromDc = local?.fromDc ?? dcOf(m.from)
    const toDc = local?.toDc ?? dcOf(m.to)
    const why = `${relieves !== undefined ? `relieves ${relieves}; ` : ''}cost ${fmt(before)} -> ${fmt(m.cost)} (gain ${fmt(gain)})`
    moves.push({
      vm: m.vm, from: m.from, to: m.to,
      ...definedOnly({ fromDc, toDc }),
      cost: m.cost, gain,
      ...definedOnly({ relieves }),
      why
    })
    before = m.cost
  }
  return {
    round: r.round,
    ranking,
    ...definedOnly({ planner: r.planner, rank: r.rank }),
    plannedHere,
    ...(r.plan !== undefined ? { costBefore: r.plan.initialCost, costAfter: r.plan.finalCost } : {}),
    moves,
    ...(plannedHere ? { stopped: r.planned!.stopped } : {}),
    ...(plannedHere && r.verdict !== undefined ? { verdict: r.verdict } : {}),
    ...definedOnly({ planMs: r.planMs }),
    acted: r.acted === true,
    ...definedOnly({ approval: agent.controls.approvalState(r.round)?.state }),
    outcomes: r.outcomes
  }
}

function fmt (x: number): string {
  return x.toFixed(4)
}
