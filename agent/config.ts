/**
 * The agent's one JSON config file, defined once: the zod schema below is
 * where the TypeScript types (AgentConfig), the validation (precise errors:
 * the path of the bad field, what was expected, what was found; an unknown
 * field is an error, so typos do not pass) and the JSON Schema
 * (agent/config.schema.json, `npm run schema`) all come from.
 *
 * Why zod 4: its issues carry what the Checker's wording needs (the path,
 * the bound, the choices, the value found; agent/config-issues.ts words them),
 * z.toJSONSchema is built in (TypeBox would need its own validator's errors
 * reworded, valibot a second package for the schema), and a driver kind's
 * section is one more schema in a discriminated union, so a registry of
 * kinds (production's or the lab's) makes its own config definition.
 */
import { z } from 'zod'
import { parseIpv6 } from '../lib/address.ts'
import { ValidationError, type Issue } from '../lib/errors.ts'
import { DEFAULT_AMORTIZE_SECONDS } from '../lib/cost.ts'
import { DEFAULT_PLANNER, PLANNER_NAMES } from '../lib/planners/index.ts'
import { ROLLOUT_MAX_VMS } from '../lib/planners/rollout.ts'
import { DEFAULT_ROUND_PERIOD_MS } from '../lib/rounds.ts'
import { closed, expectedWording, integer, meets, nonEmpty, toIssues } from './config-issues.ts'
import { API_SECTION } from './api/config.ts'
import { CONTROL_SOCKET_FIELD, controlSocketPath, MODE_FIELD, SAFETY_SECTION, SOCKET_PATH_LIMIT, socketPathTooLong } from './policy/config.ts'
import { PRODUCTION_DRIVERS } from './drivers/index.ts'
import { driverSectionSchema, type DriverRegistry, type DriverSection } from './drivers/kinds.ts'
import { LEVELS } from './log.ts'
import { validAdminKey } from './membership/admin-key.ts'

export const DEFAULT_LISTEN = ['/ip6/::/tcp/4001']
export const DEFAULT_STATE_DIR = '/var/lib/heliotrope'
/** A member silent for this many rounds is down. */
export const DEFAULT_DOWN_AFTER_ROUNDS = 3
export const DEFAULT_MAX_MOVES = 5
export const DEFAULT_MAX_MOVES_PER_HOST = 2
export const DEFAULT_MIN_GAIN = 0.001
/**
 * Rounds are played forward (lib/planners/rollout.ts) only where a round
 * is this long or longer: the planner's plan must come within a tenth of
 * the round (lib/rounds.ts), and with them a plan on 30-40 VMs takes
 * 0.4-3.6 s (median) and up to 15.3 s on a 2-core machine (docs/planner.md); a
 * slower plan lets the next rank take over, which is safe but spends the
 * next rank's time too.
 */
export const ROLLOUT_MIN_PERIOD_MS = 30_000
/**
 * Rounds that move played forward then: bench:optimum's instances settle
 * in 3-18 rounds of 5 moves in the agents' loop (cooldown included); 12
 * left clustered seed 26 at 10x the optimum, 24 at 1.0x.
 */
export const DEFAULT_ROLLOUT_ROUNDS = 24

/** The planner's `rolloutRounds` when the config leaves it unset. */
export function defaultRolloutRounds (roundPeriodMs: number): number {
  return roundPeriodMs >= ROLLOUT_MIN_PERIOD_MS ? DEFAULT_ROLLOUT_ROUNDS : 0
}

/**
 * The rounds an agent plays forward: the planner section's, else the
 * default for the round period it runs (resolved at each plan, not at
 * parse, because the period needs a restart while the planner section
 * reloads live).
 */
export function rolloutRoundsOf (planner: { rolloutRounds?: number | undefined }, roundPeriodMs: number): number {
  return planner.rolloutRounds ?? defaultRolloutRounds(roundPeriodMs)
}
/**
 * Agents weigh what a move sends over the WAN (lib/cost.ts, the migration
 * term) against what it saves, over a payback horizon: a move is made only
 * if the traffic it takes off the WAN outweighs its memory copy within it.
 * The offline `heliotrope plan` keeps the thesis's cost (weight 0) unless
 * asked, so its plans compare with the thesis and with exact optima.
 */
export const DEFAULT_MIGRATION_WEIGHT = 1
export const DEFAULT_PAYBACK_SECONDS = DEFAULT_AMORTIZE_SECONDS
export const DEFAULT_RESERVATION_TTL_MS = 120_000
export const DEFAULT_MIGRATION_DEADLINE_MS = 600_000

const CLUSTER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/

const HOST_ID = nonEmpty().max(128)

