/**
 * A sim cluster whose agents run in child processes (agent-group.ts), a few
 * agents per process or one each, so they use every core and each is
 * measured on its own, as agents on separate hosts are. The cluster's files
 * come from prepareCluster; the first process starts the seed agents, the
 * others start once the seeds' addresses are known and dial them.
 *
 * What the agents observe arrives in batches through `onEvents`, ready for a
 * ClusterObserver's record().
 */
import { fork, type ChildProcess } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { AgentConfig } from '../../agent/config.ts'
import type { GroupReply, GroupRequest } from './agent-group.ts'
import { prepareCluster, simNodeOptions, type SimClusterSpec } from './cluster.ts'
import { defaultTiming } from '../../lib/rounds.ts'
import { ClusterObserver, type ObservedEvent } from './observe.ts'
import { addRelay, noRelay, type RelayTotals } from './relay-totals.ts'

const GROUP_SCRIPT = fileURLToPath(new URL('./agent-group.ts', import.meta.url))
const ANSWER_TIMEOUT_MS = 30_000
/** A stopping group gets this long to halt its agents and send its events. */
const STOP_TIMEOUT_MS = 60_000
/** Processes started at once: loading the agent's code costs each about a second of CPU. */
const PROCESS_WAVE = 4

export interface ProcessClusterSpec extends SimClusterSpec {
  /** Agents per process; default 1. */
  agentsPerProcess?: number
  /** Gets every agent's observed events as [host, event], in batches, a fraction of a second late. */
  onEvents?: (events: Array<[string, ObservedEvent]>) => void
  /** Called as agents come up: host, how many are up, how many in all. */
  onStartedRemote?: (host: string, started: number, total: number) => void
}

/** CPU, peak RSS and relay requests summed over the cluster's processes. */
export interface ClusterUsage { cpuMs: number, peakRssBytes: number, relay: RelayTotals }

export interface ProcessCluster {
  dir: string
  configs: Map<string, AgentConfig>
  processes: number
  /** The fewest members any agent sees live. */
  minLive (): Promise<number>
  /** The most members any agent sees live (with the tiered dissemination only aggregators see them all). */
  maxLive (): Promise<number>
  /** CPU and peak RSS of all its processes so far. */
  usage (): Promise<ClusterUsage>
  /** Halts every agent; their last events have gone to onEvents when it resolves. */
  stop (): Promise<void>
  /** stop() if not done, kills what is left, removes the directory. */
  close (): Promise<void>
}

/** One child process and its pending questions (one of each kind at a time). */
class Group {
  readonly child: ChildProcess
  readonly hosts: string[]
  private readonly waiting = new Map<GroupReply['type'], (r: GroupReply) => void>()
  readonly started: Array<{ host: string, addresses: string[] }> = []
  readonly failed: Array<{ host: string, error: string }> = []
  private onProgress: () => void = () => {}

  constructor (hosts: string[], onEvents: (events: Array<[string, ObservedEvent]>) => void) {
    this.hosts = hosts
    // Node runs the TypeScript itself (type stripping: the code base keeps to
    // erasable syntax).
    this.child = fork(GROUP_SCRIPT, [], { execArgv: ['--disable-warning=ExperimentalWarning'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' })
    this.child.on('message', (r: GroupReply) => {
      if (r.type === 'started') this.started.push({ host: r.host, addresses: r.addresses })
      else if (r.type === 'start-failed') this.failed.push({ host: r.host, error: r.error })
      else if (r.type === 'events') onEvents(r.events)
      else this.waiting.get(r.type)?.(r)
      this.onProgress()
    })
  }

  /** Resolves when every host of the group started or failed; rejects if the process exits first. */
  async whenStarted (signal?: AbortSignal): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const check = (): void => { if (this.started.length + this.failed.length >= this.hosts.length) resolve() }
      this.onProgress = check
      this.child.once('exit', code => reject(new Error(`agent process exited (${code}) while starting`)))
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true })
      check()
    })
  }

  async ask<T extends GroupReply['type']> (req: GroupRequest, answer: T, timeoutMs = ANSWER_TIMEOUT_MS): Promise<Extract<GroupReply, { type: T }>> {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.waiting.delete(answer); reject(new Error(`no '${answer}' answer in ${timeoutMs} ms`)) }, timeoutMs)
      this.waiting.set(answer, r => { clearTimeout(timer); this.waiting.delete(answer); resolve(r as Extract<GroupReply, { type: T }>) })
      this.child.send(req)
    })
  }
}

