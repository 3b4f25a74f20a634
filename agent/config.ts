/**
 * The agent's one JSON config file, validated with precise errors (the path
 * of the bad field, what was expected, what was found). Defaults are named
 * constants; a field that is not known is an error, so typos do not pass.
 */
import { Checker, join, type Json } from '../lib/check.ts'
import { parseIpv6 } from '../lib/address.ts'
import { PLANNER_NAMES, DEFAULT_PLANNER } from '../lib/planners/index.ts'
import type { CostWeights } from '../lib/cost.ts'
import { DEFAULT_ROUND_PERIOD_MS } from '../lib/rounds.ts'
import { readControlSocket, readMode, readSafety, type SafetyConfig } from './controls/config.ts'
import type { Mode } from './controls/mode.ts'
import { readApiConfig, type ApiConfig } from './api/config.ts'
import { PRODUCTION_DRIVERS } from './drivers/index.ts'
import { readDriverSection, type DriverRegistry, type DriverSection } from './drivers/kinds.ts'

export const DEFAULT_LISTEN = ['/ip6/::/tcp/4001']
export const DEFAULT_STATE_DIR = '/var/lib/heliotrope'
/** A member silent for this many rounds is down. */
export const DEFAULT_DOWN_AFTER_ROUNDS = 3
export const DEFAULT_MAX_MOVES = 5
export const DEFAULT_MAX_MOVES_PER_HOST = 2
export const DEFAULT_MIN_GAIN = 0.001
export const DEFAULT_RESERVATION_TTL_MS = 120_000
export const DEFAULT_MIGRATION_DEADLINE_MS = 600_000

/** A member; its `dc` is needed by the tiered dissemination (where it reports), optional otherwise. */
export interface Member { host: string, peerId: string, dc?: string }

/** How states, digests, plans and votes travel: flooded on gossipsub (§3), or through per-DC aggregators (§9). */
export const DISSEMINATIONS = ['flood', 'tiered'] as const
export type Dissemination = typeof DISSEMINATIONS[number]

/**
 * The parsed `collector` and `hypervisor` sections: a kind and that kind's
 * fields, read by the kind's entry in the DriverRegistry the config is
 * parsed with (agent/drivers/kinds.ts).
 */
export type CollectorConfig = DriverSection
export type HypervisorConfig = DriverSection

export interface AgentConfig {
  cluster: string
  host: string
  dc: string
  stateDir: string
  listen: string[]
  announce?: string[]
  bootstrap: string[]
  pskFile: string
  members: Member[]
  observers: string[]
  topologyFile: string
  /** This host's address for migrations (IPv6). */
  address: string
  capacity: { memoryMiB: number, vcpus: number }
  roundPeriodMs: number
  downAfterRounds: number
  planner: {
    name: string
    maxMoves: number
    maxMovesPerHost: number
    minGain: number
    weights: Partial<CostWeights>
  }
  reservationTtlMs: number
  migrationDeadlineMs: number
  collector: CollectorConfig
  hypervisor: HypervisorConfig
  /** gossipsub's IP-colocation penalty weight; 0 where many agents share an address (lab). */
  ipColocationFactorWeight?: number
  /** Tuning for many agents on one machine (lab, tests). */
  crowded: boolean
  /** What the agent may do: observe, dry-run, approve or auto (agent/controls/mode.ts); parseConfig always sets it. */
  mode?: Mode
  /** Limits on migrations in flight, cooldown, minimum improvement, approval window; parseConfig always sets it. */
  safety?: SafetyConfig
  /** The local control socket (heliotrope approve, pin, drain); default control.sock in stateDir. */
  controlSocket?: string
  /** The local HTTP API (agent/api/). */
  api: ApiConfig
  /** How messages travel (docs/design.md §3, §9.8); default flood. */
  dissemination: Dissemination
}

const KEYS = ['cluster', 'host', 'dc', 'stateDir', 'listen', 'announce', 'bootstrap', 'pskFile', 'members', 'observers', 'topologyFile', 'address', 'capacity', 'roundPeriodMs', 'downAfterRounds', 'planner', 'reservationTtlMs', 'migrationDeadlineMs', 'collector', 'hypervisor', 'ipColocationFactorWeight', 'crowded', 'mode', 'safety', 'controlSocket', 'api', 'dissemination'] as const

/**
 * Reads and checks a config. `drivers` are the kinds its collector and
 * hypervisor may name: production's by default; the lab passes its own.
 */
