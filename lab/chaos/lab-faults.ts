/**
 * The faults of a lab chaos run, against real agents in their namespaces:
 *
 * - kill: kill -9 an agent;
 * - kill-planner: kill -9 the round's planner right after it is elected
 *   (at rank 0's planning time, named by a bystander's /status);
 * - kill-source / kill-target: kill -9 the source or the target of a
 *   migration as it starts (its source's /events says 'started');
 * - wan-down: drop everything routed into or out of a DC at the router
 *   (agents' gossip included), restored later;
 * - split-2-2 / split-3-1: partition the DCs at the router, two against
 *   two or three against one (each side keeps its own WAN links), healed
 *   later; judged by partition.ts (needs 4 DCs or more: the rest join the
 *   larger side).
 *
 * Every killed agent is started again after a while (a restart) and must
 * then reconcile with its hypervisor: its own /view lists exactly the VMs
 * whose vifs are in its namespace, every VM is on exactly one host and
 * wired (reachable) there, and every live agent places the VM of a
 * migration cut short on the host the kernel has it on.
 */
import type { StatusResponse, ViewResponse } from '../../agent/api/types.ts'
import type { Random } from '../../lib/random.ts'
import { planDeadlineMs, roundAt, roundStartMs, type RoundTiming } from '../../lib/rounds.ts'
import { sleep } from '../run/scenario-events.ts'
import { AGENTS_READY_TIMEOUT_MS } from '../run/runner.ts'
import type { LabCluster } from './lab-cluster.ts'
import { placedVms, wiringProblems } from './lab-truth.ts'

export const LAB_FAULT_KINDS = ['kill', 'kill-planner', 'kill-source', 'kill-target', 'wan-down', 'split-2-2', 'split-3-1'] as const
export type LabFaultKind = typeof LAB_FAULT_KINDS[number]
/** What a chaos run injects unless told: the partitions are held longer and run on their own (test/lab/partition.test.ts). */
export const DEFAULT_LAB_FAULTS: readonly LabFaultKind[] = ['kill', 'kill-planner', 'kill-source', 'kill-target', 'wan-down']

/** A kill lands up to this long after the migration's 'started' event, so it hits different steps of the move. */
export const MAX_KILL_DELAY_MS = 150
/** The round whose planner we aim at must leave this much time before its planning time. */
const MIN_LEAD_MS = 300
/** After a restart, the agents have this many rounds to agree with the kernel. */
export const RECONCILE_ROUNDS = 4
const RECONCILE_POLL_MS = 1_000

/** A migration as its source announced it. */
export interface StartedMigration { vm: string, from: string, to: string, atMs: number }

/** Waits for migrations to start, from every agent's /events stream. */
export class MigrationWatch {
  private waiters: Array<(m: StartedMigration) => void> = []
  private readonly stops: Array<() => void> = []
  started = 0

  constructor (cluster: LabCluster) {
    for (const api of cluster.apis.values()) {
      this.stops.push(api.follow('/events?types=migration', (r) => {
        if (r.type !== 'migration' || r.phase !== 'started') return
        this.started++
        const m: StartedMigration = { vm: String(r.vm), from: String(r.from), to: String(r.to), atMs: typeof r.atMs === 'number' ? r.atMs : Date.now() }
        const w = this.waiters
        this.waiters = []
        for (const f of w) f(m)
      }))
    }
  }

  /** The next migration to start, or undefined after `timeoutMs`. */
  async next (timeoutMs: number, signal?: AbortSignal): Promise<StartedMigration | undefined> {
    return await new Promise(resolve => {
      const done = (m: StartedMigration | undefined): void => { clearTimeout(t); signal?.removeEventListener('abort', abort); resolve(m) }
      const abort = (): void => { this.waiters = this.waiters.filter(w => w !== done); done(undefined) }
      const t = setTimeout(abort, timeoutMs)
      signal?.addEventListener('abort', abort, { once: true })
      this.waiters.push(done)
    })
  }

  stop (): void {
    for (const s of this.stops) s()
  }
}

export interface FaultContext {
  cluster: LabCluster
  timing: RoundTiming
  rng: Random
  watch: MigrationWatch
  /** How long a mid-migration fault waits for a migration to start. */
  migrationWaitMs: number
  /** Rounds are reported counted from this one (the first of the run). */
  baseRound: number
  signal?: AbortSignal
}