const MEMBER = closed({
  host: nonEmpty(),
  peerId: nonEmpty(),
  dc: nonEmpty().max(128).optional().meta({ description: 'The member\'s data center; needed by dissemination "tiered" (where the member reports).' }),
  addresses: z.array(nonEmpty().check(meets(s => s.startsWith('/'), 'a multiaddr'))).min(1).optional().meta({ description: 'Where the member\'s agent listens (multiaddrs, as `heliotrope init` prints them): an inventory, so no DHT lookup is needed to reach it. Needed by every member when dhtServersPerDc is set.' })
})

/** How states, digests, plans and votes travel: flooded on gossipsub (docs/design.md §3), or through per-DC aggregators (§9.8). */
export const DISSEMINATIONS = ['flood', 'tiered'] as const
export type Dissemination = typeof DISSEMINATIONS[number]

/** A placement rule (lib/rules.ts); names are checked against each round's snapshot, where a rule naming what is not there is left out. */
export const PLACEMENT_RULE = z.discriminatedUnion('kind', [
  closed({
    kind: z.literal('spread'),
    group: nonEmpty(),
    minDcs: integer().min(1).optional().meta({ description: "The group's members are in at least this many DCs." }),
    maxPerDc: integer().min(1).optional().meta({ description: 'At most this many of its members in any one DC.' })
  }).check(meets(r => r.minDcs !== undefined || r.maxPerDc !== undefined, 'minDcs or maxPerDc (or both)')),
  closed({ kind: z.literal('together'), group: nonEmpty() }),
  closed({
    kind: z.literal('avoid'),
    vm: nonEmpty().optional(),
    group: nonEmpty().optional(),
    dcs: z.array(nonEmpty()).min(1).meta({ description: 'The DCs the VM (or every member of the group) never runs in.' })
  }).check(meets(r => (r.vm === undefined) !== (r.group === undefined), 'exactly one of vm and group'))
])

export const PLANNER = closed({
  name: z.enum(PLANNER_NAMES as [string, ...string[]]).default(DEFAULT_PLANNER),
  maxMoves: integer().min(0).default(DEFAULT_MAX_MOVES).meta({ description: 'Migrations per round (per plan).' }),
  maxMovesPerHost: integer().min(1).default(DEFAULT_MAX_MOVES_PER_HOST).meta({ description: 'Migrations per host (in or out) per round.' }),
  minGain: z.number().min(0).default(DEFAULT_MIN_GAIN).meta({ description: 'A move must lower the cost by more than this (cost units).' }),
  weights: closed({
    bandwidth: z.number().min(0).optional(),
    latency: z.number().min(0).optional(),
    price: z.number().min(0).optional(),
    dcLoad: z.number().min(0).optional(),
    migration: z.number().min(0).default(DEFAULT_MIGRATION_WEIGHT).meta({ description: `What a move's memory copy weighs against the traffic it saves over paybackSeconds (default ${DEFAULT_MIGRATION_WEIGHT}: a move must pay back within the horizon; 0: moving is free).` })
  }).prefault({}).meta({ description: "The cost's weights (lib/cost.ts); an absent one keeps the planner's, but migration defaults to 1 here." }),
  rolloutRounds: integer().min(0).max(100).optional().meta({ description: `Rounds each candidate round is played forward to choose between them, on clusters of up to ${ROLLOUT_MAX_VMS} VMs (docs/planner.md); 0: none. Unset: ${DEFAULT_ROLLOUT_ROUNDS} when roundPeriodMs is at least ${ROLLOUT_MIN_PERIOD_MS / 1000} s, else 0 (a plan can then take seconds, and must come within a tenth of the round). Fewer rounds than the cluster needs to settle do worse than none.` }),
  paybackSeconds: integer().min(1).default(DEFAULT_PAYBACK_SECONDS).meta({ description: 'The horizon a move must pay back its memory copy within (seconds of the traffic it saves).' }),
  rules: z.array(PLACEMENT_RULE).default(() => []).meta({ description: 'Placement rules (docs/planner.md): spread (a group in at least minDcs DCs, at most maxPerDc in one), together (a group in one DC), avoid (a VM or group never in these DCs). No plan breaks one; a broken one is mended first. The fallback: rules set cluster-wide (heliotrope cluster set rules FILE) replace these on every agent.' })
}).prefault({})

const strings = (): z.ZodArray<z.ZodString> => z.array(nonEmpty())

