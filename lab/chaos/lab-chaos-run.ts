/**
 * Chaos in the lab: the faults of lab-faults.ts against real agents in
 * network namespaces, while the traffic shifts through the scenario's phases
 * in a loop (follow-the-sun keeps VMs moving, so migrations are there to be
 * cut short). Checked like the simulation (sim-chaos-run.ts): after every round
 * the VMs' places are read from the kernel, the agents' rounds from their
 * APIs and logs (round-book.ts), and lib/invariants.ts judges them; after
 * every restart the agent must have reconciled with its hypervisor.
 *
 * Three loops share the run until its end: phases, faults (one at a time:
 * inject, hold, heal, check the reconciliation, a quiet gap), and the
 * per-round check. `lab chaos-run`, the soak and the lab test call this.
 */
import type { RoundsResponse } from '../../agent/api/types.ts'
import { checkInvariants, pingPongs, splitRounds, type AgentRound, type Violation } from '../../lib/invariants.ts'
import { Random } from '../../lib/random.ts'
import { defaultTiming, roundAt, roundStartMs } from '../../lib/rounds.ts'
import { DEFAULT_LAB_PREFIX, defaultLabDir } from '../net/names.ts'
import { labHosts } from '../net/topology.ts'
import { sleep } from '../run/scenario-events.ts'
import type { Scenario } from '../run/scenario.ts'
import { PING_PONG_ROUNDS } from './sim-chaos-run.ts'
import { startLabCluster, type LabCluster } from './lab-cluster.ts'
import { checkReconciled, DEFAULT_LAB_FAULTS, heal, inject, LAB_FAULT_KINDS, MigrationWatch, type FaultContext, type Injected, type LabFaultKind } from './lab-faults.ts'
import { firstAgreedRound, judgePartition, type PartitionVerdict } from './partition.ts'
import type { StatusResponse } from '../../agent/api/types.ts'
import { placedVms } from './lab-truth.ts'
import { LogTail, RoundBook } from './round-book.ts'
import { definedOnly } from '../../lib/defined.ts'

/** Rounds a fault lasts before it is healed. */
export const DEFAULT_HOLD_ROUNDS = 2
/** Quiet rounds between one fault's recovery and the next fault. */
export const DEFAULT_GAP_ROUNDS = 2
/**
 * Rounds a partition lasts: the sides notice it within two rounds (silence
 * counts after 1.5), so six leave several rounds to judge.
 */
export const DEFAULT_SPLIT_HOLD_ROUNDS = 6
/** After a partition heals, every agent must accept one plan within this many rounds. */
export const AGREE_AFTER_HEAL_ROUNDS = 6
/** The per-round check reads the world this far into the round: after planning, while moves run. */
const CHECK_AT = 0.75
/** /rounds reaches this far back each round; the book keeps what earlier reads saw. */
const ROUNDS_PER_READ = 8

export interface LabChaosOptions {
  scenario: Scenario
  /** Chaos time after the agents are up; the run stops by itself then. */
  durationSec: number
  /** Faults in this order, cycled (default: every kind). */
  faults?: readonly LabFaultKind[]
  /** Inject the fault list once, then stop (tests); else cycle until the end. */
  once?: boolean
  holdRounds?: number
  /** Rounds a partition is held (default DEFAULT_SPLIT_HOLD_ROUNDS). */
  splitHoldRounds?: number
  gapRounds?: number
  /** The traffic moves on to the next phase (in a loop) this often; default: the scenario's own phase spacing. */
  phaseSec?: number
  seed?: number
  prefix?: string
  dir?: string
  print?: (line: string) => void
  signal?: AbortSignal
}

export interface FaultRecord { t: number, kind: LabFaultKind | 'phase' | 'heal' | 'skipped' | 'reconciled' | 'not reconciled', what: string }

