/**
 * The design as it is today (docs/design.md §3-§5): every host floods its
 * digest every round and its state on change or every 10th round, the
 * planner floods its plan, every host floods its vote; moves flood their
 * events and states. Every agent receives every one of them.
 */
import { planDeadlineMs, publishOffsetMs, roundStartMs } from '../../lib/rounds.ts'
import { IDLE_CPU_MS_PER_S } from './constants.ts'
import { LOST } from './network.ts'
import { checkPlan } from './plan-check.ts'
import { plannerRanking } from './roles.ts'
import { moveVm } from './world.ts'
import { EVENT_B, VOTE_B, digestBytes, planBytes, stateBytes } from './sizes.ts'
import { ROLE_PLANNER, finishRound, newOutcome, type RoundInput, type RoundOutcome } from './round.ts'

/** docs/design.md §3.4: an unchanged state goes out every 10th round. */
export const STATE_REFRESH_ROUNDS = 10
/** The DHT claim check before a takeover (docs/design.md §4.3): at most max(200 ms, half a slot). */
export const CLAIM_CHECK_MS = 200
/** Floods per move: migration-started, a state, migration-done, a state (source), a state (target). */
export const FLOODS_PER_MOVE = 5

export function runTodayRound (input: RoundInput): RoundOutcome {
  const { world, net, ledger, timing, round } = input
  const out = newOutcome(input)
  const n = world.hostIds.length
  const t0 = roundStartMs(round, timing)
  const all = Int32Array.from({ length: n }, (_, i) => i)
  for (let h = 0; h < n; h++) if (net.up(h, t0)) ledger.background(h, IDLE_CPU_MS_PER_S * timing.periodMs / 1000)

  // Digests (every round) and states (refresh rounds), each at the host's offset.
  const order = [...all].sort((a, b) => publishOffsetMs(world.hostIds[a]!, round, timing) - publishOffsetMs(world.hostIds[b]!, round, timing))
  for (const h of order) {
    const at = t0 + publishOffsetMs(world.hostIds[h]!, round, timing)
    net.flood(h, all, digestBytes(world, h), at)
    if ((h + round) % STATE_REFRESH_ROUNDS === 0) net.flood(h, all, stateBytes(world, h), at)
  }

  // The election: rank k plans at its slot if no lower rank did.
  const ranking = plannerRanking(world, round, input.members)
  let planner = -1; let rank = -1; let sentAt = 0
  for (let k = 0; k < Math.min(ranking.length, 4); k++) {
    const p = ranking[k]!
    const slot = planDeadlineMs(round, k, timing) + (k > 0 ? CLAIM_CHECK_MS : 0)
    if (k === 0 && input.killPlanner === true) {
      net.crashedAt[p] = Math.min(net.crashedAt[p]!, slot + 1)
      out.takeovers.push({ role: 'planner', killed: world.hostIds[p]!, killedAt: slot + 1 })
    }
    if (!net.up(p, slot)) continue
    const plan = input.planning.plan(input.members.filter(h => net.up(h, slot)), round)
    const ready = ledger.work(p, slot, plan.cpuMs)
    if (!net.up(p, ready)) continue
    planner = p; rank = k; sentAt = ready
    out.moves = plan.moves.length
    break
  }
  if (planner < 0) return finishRound(input, out)
  out.planner = world.hostIds[planner]; out.plannerRank = rank; out.roles[planner] = ROLE_PLANNER
  const takeover = out.takeovers.find(t => t.role === 'planner')
  if (takeover !== undefined && rank > 0) { takeover.by = world.hostIds[planner]; takeover.doneAt = sentAt }

  const plan = input.planning.plan(input.members.filter(h => net.up(h, planDeadlineMs(round, rank, timing))), round)
  const got = new Float64Array(n)
  net.flood(planner, all, planBytes(plan.moves.length, 0), sentAt, got)
  out.acceptedAt[planner] = sentAt
  for (let h = 0; h < n; h++) {
    if (h === planner || got[h] === LOST) continue
    if (checkPlan(ranking, planner, rank, round, got[h]!, timing) === 'ok') out.acceptedAt[h] = got[h]!
  }

  // Votes: every host that accepted floods its vote; a host acts once a majority reached it.
  const majority = Math.floor(n / 2) + 1
  const count = new Int32Array(n)
  const majorityAt = new Float64Array(n).fill(NaN)
  const voters = [...all].filter(h => !Number.isNaN(out.acceptedAt[h]!)).sort((a, b) => out.acceptedAt[a]! - out.acceptedAt[b]!)
  const at = new Float64Array(n)
  for (const v of voters) {
    net.flood(v, all, VOTE_B, out.acceptedAt[v]!, at)
    if (++count[v]! === majority) majorityAt[v] = out.acceptedAt[v]!
    for (let h = 0; h < n; h++) {
      if (h === v || at[h] === LOST) continue
      if (++count[h]! === majority) majorityAt[h] = at[h]!
    }
  }

  // Moves: the source's and target's events and states, after the plan is final.
  const final = planDeadlineMs(round, rank + 1, timing)
  if (voters.length >= majority) {
    for (const m of plan.moves) {
      for (let k = 0; k < FLOODS_PER_MOVE; k++) net.flood(k < 4 ? m.from : m.to, all, k % 2 === 0 ? EVENT_B : stateBytes(world, m.from), final + 1000 * k)
      moveVm(world, m.vm, m.to)
      input.planning.moved(m.vm, round)
    }
  }
  const deadline = planDeadlineMs(round + 1, 0, timing)
  for (let h = 0; h < n; h++) if (net.up(h, deadline) && out.acceptedAt[h]! < deadline && majorityAt[h]! < deadline) out.agreeing++
  return finishRound(input, out)
}