/** The config's definition with `drivers`' kinds as the choices of its collector and hypervisor. */
export function configSchema (drivers: DriverRegistry = PRODUCTION_DRIVERS) {
  return closed({
    cluster: nonEmpty().regex(CLUSTER_NAME, { error: 'lower-case letters, digits and dashes, 1-63 characters' }).meta({ description: 'Cluster name: topics and protocols live under /heliotrope/<cluster>/.' }),
    host: HOST_ID.meta({ description: "This host's id, unique in the cluster." }),
    dc: nonEmpty().max(128).meta({ description: "This host's data center (an id in the topology)." }),
    stateDir: nonEmpty().default(DEFAULT_STATE_DIR).meta({ description: 'Peer key, persisted controls, control socket.' }),
    listen: strings().default(() => [...DEFAULT_LISTEN]).meta({ description: 'libp2p listen multiaddrs.' }),
    announce: strings().optional().meta({ description: 'Multiaddrs to announce instead of the listen addresses.' }),
    bootstrap: strings().default(() => []).meta({ description: 'Members to dial at start: multiaddrs ending in /p2p/<peer id>.' }),
    pskFile: nonEmpty().meta({ description: "The cluster's pre-shared key (libp2p private network), mode 0600." }),
    members: z.array(MEMBER).meta({ description: "The allowlist: every member's host id and peer id (heliotrope init prints this host's)." }),
    observers: strings().default(() => []).meta({ description: 'Peer ids that may watch the gossip but never speak.' }),
    adminKey: nonEmpty().check(meets(validAdminKey, 'an ed25519 public key (base64 SPKI, as heliotrope init prints it)')).optional().meta({ description: "The cluster admin key's public half: with it, hosts join from a token (heliotrope invite) and leave by a signed revocation, without config edits (docs/design.md §3.7). Unset: membership is the members list alone." }),
    topologyFile: nonEmpty().meta({ description: 'DCs, WAN links and external prefixes; the same file on every host.' }),
    address: nonEmpty().check(meets(s => parseIpv6(s) !== undefined, 'an IPv6 address')).meta({ description: "This host's IPv6 address for migrations.", format: 'ipv6' }),
    capacity: closed({ memoryMiB: z.number().positive(), vcpus: integer().positive() }).meta({ description: 'What VMs may use on this host.' }),
    roundPeriodMs: integer().min(500).default(DEFAULT_ROUND_PERIOD_MS).meta({ description: 'Length of a round.' }),
    downAfterRounds: integer().min(1).default(DEFAULT_DOWN_AFTER_ROUNDS).meta({ description: 'A member silent this many rounds is down.' }),
    planner: PLANNER,
    reservationTtlMs: integer().min(1000).default(DEFAULT_RESERVATION_TTL_MS).meta({ description: 'How long a target holds the room it reserved for an incoming migration.' }),
    migrationDeadlineMs: integer().min(1000).default(DEFAULT_MIGRATION_DEADLINE_MS).meta({ description: 'A migration not done by then is aborted.' }),
    collector: driverSectionSchema(drivers.collectors, drivers.elsewhere).meta({ description: `How traffic is measured: one of the kinds ${Object.keys(drivers.collectors).join(', ')}.` }),
    hypervisor: driverSectionSchema(drivers.hypervisors, drivers.elsewhere).meta({ description: `How VMs are listed and migrated: one of the kinds ${Object.keys(drivers.hypervisors).join(', ')}.` }),
    ipColocationFactorWeight: z.number().max(0).optional().meta({ description: "gossipsub's IP-colocation penalty weight; 0 where many agents share an address (lab)." }),
    crowded: z.boolean().default(false).meta({ description: 'Tuning for many agents on one machine (lab, tests).' }),
    mode: MODE_FIELD,
    safety: SAFETY_SECTION,
    controlSocket: CONTROL_SOCKET_FIELD,
    api: API_SECTION,
    dissemination: z.enum(DISSEMINATIONS).default('flood').meta({ description: 'How states, digests, plans and votes travel: flood (gossipsub, every agent) or tiered (per-DC aggregators over direct streams; docs/design.md §9.8).' }),
    dhtServersPerDc: integer().min(1).optional().meta({ description: 'Members per DC that serve the DHT, chosen from the member list; the others are DHT clients and nobody connects to them for it (docs/design.md §9.8). Unset: every member serves. Needs every member\'s dc and addresses.' }),
    logLevel: z.enum(LEVELS).optional().meta({ description: 'The log level (default info). `heliotrope agent --log-level` wins at start; a reload (SIGHUP) that changes it applies it.' })
  }).superRefine((c, ctx) => {
    // Rules across fields; they run even when another field is bad, so every problem is listed at once
    // (and so on whatever was given, even a value that is no object).
    if (typeof c !== 'object' || c === null) return
    const members: unknown[] = Array.isArray(c.members) ? c.members : []
    const hostOf = (m: unknown): unknown => typeof m === 'object' && m !== null ? (m as { host?: unknown }).host : undefined
    // With an admin key a host may be a member by certificate (it joined from a token), not by this list.
    if (c.adminKey === undefined && HOST_ID.safeParse(c.host).success && members.length > 0 && !members.some(m => hostOf(m) === c.host)) {
      ctx.addIssue({ code: 'custom', path: ['members'], input: 'none', message: `an entry for this host (${c.host})` })
    }
    // The tiered dissemination ranks each DC's members for its aggregator: every member's DC is needed.
    if (c.dissemination === 'tiered') {
      const missing = members.findIndex(m => typeof m === 'object' && m !== null && (m as { dc?: unknown }).dc === undefined)
      if (missing >= 0) ctx.addIssue({ code: 'custom', path: ['members', missing, 'dc'], input: undefined, message: 'the member\'s DC (dissemination "tiered" needs every member\'s)' })
    }
    // DHT clients are in no routing table, so nobody finds them by lookup: every member's DC and addresses must be known.
    if (c.dhtServersPerDc !== undefined) {
      const dcMissing = members.findIndex(m => typeof m === 'object' && m !== null && (m as { dc?: unknown }).dc === undefined)
      if (dcMissing >= 0 && c.dissemination !== 'tiered') ctx.addIssue({ code: 'custom', path: ['members', dcMissing, 'dc'], input: undefined, message: 'the member\'s DC (dhtServersPerDc needs every member\'s)' })
      const addrMissing = members.findIndex(m => typeof m === 'object' && m !== null && (m as { addresses?: unknown }).addresses === undefined)
      if (addrMissing >= 0) ctx.addIssue({ code: 'custom', path: ['members', addrMissing, 'addresses'], input: undefined, message: 'the member\'s addresses (dhtServersPerDc needs every member\'s: DHT clients cannot be looked up)' })
    }
    // Signed membership changes the member list at run time; the tiered roles and the DHT servers are chosen from it at start.
    if (c.adminKey !== undefined && c.dissemination === 'tiered') ctx.addIssue({ code: 'custom', path: ['adminKey'], input: 'set', message: 'no adminKey with dissemination "tiered" (not built yet: its aggregator roles are fixed at start; docs/design.md §3.7)' })
    if (c.adminKey !== undefined && c.dhtServersPerDc !== undefined) ctx.addIssue({ code: 'custom', path: ['adminKey'], input: 'set', message: 'no adminKey with dhtServersPerDc (not built yet: the DHT servers are chosen from the static members list at start; docs/design.md §3.7)' })
    // Too long a socket path is the fault of the field that made it: controlSocket, or stateDir for the default socket.
    const stateDir = typeof c.stateDir === 'string' ? c.stateDir : undefined
    if ((c.controlSocket === undefined && stateDir !== undefined) || typeof c.controlSocket === 'string') {
      const path = controlSocketPath(c.controlSocket, stateDir ?? DEFAULT_STATE_DIR)
      if (socketPathTooLong(path)) ctx.addIssue({ code: 'custom', path: [c.controlSocket === undefined ? 'stateDir' : 'controlSocket'], input: path, message: SOCKET_PATH_LIMIT })
    }
  }, { when: () => true }).meta({ title: 'heliotrope agent config' })
}

