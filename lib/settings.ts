/**
 * Cluster-wide settings (docs/design.md §3.6): the mode and the limits every
 * agent should share, set once by an operator (`heliotrope cluster set`),
 * gossiped and kept by every agent. A record carries a version, a
 * Lamport-style counter: whoever sets a value takes the highest version it
 * knows plus one, so a record made after seeing another always wins over
 * it. Two records made concurrently (same version) are ordered by the
 * setting host's id, then by time, then by their values, so every agent
 * keeps the same one whatever order they arrived in. Each record holds the
 * whole set (a set of one key carries the others over), so "newest wins"
 * is about records, never a merge of fields from two records.
 *
 * In a cluster with an admin key (signed membership, docs/design.md §3.7)
 * a record counts only with the admin key's signature over settingsBytes:
 * a member's host cannot change the cluster's mode on its own. The check
 * itself is the caller's (lib/ holds no crypto).
 *
 * The placement rules are a setting too: the whole list, its form checked
 * and bounded here (cluster-rules.ts), its names at each plan.
 *
 * Pure: the time comes in as an argument. The value rules mirror the
 * config's zod definitions (agent/config.ts, agent/policy/config.ts); a
 * test holds them to the same verdicts (test/agent/policy/settings-rules.test.ts).
 */
import { encode } from 'cborg'
import { Checker, join, type Json } from './check.ts'
import { MODES, type Mode } from './modes.ts'
import { readClusterRules } from './cluster-rules.ts'
import type { PlacementRule } from './model.ts'

/** The settings a cluster may set, by the name the config gives them (planner.* and safety.* fields, and mode). */
export const SETTING_KEYS = ['mode', 'maxMoves', 'maxMovesPerHost', 'minGain', 'maxInFlight', 'maxInFlightPerHost', 'minImprovement', 'cooldownRounds', 'rules'] as const
export type SettingKey = typeof SETTING_KEYS[number]

export interface SettingValues {
  mode?: Mode
  maxMoves?: number
  maxMovesPerHost?: number
  minGain?: number
  maxInFlight?: number
  maxInFlightPerHost?: number
  minImprovement?: number
  cooldownRounds?: number
  /** planner.rules: the whole list (an empty one means no rules anywhere; unset gives each host its file's). */
  rules?: PlacementRule[]
}

/** A setting's value: a mode, a number, or the rule list. */
export type SettingValue = Mode | number | PlacementRule[]

export interface ClusterSettings {
  /** Lamport-style: one above the highest version the setter knew. */
  version: number
  /** The host whose operator set it (as that host claimed: any member may set; see docs/operations.md). */
  setBy: string
  /** When it was set, ms since the epoch (setter's clock; only informative and a last tie-breaker). */
  at: number
  values: SettingValues
  /** The admin key's ed25519 signature over settingsBytes(record), base64: required where the cluster has an admin key. */
  sig?: string
}

type Rule = { kind: 'mode' } | { kind: 'rules' } | { kind: 'number', integer: boolean, min: number, max?: number }

/** The same bounds as the config's fields (agent/config.ts PLANNER, agent/policy/config.ts SAFETY_SECTION). */
export const SETTING_RULES: Readonly<Record<SettingKey, Rule>> = {
  mode: { kind: 'mode' },
  maxMoves: { kind: 'number', integer: true, min: 0 },
  maxMovesPerHost: { kind: 'number', integer: true, min: 1 },
  minGain: { kind: 'number', integer: false, min: 0 },
  maxInFlight: { kind: 'number', integer: true, min: 1 },
  maxInFlightPerHost: { kind: 'number', integer: true, min: 1 },
  minImprovement: { kind: 'number', integer: false, min: 0, max: 1 },
  cooldownRounds: { kind: 'number', integer: true, min: 0 },
  rules: { kind: 'rules' }
}

const ID_MAX = 128

export function isSettingKey (key: string): key is SettingKey {
  return (SETTING_KEYS as readonly string[]).includes(key)
}

/** True when `a` wins over `b` (undefined: none yet, so anything wins). A total order: every agent keeps the same record. */
export function newer (a: ClusterSettings, b: ClusterSettings | undefined): boolean {
  if (b === undefined) return true
  if (a.version !== b.version) return a.version > b.version
  if (a.setBy !== b.setBy) return a.setBy > b.setBy
  if (a.at !== b.at) return a.at > b.at
  return canonical(a.values) > canonical(b.values)
}