/** A fault as injected: what to heal, and what to check afterwards. */
export interface Injected {
  kind: LabFaultKind
  what: string
  /** The agent killed, if any. */
  victim?: string
  /** The DC cut off, if any. */
  dc?: string
  /** The migration a kill cut short, and where its vif was right after the kill. */
  migration?: StartedMigration & { vifAfterKill: string[] }
  /** A partition: the DCs and the hosts of each side, and when it began. */
  split?: { dcs: string[][], sides: string[][], atMs: number }
}

/** Injects one fault; undefined when it could not be (no migration started in time, nothing to kill). */
export async function inject (ctx: FaultContext, kind: LabFaultKind): Promise<Injected | undefined> {
  const { cluster, rng } = ctx
  const running = (): string[] => [...cluster.agents.values()].filter(a => a.running).map(a => a.spec.host).sort()
  switch (kind) {
    case 'kill': {
      const victim = rng.pick(running())
      if (victim === undefined) return undefined
      await cluster.agents.get(victim)!.kill()
      return { kind, victim, what: `kill -9 the agent of ${victim}` }
    }
    case 'kill-planner': {
      let round = roundAt(Date.now(), ctx.timing) + 1
      if (planDeadlineMs(round, 0, ctx.timing) - Date.now() < MIN_LEAD_MS) round++
      await sleep(planDeadlineMs(round, 0, ctx.timing) - Date.now(), ctx.signal)
      // Rank 0's planning time: the bystander names the planner it accepted, else the rank-0 candidate.
      for (let tries = 0; tries < 5; tries++) {
        const bystander = rng.pick(running())
        const status = await cluster.apis.get(bystander)!.get<StatusResponse>('/status').catch(() => undefined)
        const victim = status?.round === round ? status.planner.host : undefined
        if (victim === undefined || cluster.agents.get(victim)?.running !== true) { await sleep(50, ctx.signal); continue }
        await cluster.agents.get(victim)!.kill()
        const late = Date.now() - roundStartMs(round, ctx.timing)
        return { kind, victim, what: `kill -9 ${victim}, planner of round ${round - ctx.baseRound + 1} (${status!.planner.accepted ? 'its plan already accepted' : 'rank 0, plan not yet seen'} by ${bystander}), ${late} ms into the round` }
      }
      return undefined
    }
    case 'kill-source':
    case 'kill-target': {
      const m = await ctx.watch.next(ctx.migrationWaitMs, ctx.signal)
      if (m === undefined) return undefined
      const victim = kind === 'kill-source' ? m.from : m.to
      await sleep(rng.int(0, MAX_KILL_DELAY_MS), ctx.signal)
      await cluster.agents.get(victim)?.kill()
      const afterMs = Date.now() - m.atMs
      const rec = cluster.records.find(r => r.id === m.vm)
      const vifAfterKill = rec === undefined ? [] : (await placedVms(cluster.state, [rec])).map(p => p.host)
      return { kind, victim, migration: { ...m, vifAfterKill }, what: `kill -9 the ${kind === 'kill-source' ? 'source' : 'target'} ${victim} of ${m.vm} ${m.from} -> ${m.to} ${afterMs} ms after it started (its vif then on ${vifAfterKill.join(', ') || 'no host'})` }
    }
    case 'wan-down': {
      const dc = rng.pick(cluster.lab.dcs)
      await cluster.lab.setCut(dc, true)
      return { kind, dc, what: `${dc}'s WAN down at the router` }
    }
    case 'split-2-2':
    case 'split-3-1': {
      if (cluster.lab.dcs.length < 4) return undefined
      const dcs = rng.shuffle([...cluster.lab.dcs])
      const small = kind === 'split-2-2' ? 2 : 1
      const sidesDc = [dcs.slice(0, small), dcs.slice(small)]
      await cluster.lab.setPartition(sidesDc)
      const sides = sidesDc.map(side => cluster.lab.hosts.filter(h => side.includes(h.dc)).map(h => h.id).sort())
      return { kind, split: { dcs: sidesDc, sides, atMs: Date.now() }, what: `DCs split at the router: ${sidesDc.map(s => s.join('+')).join(' | ')} (hosts ${sides.map(s => s.join(',')).join(' | ')})` }
    }
  }
}