export async function startProcessCluster (spec: ProcessClusterSpec): Promise<ProcessCluster> {
  const prepared = await prepareCluster(spec)
  const { dir, configs, hosts } = prepared
  const per = Math.max(1, spec.agentsPerProcess ?? 1)
  const nSeeds = Math.max(1, Math.min(spec.seeds ?? 1, hosts.length, per))
  const node = simNodeOptions(spec)
  const batchSize = Math.max(1, spec.batchSize ?? per)
  const groups: Group[] = []
  let stopping: Promise<void> | undefined
  let up = 0
  const onEvents = spec.onEvents ?? (() => {})

  const cluster: ProcessCluster = {
    dir,
    configs,
    get processes () { return groups.length },
    async minLive () {
      const answers = await Promise.all(groups.map(async g => await g.ask({ type: 'live' }, 'live')))
      return Math.min(...answers.map(a => a.min))
    },
    async maxLive () {
      const answers = await Promise.all(groups.map(async g => await g.ask({ type: 'live' }, 'live')))
      return Math.max(...answers.map(a => a.max))
    },
    async usage () {
      const all = await Promise.all(groups.map(async g => await g.ask({ type: 'usage' }, 'usage')))
      return { cpuMs: all.reduce((sum, u) => sum + u.cpuMs, 0), peakRssBytes: all.reduce((sum, u) => sum + u.peakRssBytes, 0), relay: all.reduce((sum, u) => addRelay(sum, u.relay), noRelay()) }
    },
    async stop () {
      stopping ??= Promise.all(groups.map(async g => await g.ask({ type: 'stop' }, 'stopped', STOP_TIMEOUT_MS).catch(() => undefined))).then(() => undefined)
      await stopping
    },
    async close () {
      await cluster.stop().catch(() => undefined)
      for (const g of groups) if (g.child.exitCode === null) g.child.kill('SIGKILL')
      await rm(dir, { recursive: true, force: true })
    }
  }

  const launch = async (part: string[], bootstrap: string[]): Promise<Group> => {
    const g = new Group(part, onEvents)
    groups.push(g)
    g.child.send({ type: 'start', configs: part.map(h => configs.get(h)!), bootstrap, node, batchSize } satisfies GroupRequest)
    await g.whenStarted(spec.signal)
    if (g.failed.length > 0) throw new Error(`agents did not start: ${g.failed.map(f => `${f.host}: ${f.error}`).join('; ')}`)
    for (const s of g.started) spec.onStartedRemote?.(s.host, ++up, hosts.length)
    return g
  }

  try {
    // The seeds start in the first process, one at a time there, then everyone dials them.
    const first = hosts.slice(0, per)
    const seedGroup = await launch(first.slice(0, nSeeds), [])
    const seeds = seedGroup.started.flatMap(s => s.addresses)
    const rest = [first.slice(nSeeds), ...chunks(hosts.slice(per), per)].filter(p => p.length > 0)
    for (let i = 0; i < rest.length; i += PROCESS_WAVE) {
      spec.signal?.throwIfAborted()
      await Promise.all(rest.slice(i, i + PROCESS_WAVE).map(async part => await launch(part, seeds)))
    }
  } catch (err) {
    await cluster.close().catch(() => undefined)
    throw err
  }
  return cluster
}

/** A process cluster whose agents' events feed an observer, made before any event can arrive (all agents share one period). */
export async function startObservedProcessCluster (spec: ProcessClusterSpec): Promise<{ cluster: ProcessCluster, observer: ClusterObserver }> {
  const observer = new ClusterObserver(defaultTiming(spec.roundPeriodMs))
  observer.watchRemote(spec.hosts.length)
  const cluster = await startProcessCluster({ ...spec, onEvents: events => { for (const [host, e] of events) observer.record(host, e) } })
  return { cluster, observer }
}

function chunks<T> (xs: T[], n: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n))
  return out
}