export function parseConfig (input: Json, drivers: DriverRegistry = PRODUCTION_DRIVERS): AgentConfig {
  const c = new Checker()
  const o = c.object('', input) ?? {}
  c.onlyKeys('', o, KEYS)
  const strings = (path: string, v: Json, fallback: string[]): string[] => v === undefined ? fallback : (c.array(path, v) ?? []).map((x, i) => c.string(join(path, i), x) ?? '')
  const cluster = c.string('cluster', o.cluster)
  if (cluster !== undefined && !/^[a-z0-9][a-z0-9-]{0,62}$/.test(cluster)) c.fail('cluster', 'lower-case letters, digits and dashes, 1-63 characters', cluster)
  const host = c.string('host', o.host, { max: 128 })
  const dc = c.string('dc', o.dc, { max: 128 })
  const address = c.string('address', o.address)
  if (address !== undefined && parseIpv6(address) === undefined) c.fail('address', 'an IPv6 address', address)
  const members = (c.array('members', o.members) ?? []).map((m, i) => {
    const p = join('members', i)
    const r = c.object(p, m)
    if (r === undefined) return { host: '', peerId: '' }
    c.onlyKeys(p, r, ['host', 'peerId', 'dc'])
    const member: Member = { host: c.string(join(p, 'host'), r.host) ?? '', peerId: c.string(join(p, 'peerId'), r.peerId) ?? '' }
    if (r.dc !== undefined) member.dc = c.string(join(p, 'dc'), r.dc, { max: 128 }) ?? ''
    return member
  })
  if (host !== undefined && members.length > 0 && !members.some(m => m.host === host)) c.fail('members', `an entry for this host (${host})`, 'none')
  const cap = c.object('capacity', o.capacity) ?? {}
  c.onlyKeys('capacity', cap, ['memoryMiB', 'vcpus'])
  const plannerIn = o.planner === undefined ? {} : c.object('planner', o.planner) ?? {}
  c.onlyKeys('planner', plannerIn, ['name', 'maxMoves', 'maxMovesPerHost', 'minGain', 'weights'])
  const plannerName = plannerIn.name === undefined ? DEFAULT_PLANNER : c.oneOf('planner.name', plannerIn.name, PLANNER_NAMES)
  const weightsIn = plannerIn.weights === undefined ? {} : c.object('planner.weights', plannerIn.weights) ?? {}
  c.onlyKeys('planner.weights', weightsIn, ['bandwidth', 'latency', 'price', 'dcLoad', 'migration'])
  const weights: Partial<CostWeights> = {}
  for (const [k, v] of Object.entries(weightsIn)) {
    const n = c.number(`planner.weights.${k}`, v, { min: 0 })
    if (n !== undefined) weights[k as keyof CostWeights] = n
  }
  const num = (path: string, v: Json, fallback: number, opts: Parameters<Checker['number']>[2] = {}): number => v === undefined ? fallback : c.number(path, v, opts) ?? fallback
  const config: AgentConfig = {
    cluster: cluster ?? '',
    host: host ?? '',
    dc: dc ?? '',
    stateDir: o.stateDir === undefined ? DEFAULT_STATE_DIR : c.string('stateDir', o.stateDir) ?? '',
    listen: strings('listen', o.listen, DEFAULT_LISTEN),
    bootstrap: strings('bootstrap', o.bootstrap, []),
    pskFile: c.string('pskFile', o.pskFile) ?? '',
    members,
    observers: strings('observers', o.observers, []),
    topologyFile: c.string('topologyFile', o.topologyFile) ?? '',
    address: address ?? '',
    capacity: { memoryMiB: c.number('capacity.memoryMiB', cap.memoryMiB, { positive: true }) ?? 0, vcpus: c.number('capacity.vcpus', cap.vcpus, { positive: true, integer: true }) ?? 0 },
    roundPeriodMs: num('roundPeriodMs', o.roundPeriodMs, DEFAULT_ROUND_PERIOD_MS, { min: 500, integer: true }),
    downAfterRounds: num('downAfterRounds', o.downAfterRounds, DEFAULT_DOWN_AFTER_ROUNDS, { min: 1, integer: true }),
    planner: {
      name: plannerName ?? DEFAULT_PLANNER,
      maxMoves: num('planner.maxMoves', plannerIn.maxMoves, DEFAULT_MAX_MOVES, { min: 0, integer: true }),
      maxMovesPerHost: num('planner.maxMovesPerHost', plannerIn.maxMovesPerHost, DEFAULT_MAX_MOVES_PER_HOST, { min: 1, integer: true }),
      minGain: num('planner.minGain', plannerIn.minGain, DEFAULT_MIN_GAIN, { min: 0 }),
      weights
    },
    reservationTtlMs: num('reservationTtlMs', o.reservationTtlMs, DEFAULT_RESERVATION_TTL_MS, { min: 1000, integer: true }),
    migrationDeadlineMs: num('migrationDeadlineMs', o.migrationDeadlineMs, DEFAULT_MIGRATION_DEADLINE_MS, { min: 1000, integer: true }),
    collector: readDriverSection(c, 'collector', o.collector, drivers.collectors, drivers.elsewhere),
    hypervisor: readDriverSection(c, 'hypervisor', o.hypervisor, drivers.hypervisors, drivers.elsewhere),
    crowded: o.crowded === undefined ? false : c.boolean('crowded', o.crowded) ?? false,
    api: readApiConfig(c, o.api),
    dissemination: o.dissemination === undefined ? 'flood' : c.oneOf('dissemination', o.dissemination, DISSEMINATIONS) ?? 'flood'
  }
  if (config.dissemination === 'tiered') {
    const missing = members.findIndex(m => m.dc === undefined)
    if (missing >= 0) c.fail(join(join('members', missing), 'dc'), 'the member\'s DC (dissemination "tiered" needs every member\'s)', undefined)
  }
  if (o.announce !== undefined) config.announce = strings('announce', o.announce, [])
  if (o.ipColocationFactorWeight !== undefined) config.ipColocationFactorWeight = c.number('ipColocationFactorWeight', o.ipColocationFactorWeight, { max: 0 }) ?? 0
  config.mode = readMode(c, o.mode)
  config.safety = readSafety(c, o.safety)
  config.controlSocket = readControlSocket(c, o.controlSocket, config.stateDir)
  c.done('config')
  return config
}
