/**
 * `lab run`: one scenario, start to finish, on real namespaces with real
 * agents.
 *
 *   1. lab up: router, hosts, client networks, shaping; the VMs on their hosts
 *   2. the agents' files (keys, PSK, members, topology, configs); the agents
 *      start in their host namespaces and we wait until all say so
 *   3. the VMs' traffic processes start; the router's counters are sampled
 *      every second; time 0: phase 1's rates go live
 *   4. phases and chaos events at their times; progress from the agents'
 *      log lines (plans, acceptances, migrations) and the router's counters
 *   5. the end: placement checked against the kernel, everything stopped,
 *      the lab taken down (also on errors and on abort: Ctrl-C)
 *
 * The report is written from the returned RunResult (lab/report).
 */
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { defaultTiming, roundAt, roundStartMs } from '../../lib/rounds.ts'
import { readVmRecords, type LabState, type LabVmRecord } from '../drivers/lab-host/state.ts'
import { RouterCounters, type RouterSample } from '../net/counters.ts'
import { Lab } from '../net/lab.ts'
import { defaultLabDir, DEFAULT_LAB_PREFIX } from '../net/names.ts'
import type { ShapedLink } from '../net/shaping.ts'
import { labHosts } from '../net/topology.ts'
import { writeRates, type RatesFile } from '../vm/rates.ts'
import { TrafficProcess } from '../vm/traffic-process.ts'
import { AgentProcess } from './agents.ts'
import { runEvent, sleep, type ChaosContext } from './scenario-events.ts'
import { writeClusterFiles, type AgentSpec } from './cluster-files.ts'
import type { AgentLogEvent } from './log-events.ts'
import { WanMonitor } from './monitor.ts'
import { checkPlacement, locateVms, type PlacementCheck } from './placement.ts'
import { Progress } from './progress.ts'
import type { Scenario, ScenarioEvent } from './scenario.ts'
import { loadSeries, phaseSummaries, type LoadPoint, type PhaseSummary } from './summary.ts'
import { definedOnly } from '../../lib/defined.ts'

/** Agents on two busy cores take a few seconds each to load and join. */
export const AGENTS_READY_TIMEOUT_MS = 90_000

export interface RunOptions {
  prefix?: string
  dir?: string
  /** Shortens or lengthens the run (phases and events keep their times). */
  durationSec?: number
  /** Progress lines; default: none. */
  print?: (line: string) => void
  /** Aborting ends the run early; the lab still goes down and the result covers what ran. */
  signal?: AbortSignal
}

export interface Migration {
  /** Seconds since time 0 (negative: before the traffic started). */
  t: number
  atMs: number
  vm: string
  from: string
  to: string
  fromDc: string
  toDc: string
  ok: boolean
  totalMs: number
  downtimeMs?: number
  error?: string
}

export interface RoundPlan {
  t: number
  atMs: number
  round: number
  planner: string
  rank: number
  algorithm: string
  costBefore: number
  costAfter: number
  moves: string[]
  /** Agents that logged accepting it. */
  acceptedBy: number
}

export interface PhasePlacement {
  phase: string
  t: number
  hostOf: Record<string, string>
}

export interface RunResult {
  scenario: Scenario
  prefix: string
  dir: string
  startedAt: string
  /** Wall-clock ms at time 0. */
  t0Ms: number
  /** Seconds the traffic ran. */
  ranSec: number
  aborted: boolean
  links: Array<ShapedLink & { name: string }>
  samples: RouterSample[]
  series: LoadPoint[]
  plans: RoundPlan[]
  migrations: Migration[]
  events: Array<{ t: number, what: string }>
  placements: PhasePlacement[]
  initial: Record<string, string>
  final: PlacementCheck
  phases: PhaseSummary[]
  hostDc: Record<string, string>
  agentErrors: string[]
}

