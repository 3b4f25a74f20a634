/**
 * What a config reload (SIGHUP, `systemctl reload heliotrope`) may change
 * while the agent runs, decided field by field. No I/O: the daemon reads
 * the file and the topology (agent/daemon.ts), the Agent applies what this
 * module says is live (Agent.reload).
 *
 * Live is only what the running agent reads afresh each time it uses it:
 * the planner and safety sections (read by Controls at every plan, so the
 * next plan uses them), the log level (a cell every logger reads per line),
 * topologyFile when the file it names holds the same bytes (nothing
 * changes but the path), and the cluster keys in pskFile when they share a
 * key with the running ones (a rotation step: agent/net/keyring-protector.ts;
 * new connections take them, open ones keep theirs). Everything else was built into something at start
 * (the libp2p node, the member list, the drivers, the round timing, the
 * reservations, the API's socket) and needs a restart; the reload says so
 * and leaves the running value in place. A topology file with other bytes
 * is neither: it is staged, and runs once every member staged it
 * (docs/design.md §3.8, agent/cluster/topology-switch.ts).
 */
import type { AgentConfig } from './config.ts'

export const RELOAD_RESULTS = ['applied', 'staged', 'refused', 'restart-needed'] as const
/**
 * applied: every change took effect; staged: those did, and a new topology
 * is staged (it switches when every live member has staged it);
 * restart-needed: the live ones did (a topology is staged too), the others
 * wait for a restart; refused: nothing changed.
 */
export type ReloadResult = typeof RELOAD_RESULTS[number]

/** Sections whose every field is read at each plan (Controls.plan, Controls.check). */
const LIVE_SECTIONS = ['planner', 'safety'] as const

/** Why a field needs a restart, by top-level field; the default is START_ONLY. */
const START_ONLY = 'read once at start'
const WHY_RESTART: Readonly<Record<string, string>> = {
  cluster: 'names the topics and protocols the node joined at start',
  host: 'this host\'s identity in every message and in the member list',
  dc: 'gossiped in this host\'s state and used by the election from start',
  stateDir: 'the peer key, votes and controls are open there',
  listen: 'the libp2p node listens from start',
  announce: 'the libp2p node announces from start',
  bootstrap: 'dialled at start',
  pskFile: 'the new cluster keys share none with the running ones: this host could reach no member. Rotate in steps: add the new key after the old one on every host, then put it first, then remove the old one (docs/operations.md)',
  members: 'the allowlist and the member-list hash votes are counted by are fixed at start',
  observers: 'the allowlist is fixed at start',
  adminKey: 'the membership records held were checked against the key the agent started with',
  address: 'gossiped in this host\'s state, and the drivers migrate to it',
  capacity: 'gossiped in this host\'s state and held by the reservations from start',
  roundPeriodMs: 'every member must share the round timing',
  downAfterRounds: 'the view\'s liveness timeout is set at start',
  reservationTtlMs: 'the reservations book is built at start',
  migrationDeadlineMs: 'the migrations, reservations and ledger take it at start',
  collector: 'the collector driver is built at start',
  hypervisor: 'the hypervisor driver is built at start',
  ipColocationFactorWeight: 'a gossipsub parameter of the node',
  crowded: 'node tuning fixed at start',
  mode: 'every host runs the same mode: set it cluster-wide with `heliotrope cluster set mode MODE` (applies live; docs/operations.md, Cluster settings)',
  controlSocket: 'the control socket is opened at start',
  api: 'the API server listens from start',
  dissemination: 'every member must disseminate the same way',
  dhtServersPerDc: 'the DHT roles are chosen at start',
  logLevel: 'this agent was started without a settable log level',
  topologyFile: 'the topology\'s content changed, and with dissemination "tiered" a host that only reports holds no other member\'s state, so it cannot tell when every member has staged it: restart each host onto the new file'
}

export interface FieldChange {
  /** Dotted path in the config, e.g. "safety.maxInFlightPerHost". */
  field: string
  from: unknown
  to: unknown
}

export interface RestartChange extends FieldChange {
  why: string
}

export interface ReloadClassification {
  /** Changes the running agent takes now. */
  live: FieldChange[]
  /** Changes that wait for a restart (the running value stays). */
  restart: RestartChange[]
  /** A topology file with other bytes than the running one: staged, it runs once every member staged it. */
  staged?: FieldChange
}