type ConfigSchema = ReturnType<typeof configSchema>
type Parsed = z.output<ConfigSchema>

export type Member = z.output<typeof MEMBER>

/**
 * The parsed `collector` and `hypervisor` sections: a kind and that kind's
 * fields, as the kind's entry in the DriverRegistry the config is parsed
 * with defines them (agent/drivers/kinds.ts).
 */
export type CollectorConfig = DriverSection
export type HypervisorConfig = DriverSection

/** A parsed config: the definition's output, with the control socket's path always set. */
export type AgentConfig = Omit<Parsed, 'controlSocket'> & { controlSocket: string }

/** Issues listed at most, as the Checker lists them (lib/check.ts). */
const MAX_ISSUES = 50

/** One definition per registry, made on first use (the daemon and the lab parse many configs). */
const schemas = new WeakMap<DriverRegistry, ConfigSchema>()

function schemaFor (drivers: DriverRegistry): ConfigSchema {
  let s = schemas.get(drivers)
  if (s === undefined) { s = configSchema(drivers); schemas.set(drivers, s) }
  return s
}

/** The fields a config may have at its top, for "did you mean". */
const TOP_FIELDS = Object.keys(schemaFor(PRODUCTION_DRIVERS).shape)

/**
 * Reads and checks a config. `drivers` are the kinds its collector and
 * hypervisor may name: production's by default; the lab passes its own.
 */
export function parseConfig (input: unknown, drivers: DriverRegistry = PRODUCTION_DRIVERS): AgentConfig {
  const r = schemaFor(drivers).safeParse(input, { error: expectedWording, reportInput: true })
  if (!r.success) {
    const issues: Issue[] = toIssues(r.error.issues, { topFields: TOP_FIELDS })
    throw new ValidationError('config', issues.slice(0, MAX_ISSUES))
  }
  return { ...r.data, controlSocket: controlSocketPath(r.data.controlSocket, r.data.stateDir) }
}
