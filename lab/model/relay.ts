/**
 * The tiered dissemination as the agents run it (docs/design.md §9.8), where
 * tiered.ts is the §9.1-9.5 design. Every message a host authors (digest,
 * state, vote, event) goes, signed, to its DC's aggregator on a kept stream
 * and is answered; an aggregator passes what its hosts reported to the
 * first live aggregator of every other DC in batches (items wait a sixtieth
 * of the period to travel together, votes 50 ms, a plan not at all), so
 * every aggregator holds the whole view and checks every signature. The
 * planner is one of the aggregators; its plan goes to the other aggregators
 * first, then each passes it to its hosts as a notice. Once an aggregator
 * counts a majority of votes it sends the plan and the votes to its movers.
 * One host in three audits an aggregator of another DC each round. Every
 * exchange is two frames, the request and its answer, as the agents' relay
 * counters count them. Reports, batches and votes overlap in time, so the
 * round runs on a timeline (timeline.ts).
 */
import type { RelayKind } from '../../lib/wire/relay.ts'
import { planDeadlineMs, publishOffsetMs, roundStartMs, spreadOffsetMs } from '../../lib/rounds.ts'
import { RELAY_IDLE_CPU_MS_PER_S, RELAY_ROUND_WORK_MS, SIGN_MS, VERIFY_CACHED_MS } from './constants.ts'
import { LOST } from './network.ts'
import { checkPlan } from './plan-check.ts'
import { AGGREGATOR_EPOCH_ROUNDS, aggregatorRankings, plannerRanking } from './roles.ts'
import { ROLE_AGGREGATOR, ROLE_PLANNER, newOutcome, finishRound, noRelayCounts, type RoundInput, type RoundOutcome } from './round.ts'
import { EVENT_B, SIGNATURE_B, VOTE_B, digestBytes, planBytes, stateBytes } from './sizes.ts'
import { Timeline } from './timeline.ts'
import { CLAIM_CHECK_MS, STATE_REFRESH_ROUNDS } from './today.ts'
import { moveVm } from './world.ts'
import { KILL_AGGREGATOR_AT, MIGRATE_FRAMES_PER_MOVE } from './tiered.ts'
// The agents' own rules, not copies: these modules load nothing of libp2p.
import { AUDIT_EVERY } from '../../agent/cluster/tiered/auditor.ts'
import { voteDelayMs } from '../../agent/cluster/tiered/vote-delay.ts'
import { VOTE_BATCH_MS, batchDelayMs } from '../../agent/cluster/tiered/relay.ts'

/** An answer frame: `{ i, a: { ok, body: { accepted, dropped, fresh } } }` in CBOR. */
export const ANSWER_B = 40
/** A relay message's own fields around its items (kind, epoch), and each item's (its signature, the CBOR around it). */
export const RELAY_MESSAGE_B = 24
export const ITEM_B = SIGNATURE_B + 8
/** A host that gets no answer from its aggregator tries the next after this share of the period (reporter.ts: a quarter). */
export const REPORT_TIMEOUT_SHARE = 0.25
/** After a move's start, when its end and both hosts' new states go out. */
const MOVE_MS = 1000
/** Planner ranks tried before the round is given up (as tiered.ts). */
const PLANNER_RANKS = 4

type ItemKind = 'view' | 'vote' | 'plan'
/** One signed item at an aggregator: who wrote it, its size, what it is. */
interface Item { author: number, bytes: number, kind: ItemKind }
interface OpenBatch { due: number, items: Item[] }