export interface LabChaosReport {
  rounds: number
  faults: Record<LabFaultKind, number>
  restarts: number
  /** Faults that could not be injected in time (no migration started, no planner found). */
  skipped: Record<LabFaultKind, number>
  violations: Violation[]
  splitRounds: number[]
  splitDetails: string[]
  pingPongs: number
  /** Each ping-pong as `vm in round N` (rounds counted from the run's first). */
  pingPongDetails: string[]
  moves: number
  failedMoves: number
  roundsWithPlan: number
  phaseChanges: number
  /** One per restart: did the agent reconcile with its hypervisor (and the cut-short migration's VM end on one host)? */
  reconciliations: Array<{ kind: LabFaultKind, ok: boolean, detail: string }>
  /** One per partition: the sides, what each agent saw live at its end, the verdict, and the rounds to agree after the heal (undefined: not within AGREE_AFTER_HEAL_ROUNDS). */
  partitions: PartitionRecord[]
  log: FaultRecord[]
  /** Agents that exited when nobody killed them. */
  crashes: string[]
  ranSec: number
}

export interface PartitionRecord extends PartitionVerdict {
  kind: LabFaultKind
  sides: string[][]
  /** host -> live members its /status reported just before the heal (its own side's size shows the split took). */
  liveSeen: Record<string, number>
  agreedAfterRounds: number | undefined
}