/** Undoes a fault: starts the killed agent again, or restores the DC's WAN. Returns what it did. */
export async function heal (ctx: FaultContext, f: Injected): Promise<string> {
  if (f.split !== undefined) {
    await ctx.cluster.lab.setPartition(undefined)
    return 'the split healed'
  }
  if (f.dc !== undefined) {
    await ctx.cluster.lab.setCut(f.dc, false)
    return `${f.dc}'s WAN restored`
  }
  if (f.victim !== undefined) {
    ctx.cluster.agents.get(f.victim)!.start()
    return `started the agent of ${f.victim} again`
  }
  return 'nothing to heal'
}

export interface Reconciled {
  ok: boolean
  detail: string
}

/**
 * After a restart: the agent came up, its own view of its VMs is what the
 * kernel has in its namespace, every VM is on exactly one host and wired
 * there, and a migration cut short left its VM where every live agent
 * places it.
 */
export async function checkReconciled (ctx: FaultContext, f: Injected, restartedAtMs: number): Promise<Reconciled> {
  const { cluster } = ctx
  const host = f.victim
  if (host === undefined) return { ok: true, detail: 'no restart' }
  const upBy = Date.now() + AGENTS_READY_TIMEOUT_MS
  while ((cluster.startedAt.get(host) ?? 0) < restartedAtMs) {
    if (Date.now() > upBy || ctx.signal?.aborted === true) return { ok: false, detail: `${host} did not start again` }
    if (cluster.agents.get(host)?.running !== true) return { ok: false, detail: `${host} exited after its restart` }
    await sleep(200, ctx.signal)
  }
  const until = Date.now() + RECONCILE_ROUNDS * ctx.timing.periodMs
  let last = ''
  for (;;) {
    const problems = await reconcileProblems(ctx, host, f.migration?.vm)
    if (problems.length === 0) return { ok: true, detail: `${host} reconciled; every VM on exactly one host and wired there${f.migration !== undefined ? `; every live agent places ${f.migration.vm} where the kernel has it` : ''}` }
    last = problems.join('; ')
    if (Date.now() > until || ctx.signal?.aborted === true) return { ok: false, detail: last }
    await sleep(RECONCILE_POLL_MS, ctx.signal)
  }
}

async function reconcileProblems (ctx: FaultContext, host: string, vm: string | undefined): Promise<string[]> {
  const { cluster } = ctx
  const placed = await placedVms(cluster.state, cluster.records)
  const problems: string[] = []
  const kernelHere = placed.filter(p => p.host === host).map(p => p.vm).sort()
  const own = await cluster.apis.get(host)!.get<ViewResponse>('/view').catch(() => undefined)
  const self = own?.members.find(m => m.self)
  if (self === undefined) problems.push(`${host}'s /view did not answer`)
  else if (self.vms.map(v => v.id).sort().join() !== kernelHere.join()) problems.push(`${host} reports ${self.vms.map(v => v.id).sort().join(',') || 'no VM'}, its namespace holds ${kernelHere.join(',') || 'none'}`)
  // Every VM on exactly one host and reachable there: a kill can cut short more than the move it aimed at.
  for (const rec of cluster.records) {
    const hosts = placed.filter(p => p.vm === rec.id).map(p => p.host)
    if (hosts.length !== 1) { problems.push(`${rec.id} runs on ${hosts.length} hosts (${hosts.join(', ')})`); continue }
    problems.push(...await wiringProblems(cluster.state, rec, hosts[0]!))
  }
  if (vm === undefined) return problems
  const at = placed.filter(p => p.vm === vm).map(p => p.host)
  if (at.length !== 1) return problems
  for (const [h, api] of cluster.apis) {
    if (cluster.agents.get(h)?.running !== true) continue
    const view = await api.get<ViewResponse>('/view').catch(() => undefined)
    if (view === undefined) { problems.push(`${h}'s /view did not answer`); continue }
    const holders = view.members.filter(m => m.vms.some(v => v.id === vm)).map(m => m.host)
    if (holders.length !== 1 || holders[0] !== at[0]) problems.push(`${h} places ${vm} on ${holders.join(' and ') || 'no host'}, the kernel on ${at[0]}`)
  }
  return problems
}