export function runRelayRound (input: RoundInput): RoundOutcome {
  const { world, net, ledger, timing, round } = input
  const out = newOutcome(input)
  const sent = out.relaySent = noRelayCounts()
  const n = world.hostIds.length
  const P = timing.periodMs
  const t0 = roundStartMs(round, timing)
  const batchMs = batchDelayMs(timing)
  const epochStart = round % AGGREGATOR_EPOCH_ROUNDS === 0
  const time = new Timeline()
  for (let h = 0; h < n; h++) if (net.up(h, t0)) ledger.background(h, RELAY_IDLE_CPU_MS_PER_S * P / 1000 + RELAY_ROUND_WORK_MS)
  const rankings = aggregatorRankings(world, round, input.members)
  if (input.killAggregator === true && rankings[0]?.[0] !== undefined) {
    const a = rankings[0][0]
    net.crashedAt[a] = Math.min(net.crashedAt[a]!, t0 + KILL_AGGREGATOR_AT * P)
    out.takeovers.push({ role: 'aggregator', killed: world.hostIds[a]!, killedAt: t0 + KILL_AGGREGATOR_AT * P })
  }

  /**
   * One request and its answer. Each half reaches its receiver's CPU queue
   * at its arrival, on the timeline; `then` runs when the receiver has
   * handled the request (LOST: it was down, and the sender learns so).
   */
  const exchange = (kind: RelayKind, from: number, to: number, bytes: number, at: number, receiverMs: number, then?: (got: number) => void): void => {
    sent[kind]++
    const arrive = net.send(from, to, bytes, at)
    if (arrive === LOST) return
    time.at(arrive, () => {
      const got = net.receive(to, bytes, arrive, { receiverMs })
      if (got === LOST) { if (then !== undefined) time.at(net.detectDead(arrive), () => { then(LOST) }); return }
      time.at(got, () => {
        const back = net.send(to, from, ANSWER_B, got)
        if (back !== LOST) time.at(back, () => { net.receive(from, ANSWER_B, back) })
        then?.(got)
      })
    })
  }
  const itemsBytes = (items: readonly Item[]): number => RELAY_MESSAGE_B + items.reduce((s, it) => s + it.bytes + ITEM_B, 0)

  // Aggregators: who reported to each (its clients), what each holds, its open batch, the votes it counted.
  const aggOf = new Int32Array(n).fill(-1)
  const clients = new Map<number, number[]>()
  const held: Array<Map<number, number>> = Array.from({ length: n }, () => new Map())
  const open = new Map<number, OpenBatch>()
  const counted = new Map<number, number>()
  const isAggregator = (h: number): boolean => clients.has(h)
  /** The first live host of every other DC's aggregator ranking (relay.ts flush: whether or not anyone reported to it yet). */
  const peersOf = (a: number, at: number): number[] => {
    const out: number[] = []
    rankings.forEach((ranking, d) => {
      if (d === world.hostDc[a]) return
      const b = ranking.find(x => net.up(x, at))
      if (b !== undefined) out.push(b)
    })
    return out
  }

  /**
   * One report from host h at `at`: to its aggregator, or the next rank when
   * one does not answer (a dead peer's kept stream breaks, or its dial is
   * refused, well before the request's timeout).
   */
  const report = (h: number, items: Item[], at: number, fromRank = 0): void => {
    const ranking = rankings[world.hostDc[h]!] ?? []
    const a = ranking[fromRank]
    if (a === undefined || !net.up(h, at)) return
    const took = (got: number): void => {
      if (aggOf[h] !== a) {
        aggOf[h] = a
        const list = clients.get(a)
        if (list === undefined) clients.set(a, [h])
        else list.push(h)
      }
      for (const it of items) take(a, it, got)
    }
    if (a === h) { took(at); return }
    exchange('report', h, a, itemsBytes(items), at, items.length * VERIFY_CACHED_MS, got => {
      if (got !== LOST) took(got)
      else report(h, items, Math.min(at + REPORT_TIMEOUT_SHARE * P, net.detectDead(at)), fromRank + 1)
    })
  }

  /** Aggregator `a` has `item` at `at` (from one of its hosts, or its own): applied, then queued for the other DCs. */
  const take = (a: number, item: Item, at: number): void => {
    let b = open.get(a)
    if (b === undefined) { b = { due: Infinity, items: [] }; open.set(a, b) }
    b.items.push(item)
    // A plan leaves for the other DCs at once, before this aggregator's own
    // hosts hear of it (relay.ts flushNow); other items when the batch is due,
    // the earliest any of its items must leave (relay.ts schedule).
    if (item.kind === 'plan') flush(a, at)
    else {
      const due = at + (item.kind === 'vote' ? VOTE_BATCH_MS : batchMs)
      if (due < b.due) { b.due = due; time.at(due, () => { if (open.get(a)?.due === due) flush(a, due) }) }
    }
    apply(a, item, at)
  }

  const flush = (a: number, at: number): void => {
    const b = open.get(a)
    open.delete(a)
    if (b === undefined || !net.up(a, at)) return
    for (const peer of peersOf(a, at)) {
      const votes = b.items.filter(it => it.kind === 'vote').length
      exchange('batch', a, peer, itemsBytes(b.items), at, b.items.length * VERIFY_CACHED_MS, got => {
        if (got === LOST) return
        for (const it of b.items) if (it.kind !== 'vote') apply(peer, it, got)
        if (votes > 0) countVotes(peer, votes, got)
      })
    }
  }

  /** What an aggregator does with an item it holds: the view keeps it; a plan goes on to its hosts; a vote is counted. */
  const apply = (a: number, item: Item, at: number): void => {
    if (item.kind === 'view') held[a]!.set(item.author, at)
    else if (item.kind === 'plan') planAt(a, at)
    else countVotes(a, 1, at)
  }

  /**
   * An aggregator died: its hosts' streams to it break (DETECT_DEAD_MS
   * later) and each sends its state to the next rank at once, so that the
   * standby passes it this round's plan (reporter.ts `lost`).
   */
  const failOver = (dead: number): void => {
    time.at(net.detectDead(net.crashedAt[dead]!), () => {
      const rank = rankings[world.hostDc[dead]!]!.indexOf(dead)
      const now = net.detectDead(net.crashedAt[dead]!)
      for (const h of clients.get(dead) ?? []) {
        if (h !== dead && aggOf[h] === dead) report(h, [{ author: h, bytes: stateBytes(world, h), kind: 'view' }], now, rank + 1)
      }
    })
  }
  for (let h = 0; h < n; h++) if (net.crashedAt[h]! >= t0 && net.crashedAt[h]! < t0 + P) failOver(h)

  // Audits at the round's start: one host in three asks the aggregator of another DC.
  if (rankings.length > 1) {
    for (let h = 0; h < n; h++) {
      if (!net.up(h, t0) || rankings[world.hostDc[h]!]?.[0] === h) continue
      if (round % AUDIT_EVERY !== spreadOffsetMs(`${world.hostIds[h]}/audit`, AUDIT_EVERY)) continue
      const others = rankings.filter((_, d) => d !== world.hostDc[h])
      const target = others[round % others.length]?.find(a => net.up(a, t0))
      if (target !== undefined) time.at(t0, () => { exchange('audit', h, target, RELAY_MESSAGE_B, t0, 0) })
    }
  }

  // Reports: each host's digest (with its state on a refresh or an epoch's first round) at its offset.
  for (let h = 0; h < n; h++) {
    const at = t0 + publishOffsetMs(world.hostIds[h]!, round, timing)
    const withState = epochStart || (h + round) % STATE_REFRESH_ROUNDS === 0
    const items: Item[] = [{ author: h, bytes: digestBytes(world, h), kind: 'view' }, ...(withState ? [{ author: h, bytes: stateBytes(world, h), kind: 'view' as const }] : [])]
    time.at(at, () => { if (net.up(h, at)) report(h, items, at) })
  }

  // Planning: each DC's first live aggregator is a candidate; rank k plans at its slot if no lower rank did.
  let ranking: number[] = []
  let planner = -1; let rank = -1
  let moves: Array<{ vm: string, from: number, to: number }> = []
  const movers = new Set<number>()
  const majority = Math.floor(n / 2) + 1
  const votesCast: number[] = []
  time.at(t0 + timing.planAtMs - 1, () => {
    const candidates = rankings.map(r => r.find(a => isAggregator(a) && net.up(a, t0 + timing.planAtMs))).filter((a): a is number => a !== undefined)
    ranking = plannerRanking(world, round, candidates)
    for (let k = 0; k < Math.min(ranking.length, PLANNER_RANKS); k++) {
      const p = ranking[k]!
      const slot = planDeadlineMs(round, k, timing) + (k > 0 ? CLAIM_CHECK_MS : 0)
      if (k === 0 && input.killPlanner === true) {
        net.crashedAt[p] = Math.min(net.crashedAt[p]!, slot - 1)
        failOver(p)
        out.takeovers.push({ role: 'planner', killed: world.hostIds[p]!, killedAt: slot - 1 })
      }
      time.at(slot, () => { if (planner < 0) tryPlan(p, k, slot) })
    }
  })
  const tryPlan = (p: number, k: number, slot: number): void => {
    if (!net.up(p, slot)) return
    const reporting = [...held[p]!].filter(([, at]) => at <= slot).map(([h]) => h).sort((a, b) => a - b)
    const plan = input.planning.plan(reporting, round)
    const done = ledger.work(p, slot, plan.cpuMs + SIGN_MS)
    if (!net.up(p, done)) return
    planner = p; rank = k
    moves = plan.moves
    for (const m of moves) { movers.add(m.from); movers.add(m.to) }
    out.moves = moves.length
    out.planner = world.hostIds[p]; out.plannerRank = k; out.roles[p] = ROLE_PLANNER
    const pt = out.takeovers.find(t => t.role === 'planner')
    if (pt !== undefined && k > 0) { pt.by = world.hostIds[p]; pt.doneAt = done }
    time.at(done, () => { take(p, { author: p, bytes: planBytes(moves.length, 0), kind: 'plan' }, done) })
    // Moves, once the plan is final and passed: source and target talk
    // directly; the move's events and new states go the reports' way.
    const final = planDeadlineMs(round, k + 1, timing)
    time.at(final, () => { if (votesCast.length >= majority) move(final) })
  }
  const move = (final: number): void => {
    for (const m of moves) {
      for (let k = 0; k < MIGRATE_FRAMES_PER_MOVE; k++) net.direct(k % 2 === 0 ? m.from : m.to, k % 2 === 0 ? m.to : m.from, EVENT_B, final + k)
      report(m.from, [{ author: m.from, bytes: EVENT_B, kind: 'view' }], final)
      time.at(final + MOVE_MS, () => {
        report(m.from, [{ author: m.from, bytes: EVENT_B, kind: 'view' }, { author: m.from, bytes: stateBytes(world, m.from), kind: 'view' }], final + MOVE_MS)
        report(m.to, [{ author: m.to, bytes: stateBytes(world, m.to), kind: 'view' }], final + MOVE_MS)
      })
      moveVm(world, m.vm, m.to)
      input.planning.moved(m.vm, round)
    }
  }

  /** Aggregator `a` has the plan at `at`: it checks it, then tells each of its hosts. */
  const planAt = (a: number, at: number): void => {
    if (!accept(a, at)) return
    vote(a, at)
    for (const h of clients.get(a) ?? []) {
      if (h === a) continue
      exchange('notice', a, h, RELAY_MESSAGE_B + planBytes(moves.length, 0) + ITEM_B, at, VERIFY_CACHED_MS, got => {
        if (accept(h, got)) vote(h, got + voteDelayMs(world.hostIds[h]!, round, timing))
      })
    }
  }
  const accept = (h: number, at: number): boolean => {
    if (at === LOST || checkPlan(ranking, planner, rank, round, at, timing) !== 'ok') return false
    if (Number.isNaN(out.acceptedAt[h]!)) out.acceptedAt[h] = at
    return true
  }
  const vote = (h: number, at: number): void => {
    time.at(at, () => {
      if (!net.up(h, at)) return
      votesCast.push(h)
      report(h, [{ author: h, bytes: VOTE_B, kind: 'vote' }], at)
    })
  }
  /** Votes counted at aggregator `a`; at a majority it sends its movers the plan and the votes. */
  const countVotes = (a: number, votes: number, at: number): void => {
    const before = counted.get(a) ?? 0
    counted.set(a, before + votes)
    if (before >= majority || before + votes < majority) return
    for (const h of clients.get(a) ?? []) {
      if (h !== a && movers.has(h)) exchange('notice', a, h, RELAY_MESSAGE_B + planBytes(moves.length, 0) + majority * (VOTE_B + ITEM_B), at, majority * VERIFY_CACHED_MS)
    }
  }

  time.run()
  for (const a of clients.keys()) if (out.roles[a] !== ROLE_PLANNER) out.roles[a] = ROLE_AGGREGATOR
  for (const t of out.takeovers) {
    if (t.role !== 'aggregator') continue
    // The killed aggregator's standby took over once it held the report of a host that failed over to it.
    const standby = rankings[0]?.[1]
    const first = Math.min(...(clients.get(standby ?? -1) ?? []).filter(h => h !== standby).map(h => held[standby!]!.get(h) ?? Infinity))
    if (standby !== undefined && Number.isFinite(first)) { t.by = world.hostIds[standby]; t.doneAt = first }
  }
  if (planner < 0) return finishRound(input, out)

  const deadline = planDeadlineMs(round + 1, 0, timing)
  const passed = votesCast.length >= majority
  for (let h = 0; h < n; h++) if (passed && out.acceptedAt[h]! < deadline && net.up(h, deadline)) out.agreeing++

  return finishRound(input, out)
}