export async function runLabChaos (opts: LabChaosOptions): Promise<LabChaosReport> {
  const scenario = opts.scenario
  const prefix = opts.prefix ?? DEFAULT_LAB_PREFIX
  const dir = opts.dir ?? defaultLabDir(prefix)
  const print = opts.print ?? (() => {})
  const timing = defaultTiming(scenario.roundPeriodMs)
  const rng = new Random(opts.seed ?? 1)
  const kinds = opts.faults ?? DEFAULT_LAB_FAULTS
  const holdRounds = opts.holdRounds ?? DEFAULT_HOLD_ROUNDS
  const gapRounds = opts.gapRounds ?? DEFAULT_GAP_ROUNDS
  const phaseSec = opts.phaseSec ?? (scenario.phases.length > 1 ? scenario.phases[1]!.atSec - scenario.phases[0]!.atSec : Infinity)
  const crashes: string[] = []
  const cluster: LabCluster = await startLabCluster(scenario, {
    prefix, dir, print,
    onUnexpectedExit: (host, code) => { crashes.push(`${host} exited by itself (code ${String(code)})`); print(`agent ${host} exited unexpectedly (code ${String(code)})`) },
    ...definedOnly({ signal: opts.signal })
  })

  const counts = Object.fromEntries(LAB_FAULT_KINDS.map(k => [k, 0])) as Record<LabFaultKind, number>
  const skipped = Object.fromEntries(LAB_FAULT_KINDS.map(k => [k, 0])) as Record<LabFaultKind, number>
  const reconciliations: LabChaosReport['reconciliations'] = []
  const partitions: PartitionRecord[] = []
  const log: FaultRecord[] = []
  const violations: Violation[] = []
  const book = new RoundBook(timing)
  const tails = new Map([...cluster.agents.keys()].map(h => [h, new LogTail(cluster.logFile(h))]))
  const vmIds = new Set(cluster.records.map(r => r.id))
  const capacity = new Map(labHosts(scenario.topology).map(h => [h.id, { memoryMiB: h.memoryMiB, vcpus: h.vcpus }]))
  const t0 = Date.now()
  const at = (): number => (Date.now() - t0) / 1000
  const note = (kind: FaultRecord['kind'], what: string): void => { log.push({ t: at(), kind, what }); print(`[${at().toFixed(1).padStart(6)}s] ${kind}: ${what}`) }
  const firstRound = roundAt(t0, timing) + 1
  const deadline = t0 + opts.durationSec * 1000
  // Ends the loops: at the deadline, on the caller's abort, or when a once-through fault list is done.
  const stop = new AbortController()
  const stopTimer = setTimeout(() => stop.abort(), Math.max(0, deadline - Date.now()))
  const onAbort = (): void => stop.abort()
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  const watch = new MigrationWatch(cluster)
  const ctx: FaultContext = { cluster, timing, rng, watch, migrationWaitMs: Math.max(phaseSec * 1500, timing.periodMs * 6), baseRound: firstRound, signal: stop.signal }
  // Heals and reconciliation checks finish even after the end is called: only the caller's abort cuts them.
  const healCtx: FaultContext = { ...ctx, ...definedOnly({ signal: opts.signal }) }
  const sleepRounds = async (n: number): Promise<void> => sleep(n * timing.periodMs, stop.signal)

  // One read at a time: the round loop and a partition's judge both read,
  // and two reads of a log tail at once would both take the same new lines.
  let reading: Promise<void> = Promise.resolve()
  const readAgents = async (): Promise<void> => {
    const next = reading.then(readAgentsNow)
    reading = next.catch(() => undefined)
    await next
  }
  const readAgentsNow = async (): Promise<void> => {
    for (const [host, tail] of tails) for (const line of await tail.lines()) book.addLogLine(host, line)
    await Promise.all([...cluster.apis].filter(([h]) => cluster.agents.get(h)?.running === true).map(async ([, api]) => {
      const res = await api.get<RoundsResponse>(`/rounds?limit=${ROUNDS_PER_READ}`).catch(() => undefined)
      if (res !== undefined) book.addApi(res)
    }))
  }
  const windowRounds = (upTo: number): AgentRound[] => book.rounds().filter(r => r.round >= firstRound && r.round <= upTo)
  const check = async (round: number): Promise<void> => {
    await readAgents()
    const placed = await placedVms(cluster.state, cluster.records)
    for (const v of checkInvariants({ vms: vmIds, placed, capacity, rounds: windowRounds(round) })) {
      if (violations.some(x => x.detail === v.detail)) continue
      violations.push(v)
      print(`VIOLATION (invariant ${v.invariant}): ${v.detail}`)
    }
  }

  let phaseChanges = 0
  const phases = async (): Promise<void> => {
    let i = 0
    await cluster.setPhase(0)
    note('phase', `traffic: phase "${scenario.phases[0]!.name}"`)
    if (!Number.isFinite(phaseSec)) return
    while (!stop.signal.aborted) {
      await sleep(phaseSec * 1000, stop.signal)
      if (stop.signal.aborted) break
      i = (i + 1) % scenario.phases.length
      await cluster.setPhase(i)
      phaseChanges++
      note('phase', `traffic: phase "${scenario.phases[i]!.name}"`)
    }
  }

  let restarts = 0
  const faults = async (): Promise<void> => {
    for (let i = 0; !stop.signal.aborted; i++) {
      if (opts.once === true && i >= kinds.length) break
      await sleepRounds(gapRounds)
      if (stop.signal.aborted) break
      const kind = kinds[i % kinds.length]!
      const f = await inject(ctx, kind).catch((err: unknown) => { note('skipped', `${kind}: ${(err as Error).message}`); return undefined })
      if (f === undefined) {
        if (stop.signal.aborted) break
        skipped[kind]++
        note('skipped', `${kind}: could not be injected in time`)
        continue
      }
      counts[kind]++
      note(kind, f.what)
      await sleepRounds(f.split !== undefined ? opts.splitHoldRounds ?? DEFAULT_SPLIT_HOLD_ROUNDS : holdRounds)
      const liveSeen = f.split !== undefined ? await liveCounts() : {}
      const healedAt = Date.now()
      note('heal', await heal(healCtx, f))
      if (f.split !== undefined) {
        const p = await judgeSplit(f, f.split, liveSeen, healedAt)
        partitions.push(p)
        note(p.minorityPlans.length + p.minorityActs.length === 0 && p.agreedAfterRounds !== undefined ? 'reconciled' : 'not reconciled',
          `sides ${p.sides.map(s => s.join(',')).join(' | ')}; live seen ${JSON.stringify(p.liveSeen)}; minority plans ${p.minorityPlans.length}, acts ${p.minorityActs.length}; majority agreed in ${p.majorityRounds} of ${p.judged[1] - p.judged[0] + 1} judged rounds; all agreed ${p.agreedAfterRounds === undefined ? 'not' : `${p.agreedAfterRounds} rounds`} after the heal`)
        continue
      }
      if (f.victim === undefined) continue
      restarts++
      const r = await checkReconciled(healCtx, f, healedAt)
      reconciliations.push({ kind, ...r })
      note(r.ok ? 'reconciled' : 'not reconciled', r.detail)
    }
    stop.abort()
  }

  /** What each running agent's /status says of live members: a side of a partition sees its own. */
  const liveCounts = async (): Promise<Record<string, number>> => {
    const out: Record<string, number> = {}
    await Promise.all([...cluster.apis].filter(([h]) => cluster.agents.get(h)?.running === true).map(async ([h, api]) => {
      const s = await api.get<StatusResponse>('/status').catch(() => undefined)
      if (s !== undefined) out[h] = s.members.live
    }))
    return out
  }

  /**
   * After a partition's heal: waits (healCtx's signal only) for a round in
   * which every agent accepts one plan, then judges the split's rounds.
   */
  const judgeSplit = async (f: Injected, split: NonNullable<Injected['split']>, liveSeen: Record<string, number>, healedAt: number): Promise<PartitionRecord> => {
    const members = [...cluster.agents.keys()].sort()
    const cutRound = roundAt(split.atMs, timing)
    const healRound = roundAt(healedAt, timing)
    const after = healRound + 1
    let agreed: number | undefined
    for (let r = after; r <= after + AGREE_AFTER_HEAL_ROUNDS && agreed === undefined && opts.signal?.aborted !== true; r++) {
      await sleep(roundStartMs(r + 1, timing) + timing.periodMs * CHECK_AT - Date.now(), opts.signal)
      await readAgents()
      agreed = firstAgreedRound(book.rounds(), members, after, r)
    }
    const judgedFrom = roundAt(split.atMs + 2 * timing.periodMs, timing) + 1
    const verdict = judgePartition(book.rounds(), { sides: split.sides, members }, [cutRound + 1, healRound], [judgedFrom, healRound - 1])
    const rel = (r: number): number => r - firstRound + 1
    return {
      kind: f.kind,
      sides: split.sides,
      liveSeen,
      ...verdict,
      judged: [rel(verdict.judged[0]), rel(verdict.judged[1])],
      agreedAfterRounds: agreed === undefined ? undefined : agreed - healRound
    }
  }

  const rounds = async (): Promise<void> => {
    for (let r = firstRound; !stop.signal.aborted; r++) {
      await sleep(roundStartMs(r, timing) + timing.periodMs * CHECK_AT - Date.now(), stop.signal)
      if (stop.signal.aborted) break
      await check(r)
      const up = [...cluster.agents.values()].filter(a => a.running).length
      const rec = windowRounds(r).filter(x => x.round === r)
      const planners = [...new Set(rec.filter(x => x.acted && x.planner !== undefined).map(x => x.planner))]
      print(`[${at().toFixed(1).padStart(6)}s] round ${r - firstRound + 1}: ${up}/${cluster.agents.size} agents up, ${rec.filter(x => x.acted).length} acting on ${planners.join(' and ') || 'no'} plan, ${book.movesDone()} moves so far, ${violations.length} violations`)
    }
  }

  let lastRound = firstRound
  try {
    await Promise.all([phases(), faults(), rounds()])
    lastRound = roundAt(Date.now(), timing)
    // Moves of the last rounds finish and are logged; then one last look.
    await sleep(timing.periodMs, opts.signal)
    await check(lastRound)
  } finally {
    clearTimeout(stopTimer)
    opts.signal?.removeEventListener('abort', onAbort)
    watch.stop()
    await cluster.close()
  }
  const window = windowRounds(lastRound)
  const split = splitRounds(window)
  const pongs = pingPongs(window, PING_PONG_ROUNDS)
  return {
    rounds: lastRound - firstRound + 1,
    faults: counts,
    restarts,
    skipped,
    violations,
    splitRounds: split,
    splitDetails: split.map(r => `round ${r - firstRound + 1}: ` + window.filter(x => x.round === r && x.acted).map(x => `${x.host}:${x.planner ?? '?'}`).join(' ')),
    pingPongs: pongs.length,
    pingPongDetails: pongs.map(p => `${p.vm} in round ${p.round - firstRound + 1}: ` + window.filter(x => x.round > p.round - PING_PONG_ROUNDS - 1 && x.round <= p.round).flatMap(x => x.moves.filter(m => m.ok && m.vm === p.vm).map(m => `${m.from}->${m.to} (round ${x.round - firstRound + 1}, plan by ${x.planner ?? '?'})`)).join(', ')),
    moves: window.reduce((s, r) => s + r.moves.filter(m => m.ok).length, 0),
    failedMoves: window.reduce((s, r) => s + r.moves.filter(m => !m.ok).length, 0),
    roundsWithPlan: new Set(window.filter(r => r.planner !== undefined).map(r => r.round)).size,
    phaseChanges,
    reconciliations,
    partitions,
    log,
    crashes,
    ranSec: at()
  }
}
