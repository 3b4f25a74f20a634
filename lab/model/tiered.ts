/**
 * The two-tier protocol of docs/design.md §9: each host sends one signed
 * report a round to its DC's aggregator over a direct stream and gets back
 * a receipt (the signed DC root and its inclusion proof); the aggregator
 * hands the planner one bundle per DC; the planner sends its plan to each
 * DC's aggregators, which pass it to their hosts; votes go back the same
 * way, tallied per DC; the planner's certificate (every DC's tally and
 * root) comes down the same way. No host floods anything. Phases run in
 * time order across DCs, so each host's CPU queue sees its work in order.
 */
import { planDeadlineMs, roundStartMs, spreadOffsetMs } from '../../lib/rounds.ts'
import { auditBundle, receiptFor, receiptHolds, seal, signReport, tamper, type SealedDc, type SignedReport } from './audit.ts'
import { CONNECT_CPU_MS, HASH_MS_PER_KB, IDLE_CPU_MS_PER_S, SIGN_MS, VERIFY_CACHED_MS } from './constants.ts'
import { LOST } from './network.ts'
import { checkPlan } from './plan-check.ts'
import { AGGREGATOR_EPOCH_ROUNDS, AGGREGATOR_RANKS, aggregatorRankings, plannerRanking } from './roles.ts'
import { HEADER_B, VOTE_B, certificateBytes, planBytes, receiptBytes, reportBytes, tallyBytes } from './sizes.ts'
import { CLAIM_CHECK_MS } from './today.ts'
import { ROLE_AGGREGATOR, ROLE_PLANNER, newOutcome, finishRound, type RoundInput, type RoundOutcome } from './round.ts'
import { moveVm } from './world.ts'

/** Shares of the round (docs/design.md §9.3): reports spread over the first 20%. */
export const REPORT_SPREAD = 0.2
/** When aggregator rank k seals its DC (rank 0, then the standbys for hosts that failed over). */
export const SEAL_AT = [0.22, 0.3, 0.35] as const
/** A host without a valid receipt by then reports to the next aggregator. */
export const RECEIPT_DEADLINE = 0.26
/** When the round's aggregator of the first DC dies with --kill-aggregator: halfway through the reports. */
export const KILL_AGGREGATOR_AT = 0.1
/** Migrate protocol frames per move between source and target (reserve, its answer, commit, its answer). */
export const MIGRATE_FRAMES_PER_MOVE = 4

export interface TieredOptions {
  /** Share of hosts whose digest changed beyond the threshold this round (the others send its hash). */
  changeRate: number
}

interface Attached { agg: number, rank: number, report: SignedReport, arrivedAt: number }