export interface ReloadContext {
  /** sha256 of the topology file's bytes: the one running, and the one the new config names. */
  topologyHash: { running: string, next: string }
  /** Fingerprints of the cluster keys, in order (the first is spoken): the running ones, and those in the file the new config names. */
  keys: { running: readonly string[], next: readonly string[] }
  /** Whether the agent's logger has a level it can set (the CLI's has; an embedded agent's may not). */
  logLevelLive: boolean
  /** False when the agent cannot stage a topology (dissemination "tiered"): a new one then needs a restart. Default true. */
  topologyStaging?: boolean
}

/** Every leaf where `a` and `b` differ; objects are walked, arrays compared whole. */
export function changedFields (a: unknown, b: unknown, path = ''): FieldChange[] {
  if (isRecord(a) && isRecord(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
    return keys.flatMap(k => changedFields(a[k], b[k], path === '' ? k : `${path}.${k}`))
  }
  return sameValue(a, b) ? [] : [{ field: path, from: a, to: b }]
}

/** Splits the differences between the running config and a new, valid one into live and restart-needed. */
export function classifyReload (running: AgentConfig, next: AgentConfig, ctx: ReloadContext): ReloadClassification {
  const live: FieldChange[] = []
  const restart: RestartChange[] = []
  const topologySame = ctx.topologyHash.running === ctx.topologyHash.next
  const keysSame = sameValue(ctx.keys.running, ctx.keys.next)
  const keysLive = ctx.keys.next.some(k => ctx.keys.running.includes(k))
  for (const change of changedFields(running, next)) {
    const top = change.field.split('.')[0]!
    const isLive = (LIVE_SECTIONS as readonly string[]).includes(top) ||
      (top === 'logLevel' && ctx.logLevelLive) ||
      // The same bytes under another path: nothing the agent uses changes.
      (top === 'topologyFile' && topologySame) ||
      (top === 'pskFile' && keysLive)
    // Another path to other bytes: the staged topology (or its restart entry) below covers it.
    if (top === 'topologyFile' && !topologySame) continue
    if (isLive) live.push(change)
    else restart.push({ ...change, why: WHY_RESTART[top] ?? START_ONLY })
  }
  // New keys under the same path: a rotation step, live when a key is shared.
  if (!keysSame && !live.some(c => c.field === 'pskFile') && !restart.some(c => c.field === 'pskFile')) {
    const change = { field: 'pskFile', from: `keys ${ctx.keys.running.join(' ')}`, to: `keys ${ctx.keys.next.join(' ')}` }
    if (keysLive) live.push(change)
    else restart.push({ ...change, why: WHY_RESTART.pskFile! })
  }
  // The file's content changed (under the same path or another): the hash says so.
  if (!topologySame) {
    const change = { field: 'topologyFile', from: `sha256 ${ctx.topologyHash.running}`, to: `sha256 ${ctx.topologyHash.next}` }
    if (ctx.topologyStaging === false) return { live, restart: [...restart, { ...change, why: WHY_RESTART.topologyFile! }] }
    return { live, restart, staged: change }
  }
  return { live, restart }
}

/** The running config with the live changes of `next` taken in (the rest as it was). */
export function applyLive (running: AgentConfig, next: AgentConfig, c: ReloadClassification): AgentConfig {
  const tops = new Set(c.live.map(f => f.field.split('.')[0]!))
  const out = { ...running }
  // Whole sections: every field of planner and safety is live, so taking the section takes each change.
  if (tops.has('planner')) out.planner = next.planner
  if (tops.has('safety')) out.safety = next.safety
  if (tops.has('topologyFile')) out.topologyFile = next.topologyFile
  if (tops.has('pskFile')) out.pskFile = next.pskFile
  if (tops.has('logLevel')) {
    if (next.logLevel === undefined) delete out.logLevel
    else out.logLevel = next.logLevel
  }
  return out
}

export function reloadResult (c: ReloadClassification): Exclude<ReloadResult, 'refused'> {
  return c.restart.length > 0 ? 'restart-needed' : c.staged !== undefined ? 'staged' : 'applied'
}

function isRecord (x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

function sameValue (a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]))
  if (isRecord(a) && isRecord(b)) return changedFields(a, b).length === 0
  return Object.is(a, b)
}