/** Of two records, the one every agent keeps. */
export function merge (a: ClusterSettings | undefined, b: ClusterSettings | undefined): ClusterSettings | undefined {
  if (a === undefined) return b
  return b !== undefined && newer(b, a) ? b : a
}

/**
 * The record an operator's change makes: the known values with `set` laid
 * over them and `unset` keys removed (they fall back to each host's file),
 * one version above the known record.
 */
export function nextSettings (known: ClusterSettings | undefined, change: { set?: SettingValues, unset?: readonly SettingKey[] }, setBy: string, at: number): ClusterSettings {
  const values: SettingValues = { ...known?.values, ...change.set }
  for (const k of change.unset ?? []) delete values[k]
  return { version: (known?.version ?? 0) + 1, setBy, at, values }
}

/** What the admin key signs: the record less its signature, domain-separated from the membership records' bytes. */
export function settingsBytes (r: ClusterSettings): Uint8Array {
  // cborg sorts map keys, so the bytes depend only on the fields' values.
  return encode(['heliotrope/settings/1', { version: r.version, setBy: r.setBy, at: r.at, values: r.values }])
}

/** Checks an ed25519 signature by the cluster's admin key (the agent passes node:crypto's). */
export type VerifySettings = (bytes: Uint8Array, sig: Uint8Array) => boolean

/** Why a record does not count in a cluster with an admin key, or undefined when it carries the admin's signature. */
export function signatureProblem (r: ClusterSettings, verify: VerifySettings): 'unsigned' | 'bad-signature' | undefined {
  if (r.sig === undefined) return 'unsigned'
  const sig = Uint8Array.from(atob(r.sig), ch => ch.charCodeAt(0))
  return verify(settingsBytes(r), sig) ? undefined : 'bad-signature'
}

/** An ed25519 signature in base64: 64 bytes are 88 characters. */
const SIG_BASE64 = /^[A-Za-z0-9+/]{86}==$/

/** Reads a settings record from untrusted input (the wire, the state file); problems go to `c`. */
export function readSettings (c: Checker, path: string, v: Json): ClusterSettings | undefined {
  const o = c.object(path, v)
  if (o === undefined) return undefined
  c.onlyKeys(path, o, ['version', 'setBy', 'at', 'values', 'sig'])
  const version = c.number(join(path, 'version'), o.version, { integer: true, min: 1, max: Number.MAX_SAFE_INTEGER })
  const setBy = c.string(join(path, 'setBy'), o.setBy, { max: ID_MAX })
  const at = c.number(join(path, 'at'), o.at, { integer: true, min: 0 })
  const values = readValues(c, join(path, 'values'), o.values)
  const sig = c.optional(o.sig, x => c.string(join(path, 'sig'), x, { max: 88 }))
  if (sig !== undefined && !SIG_BASE64.test(sig)) c.fail(join(path, 'sig'), 'a 64-byte ed25519 signature in base64', sig)
  if (!c.ok || values === undefined) return undefined
  return { version: version!, setBy: setBy!, at: at!, values, ...(sig === undefined ? {} : { sig }) }
}

/** Reads the values of a record: only known keys, each within its rule. */
export function readValues (c: Checker, path: string, v: Json): SettingValues | undefined {
  const o = c.object(path, v)
  if (o === undefined) return undefined
  c.onlyKeys(path, o, SETTING_KEYS)
  const out: Record<string, unknown> = {}
  for (const key of SETTING_KEYS) {
    if (o[key] === undefined) continue
    const value = checkValue(c, join(path, key), key, o[key])
    if (value !== undefined) out[key] = value
  }
  return c.ok ? out as SettingValues : undefined
}

/** One value against its key's rule; undefined (and an issue in `c`) when it breaks it. */
export function checkValue (c: Checker, path: string, key: SettingKey, value: Json): SettingValue | undefined {
  const rule = SETTING_RULES[key]
  if (rule.kind === 'mode') return c.oneOf(path, value, MODES)
  if (rule.kind === 'rules') return readClusterRules(c, path, value)
  return c.number(path, value, { integer: rule.integer, min: rule.min, ...(rule.max === undefined ? {} : { max: rule.max }) })
}

/** The same record but for its signature (an admin key rotation signs the held record again). */
export function sameRecord (a: ClusterSettings, b: ClusterSettings): boolean {
  return a.version === b.version && a.setBy === b.setBy && a.at === b.at && canonical(a.values) === canonical(b.values)
}

/** The values in a fixed key order: the last tie-breaker, the same on every agent. */
function canonical (values: SettingValues): string {
  return JSON.stringify(SETTING_KEYS.map(k => values[k] ?? null))
}