export function runTieredRound (input: RoundInput, opts: TieredOptions): RoundOutcome {
  const { world, net, ledger, timing, round } = input
  const out = newOutcome(input)
  const n = world.hostIds.length
  const P = timing.periodMs
  const t0 = roundStartMs(round, timing)
  const epochStart = round % AGGREGATOR_EPOCH_ROUNDS === 0
  for (let h = 0; h < n; h++) if (net.up(h, t0)) ledger.background(h, IDLE_CPU_MS_PER_S * P / 1000)
  const aggs = aggregatorRankings(world, round, input.members)
  const ranking = plannerRanking(world, round, input.members)
  const planner0 = ranking[0]
  if (input.killAggregator === true && aggs[0]?.[0] !== undefined) {
    const a = aggs[0][0]
    net.crashedAt[a] = Math.min(net.crashedAt[a]!, t0 + KILL_AGGREGATOR_AT * P)
    out.takeovers.push({ role: 'aggregator', killed: world.hostIds[a]!, killedAt: t0 + KILL_AGGREGATOR_AT * P })
  }

  // 1. Reports: each host to the first aggregator of its DC that answers.
  const attached = new Map<number, Attached>()
  const pools: Array<Array<Map<number, Attached>>> = aggs.map(r => r.map(() => new Map()))
  // A new aggregator (an epoch's first round) has no earlier digests: every host sends its whole digest then.
  const changed = (): boolean => epochStart || net.rng.next() < opts.changeRate
  const sendReport = (h: number, fromRank: number, at: number, report: SignedReport): void => {
    const d = world.hostDc[h]!
    for (let k = fromRank; k < aggs[d]!.length; k++) {
      const a = aggs[d]![k]!
      if (at >= t0 + SEAL_AT[k]! * P) continue
      let arrived = at
      if (a !== h) {
        if (epochStart || k > 0) { ledger.work(h, at, CONNECT_CPU_MS); ledger.background(a, CONNECT_CPU_MS) }
        arrived = net.direct(h, a, reportBytes(world, h, report.body.endsWith('full')), at, { senderMs: SIGN_MS, receiverMs: VERIFY_CACHED_MS })
        if (arrived === LOST) { at = net.detectDead(at); continue }
      }
      const entry = { agg: a, rank: k, report, arrivedAt: arrived }
      attached.set(h, entry)
      pools[d]![k]!.set(h, entry)
      return
    }
  }
  const reportOrder = [...Array(n).keys()]
    .map(h => ({ h, at: t0 + spreadOffsetMs(`${world.hostIds[h]}/report/${round}`, REPORT_SPREAD * P) }))
    .sort((a, b) => a.at - b.at)
  for (const { h, at } of reportOrder) {
    if (!net.up(h, at)) continue
    sendReport(h, 0, at, signReport(world.hostIds[h]!, round, `${world.hostIds[h]}:${world.vmsOf[h]!.join(',')}:${changed() ? 'full' : 'hash'}`))
  }

  // 2. Sealing, rank by rank: receipts to the hosts, the bundle to the planner.
  const bundles: Array<{ dc: number, agg: number, rank: number, sealed: SealedDc, bytes: number, at: number }> = []
  const hostRoot = new Map<number, Uint8Array>()
  for (let k = 0; k < AGGREGATOR_RANKS; k++) {
    for (let d = 0; d < aggs.length; d++) {
      const a = aggs[d]![k]
      const pool = pools[d]![k]
      if (a === undefined || pool === undefined || pool.size === 0) continue
      const sealAt = t0 + SEAL_AT[k]! * P
      if (!net.up(a, sealAt)) {
        // Its hosts learn it is gone by their receipt deadline (or sooner, from the dead stream) and go to the next rank.
        for (const [h, e] of pool) sendReport(h, k + 1, Math.min(t0 + RECEIPT_DEADLINE * P, net.detectDead(net.crashedAt[a]!)), e.report)
        continue
      }
      const reports = [...pool.values()].map(e => e.report)
      const victim = [...pool.keys()].find(h => h !== a && h !== planner0)
      const { toHosts, toPlanner } = input.attack !== undefined && d === 0 && k === 0 && victim !== undefined
        ? tamper(input.attack, reports, world.hostIds[victim]!, round)
        : { toHosts: reports, toPlanner: reports }
      const sealedHosts = seal(toHosts)
      const sealedPlanner = toPlanner === toHosts ? sealedHosts : seal(toPlanner)
      const bytes = reports.reduce((s, r, i) => s + reportBytes(world, [...pool.keys()][i]!, r.body.endsWith('full')), 0)
      const sealed = ledger.work(a, sealAt, 2 * bytes / 1024 * HASH_MS_PER_KB + SIGN_MS)
      out.roles[a] = ROLE_AGGREGATOR
      for (const [h, e] of pool) {
        hostRoot.set(h, sealedHosts.root)
        const got = h === a ? sealed : net.direct(a, h, receiptBytes(pool.size), sealed)
        if (got === LOST) { if (net.up(h, sealed)) sendReport(h, k + 1, Math.min(t0 + RECEIPT_DEADLINE * P, net.detectDead(sealed)), e.report); continue }
        if (!receiptHolds(e.report, receiptFor(sealedHosts, world.hostIds[h]!))) {
          const kind = sealedHosts.reports.some(r => r.host === world.hostIds[h]) ? 'altered' : 'omitted'
          out.accusations.push({ kind, by: world.hostIds[a]!, host: world.hostIds[h]!, detectedBy: 'host' })
          sendReport(h, k + 1, got, e.report)
        }
      }
      const bundleAt = planner0 === undefined || planner0 === a ? sealed : net.direct(a, planner0, HEADER_B + bytes, sealed, { receiverMs: toPlanner.length * VERIFY_CACHED_MS })
      bundles.push({ dc: d, agg: a, rank: k, sealed: sealedPlanner, bytes, at: bundleAt })
      if (k > 0) {
        const t = out.takeovers.find(x => x.role === 'aggregator' && world.hostIds.indexOf(x.killed) === aggs[d]![0])
        if (t !== undefined && t.doneAt === undefined) { t.by = world.hostIds[a]; t.doneAt = bundleAt }
      }
    }
  }

  // 3. Planning: rank k at its slot, if no lower rank planned; a taker-over pulls the bundles first.
  let planner = -1; let rank = -1; let sentAt = 0
  let reportsUsed: SignedReport[] = []
  for (let k = 0; k < Math.min(ranking.length, 4); k++) {
    const p = ranking[k]!
    const slot = planDeadlineMs(round, k, timing) + (k > 0 ? CLAIM_CHECK_MS : 0)
    if (k === 0 && input.killPlanner === true) {
      net.crashedAt[p] = Math.min(net.crashedAt[p]!, slot - 1)
      out.takeovers.push({ role: 'planner', killed: world.hostIds[p]!, killedAt: slot - 1 })
    }
    if (!net.up(p, slot)) continue
    let ready = slot
    if (k > 0) {
      for (const b of bundles) {
        if (b.agg === p || !net.up(b.agg, slot)) continue
        const asked = net.direct(p, b.agg, HEADER_B, slot)
        if (asked === LOST) continue
        const got = net.direct(b.agg, p, HEADER_B + b.bytes, asked, { receiverMs: b.sealed.reports.length * VERIFY_CACHED_MS })
        if (got !== LOST) ready = Math.max(ready, got)
      }
    }
    reportsUsed = []
    const audited = new Set<string>()
    for (const b of bundles) {
      if (k === 0 ? b.at === LOST || b.at > slot : !net.up(b.agg, slot)) continue
      const { good, accusations } = auditBundle(b.sealed, round, world.hostIds[b.agg]!)
      for (const a of accusations) if (!audited.has(`${a.kind}/${a.host}`)) { audited.add(`${a.kind}/${a.host}`); out.accusations.push(a) }
      reportsUsed.push(...good)
    }
    const index = new Map(world.hostIds.map((id, i) => [id, i]))
    const reporting = [...new Set(reportsUsed.map(r => index.get(r.host)!))].sort((a, b) => a - b)
    const plan = input.planning.plan(reporting, round)
    const done = ledger.work(p, ready, plan.cpuMs)
    if (!net.up(p, done)) continue
    planner = p; rank = k; sentAt = done
    out.moves = plan.moves.length
    break
  }
  if (planner < 0) return finishRound(input, out)
  out.planner = world.hostIds[planner]; out.plannerRank = rank; out.roles[planner] = ROLE_PLANNER
  const pt = out.takeovers.find(t => t.role === 'planner')
  if (pt !== undefined && rank > 0) { pt.by = world.hostIds[planner]; pt.doneAt = sentAt }
  const plan = input.planning.plan([...new Set(reportsUsed.map(r => world.hostIds.indexOf(r.host)))].sort((a, b) => a - b), round)
  out.acceptedAt[planner] = sentAt

  // 4. The plan down: planner -> each DC's sealing aggregators -> their hosts; votes back up.
  const sealers = bundles.filter(b => net.up(b.agg, sentAt))
  const voteCount = new Map<number, number>()
  const tallyAt: number[] = []
  const hostsOf = (b: typeof bundles[number]): number[] => [...pools[b.dc]![b.rank]!.keys()].filter(h => attached.get(h)?.agg === b.agg)
  // Sent to every aggregator first, then passed down: each step in time order across DCs.
  const planAt = sealers.map(b => b.agg === planner ? sentAt : net.direct(planner, b.agg, planBytes(plan.moves.length, aggs.length), sentAt))
  const tallies: Array<{ b: typeof bundles[number], at: number }> = []
  sealers.forEach((b, i) => {
    const got = planAt[i]!
    if (got === LOST || checkPlan(ranking, planner, rank, round, got, timing) !== 'ok') return
    if (Number.isNaN(out.acceptedAt[b.agg]!)) out.acceptedAt[b.agg] = got
    // Tell the next planner ranks a plan is out, so they do not take over.
    for (const q of ranking.slice(rank + 1, rank + 3)) if (q !== b.agg) net.direct(b.agg, q, HEADER_B, got)
    const down = hostsOf(b).map(h => ({ h, at: h === b.agg ? got : net.direct(b.agg, h, planBytes(plan.moves.length, aggs.length), got) }))
    let votes = 0; let last = got
    for (const { h, at } of down) {
      if (at === LOST || checkPlan(ranking, planner, rank, round, at, timing) !== 'ok') continue
      if (h !== planner) out.acceptedAt[h] = at
      const back = h === b.agg ? at : net.direct(h, b.agg, VOTE_B, at, { senderMs: SIGN_MS, receiverMs: VERIFY_CACHED_MS })
      if (back === LOST) continue
      votes++; last = Math.max(last, back)
    }
    voteCount.set(b.dc, (voteCount.get(b.dc) ?? 0) + votes)
    tallies.push({ b, at: last })
  })
  for (const { b, at } of tallies.sort((x, y) => x.at - y.at)) {
    const tally = b.agg === planner ? at : net.direct(b.agg, planner, tallyBytes(world.dcHosts[b.dc]!.length), at)
    if (tally !== LOST) tallyAt.push(tally)
  }

  // 5. The certificate: every DC's tally and root, back down the same way.
  const votes = [...voteCount.values()].reduce((s, v) => s + v, 0)
  const majority = Math.floor(n / 2) + 1
  const deadline = planDeadlineMs(round + 1, 0, timing)
  const certAt = Math.max(sentAt, ...tallyAt)
  const plannerRoot = new Map(bundles.map(b => [`${b.dc}/${b.rank}`, b.sealed.root]))
  const certTo = sealers.map(b => b.agg === planner ? certAt : net.direct(planner, b.agg, certificateBytes(world), certAt))
  sealers.forEach((b, i) => {
    const got = certTo[i]!
    if (got === LOST) return
    for (const h of hostsOf(b)) {
      if (Number.isNaN(out.acceptedAt[h]!)) continue
      const at = h === b.agg ? got : net.direct(b.agg, h, certificateBytes(world), got)
      if (at === LOST) continue
      const mine = hostRoot.get(h); const theirs = plannerRoot.get(`${b.dc}/${b.rank}`)
      if (mine !== undefined && theirs !== undefined && Buffer.compare(mine, theirs) !== 0) out.accusations.push({ kind: 'equivocation', by: world.hostIds[b.agg]!, host: world.hostIds[h]!, detectedBy: 'host' })
      if (votes >= majority && at < deadline && out.acceptedAt[h]! < deadline && net.up(h, deadline)) out.agreeing++
    }
  })

  // 6. Moves: source and target talk directly (docs/design.md §6); their news rides in the next reports.
  if (votes >= majority) {
    const final = planDeadlineMs(round, rank + 1, timing)
    for (const m of plan.moves) {
      for (let k = 0; k < MIGRATE_FRAMES_PER_MOVE; k++) net.direct(k % 2 === 0 ? m.from : m.to, k % 2 === 0 ? m.to : m.from, HEADER_B, final + k)
      moveVm(world, m.vm, m.to)
      input.planning.moved(m.vm, round)
    }
  }
  return finishRound(input, out)
}