export async function runScenario (scenario: Scenario, opts: RunOptions = {}): Promise<RunResult> {
  const prefix = opts.prefix ?? DEFAULT_LAB_PREFIX
  const dir = opts.dir ?? defaultLabDir(prefix)
  const print = opts.print ?? (() => {})
  const durationSec = opts.durationSec ?? scenario.durationSec
  const topo = scenario.topology
  const hostDc = Object.fromEntries(labHosts(topo).map(h => [h.id, h.dc]))
  const lab = Lab.fromTopology(topo, { prefix, dir })
  const agents = new Map<string, AgentProcess>()
  const traffic: TrafficProcess[] = []
  const plans = new Map<number, RoundPlan>()
  const accepted = new Map<number, number>()
  const migrations: Migration[] = []
  const events: Array<{ t: number, what: string }> = []
  const placements: PhasePlacement[] = []
  const agentErrors: string[] = []
  let t0Ms = Date.now()
  const at = (ms: number): number => (ms - t0Ms) / 1000
  const timing = defaultTiming(scenario.roundPeriodMs)
  const progress = new Progress(print, () => at(Date.now()))
  progress.reset(undefined, roundAt(Date.now(), timing))
  const startedAt = new Date().toISOString()
  let monitor: WanMonitor | undefined
  let aborted = false

  const onAgentEvent = (e: AgentLogEvent): void => {
    if (e.kind === 'planned') {
      const p: RoundPlan = { t: at(e.atMs), atMs: e.atMs, round: e.round, planner: e.host, rank: e.rank, algorithm: e.algorithm, costBefore: e.costBefore, costAfter: e.costAfter, moves: e.moves, acceptedBy: accepted.get(e.round) ?? 0 }
      // A takeover's plan (higher rank) does not replace a lower rank's.
      const prev = plans.get(e.round)
      if (prev === undefined || e.rank < prev.rank) plans.set(e.round, p)
      progress.planned(p)
    } else if (e.kind === 'accepted') {
      accepted.set(e.round, (accepted.get(e.round) ?? 0) + 1)
      const p = plans.get(e.round)
      if (p !== undefined) p.acceptedBy++
    } else if (e.kind === 'migrated') {
      const m: Migration = { t: at(e.atMs), atMs: e.atMs, vm: e.vm, from: e.from, to: e.to, fromDc: hostDc[e.from] ?? '?', toDc: hostDc[e.to] ?? '?', ok: e.ok, totalMs: e.totalMs }
      if (e.downtimeMs !== undefined) m.downtimeMs = e.downtimeMs
      if (e.error !== undefined) m.error = e.error
      migrations.push(m)
      progress.migrated(m)
    } else if (e.kind === 'error') {
      agentErrors.push(`${e.host}: ${e.message}`)
    }
  }
  const onAgentExit = (host: string, code: number | null, expected: boolean): void => {
    if (!expected) { progress.line(`agent ${host} exited unexpectedly (code ${String(code)}), see ${join(dir, 'logs', `${host}.log`)}`); agentErrors.push(`${host}: exited with code ${String(code)}`) }
  }

  let final: PlacementCheck = { ok: false, problems: ['the run did not get that far'], hostOf: {}, used: {} }
  let initial: Record<string, string> = {}
  let records: LabVmRecord[] = []
  let ranSec = 0
  try {
    await rm(join(dir, 'logs'), { recursive: true, force: true })
    await mkdir(join(dir, 'logs'), { recursive: true })
    print(`lab ${prefix}: ${topo.dcs.length} DCs, ${labHosts(topo).length} hosts, ${scenario.vms.length} VMs, ${topo.externals.length} client networks; state in ${dir}`)
    const state: LabState = await lab.start()
    await lab.addVms(scenario.vms)
    records = await readVmRecords(dir)
    initial = checkPlacement(await locateVms(state, records), records, labHosts(topo)).hostOf

    const specs: AgentSpec[] = await writeClusterFiles({ dir, state, topology: topo, roundPeriodMs: scenario.roundPeriodMs, planner: scenario.planner })
    const started = new Set<string>()
    for (const s of specs) {
      const a = new AgentProcess(s, join(dir, 'logs', `${s.host}.log`), (e) => { if (e.kind === 'started') started.add(e.host); onAgentEvent(e) }, onAgentExit)
      agents.set(s.host, a)
      a.start()
    }
    print(`starting ${specs.length} agents (round ${scenario.roundPeriodMs / 1000} s, planner ${String(scenario.planner.name ?? 'default')})...`)
    const readyBy = Date.now() + AGENTS_READY_TIMEOUT_MS
    while (started.size < specs.length) {
      if (opts.signal?.aborted === true) throw new Error('aborted')
      const dead = [...agents.values()].find(a => !a.running)
      if (dead !== undefined) throw new Error(`the agent of ${dead.spec.host} did not start; see ${join(dir, 'logs', `${dead.spec.host}.log`)}`)
      if (Date.now() > readyBy) throw new Error(`agents not started after ${AGENTS_READY_TIMEOUT_MS / 1000} s: ${specs.filter(s => !started.has(s.host)).map(s => s.host).join(', ')}`)
      await sleep(100, opts.signal)
    }

    const ratesFile = join(dir, 'rates.json')
    const endpoints: Record<string, string> = {}
    for (const r of records) endpoints[r.id] = r.addresses[0]!
    for (const e of topo.externals) endpoints[e.id] = lab.externalAddress(e.id)
    const ratesOf = (i: number): RatesFile => ({ version: 1, endpoints, flows: scenario.phases[i]!.flows })
    await writeRates(ratesFile, { version: 1, endpoints, flows: [] })
    await rm(join(dir, 'stats'), { recursive: true, force: true })
    await mkdir(join(dir, 'stats'), { recursive: true })
    const guests = [...records.map(r => ({ ns: r.ns, id: r.id })), ...topo.externals.map(e => ({ ns: lab.externalNs(e.id), id: e.id }))]
    for (const g of guests) traffic.push(new TrafficProcess({ ns: g.ns, id: g.id, ratesFile, statsFile: join(dir, 'stats', `${g.id}.json`), logFile: join(dir, 'logs', `traffic-${g.id}.log`) }))

    const links = lab.shapedLinks()
    monitor = new WanMonitor(new RouterCounters(state.routerNs, lab.bridges(), links), (s) => progress.sample(s, links))
    await monitor.start()
    // The timeline starts after a round's plan slots, so the first plan that
    // sees a phase's traffic comes a round later and the load before it is
    // measured over a round or more. Started at any moment, a plan could
    // follow the traffic by two seconds, leaving one sample before it.
    const planned = (round: number): number => roundStartMs(round, timing) + timing.planAtMs + timing.takeoverMs
    let startRound = roundAt(Date.now(), timing)
    if (planned(startRound) < Date.now()) startRound++
    await sleep(planned(startRound) - Date.now(), opts.signal)
    t0Ms = Date.now()
    const baseRound = roundAt(t0Ms, timing)
    progress.reset(monitor.samples[monitor.samples.length - 1], baseRound)

    // The timeline: phase changes and events, in order; a placement snapshot before each phase ends.
    type Item = { atSec: number, kind: 'phase', index: number } | { atSec: number, kind: 'event', event: ScenarioEvent }
    const items: Item[] = [
      ...scenario.phases.map((p, index) => ({ atSec: p.atSec, kind: 'phase' as const, index })),
      ...scenario.events.filter(e => e.atSec < durationSec).map(event => ({ atSec: event.atSec, kind: 'event' as const, event }))
    ].filter(i => i.atSec < durationSec).sort((a, b) => a.atSec - b.atSec || (a.kind === 'phase' ? -1 : 1))
    const chaos: ChaosContext = { lab, agents, roundPeriodMs: scenario.roundPeriodMs, killed: new Set(), baseRound, ...definedOnly({ signal: opts.signal }) }
    let phase = -1
    const snapshot = async (): Promise<void> => {
      if (phase < 0) return
      const where = checkPlacement(await locateVms(state, records), records, labHosts(topo))
      placements.push({ phase: scenario.phases[phase]!.name, t: at(Date.now()), hostOf: where.hostOf })
    }
    for (const item of items) {
      await sleep(t0Ms + item.atSec * 1000 - Date.now(), opts.signal)
      if (opts.signal?.aborted === true) break
      if (item.kind === 'phase') {
        // Rates first, on time; the placement read right after is still the previous phase's end.
        await writeRates(ratesFile, ratesOf(item.index))
        await snapshot()
        phase = item.index
        const p = scenario.phases[item.index]!
        const what = `phase "${p.name}": ${p.flows.length} flows, ${(p.flows.reduce((s, f) => s + f.bps, 0) / 1e6).toFixed(1)} Mbit/s offered in all`
        events.push({ t: at(Date.now()), what })
        progress.line(what)
      } else {
        const what = await runEvent(chaos, item.event)
        events.push({ t: at(Date.now()), what })
        progress.line(`chaos: ${what}`)
      }
    }
    await sleep(t0Ms + durationSec * 1000 - Date.now(), opts.signal)
    aborted = opts.signal?.aborted === true
    ranSec = at(Date.now())
    await snapshot()
    final = checkPlacement(await locateVms(state, records), records, labHosts(topo))
  } finally {
    await monitor?.stop()
    await Promise.all([...agents.values()].map(async a => a.stop()))
    await Promise.all(traffic.map(async t => t.stop()))
    for (const a of agents.values()) a.close()
    await lab.stop()
  }
  const links = lab.shapedLinks().map(l => ({ ...l, name: `${topo.dcs[l.from]!.id}->${topo.dcs[l.to]!.id}` }))
  const samples = monitor?.samples ?? []
  const series = loadSeries(samples, links, t0Ms)
  const roundSec = scenario.roundPeriodMs / 1000
  // Times seen before time 0 was set were relative to the start; now that it is known, measure from it.
  for (const p of plans.values()) p.t = at(p.atMs)
  for (const m of migrations) m.t = at(m.atMs)
  return {
    scenario,
    prefix,
    dir,
    startedAt,
    t0Ms,
    ranSec,
    aborted,
    links,
    samples,
    series,
    plans: [...plans.values()].sort((a, b) => a.round - b.round),
    migrations,
    events,
    placements,
    initial,
    final,
    phases: phaseSummaries(series, scenario.phases.filter(p => p.atSec < Math.max(ranSec, 0.001)), ranSec, migrations.filter(m => m.ok).map(m => m.t), roundSec),
    hostDc,
    agentErrors
  }
}
