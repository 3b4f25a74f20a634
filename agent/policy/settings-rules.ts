/**
 * Cluster settings against the agent's config: each key's zod rule (the
 * very field definitions the config file is checked with, so
 * `heliotrope cluster set` refuses what the file would refuse, in the same
 * words), the operator's words turned into values, and the effective
 * config: the host's file with the cluster's values laid over it.
 */
import { z } from 'zod'
import { Checker } from '../../lib/check.ts'
import { describeRules, MAX_CLUSTER_RULES, MAX_CLUSTER_RULES_BYTES, readClusterRules, rulesBytes } from '../../lib/cluster-rules.ts'
import { ValidationError, type Issue } from '../../lib/errors.ts'
import { SETTING_KEYS, isSettingKey, type ClusterSettings, type SettingKey, type SettingValues } from '../../lib/settings.ts'
import { PLACEMENT_RULE, PLANNER, type AgentConfig } from '../config.ts'
import { expectedWording, meets, nearest, toIssues } from '../config-issues.ts'
import { MODE_FIELD, SAFETY_SECTION, type SafetyConfig } from './config.ts'
import type { Mode } from './mode.ts'

/**
 * planner.rules as a cluster setting: the file's rule definition, bounded
 * as the wire bounds it (lib/cluster-rules.ts) so a record always travels.
 */
const CLUSTER_RULES = z.array(PLACEMENT_RULE)
  .max(MAX_CLUSTER_RULES)
  .check(meets<unknown[]>(r => rulesBytes(r) <= MAX_CLUSTER_RULES_BYTES, `at most ${MAX_CLUSTER_RULES_BYTES} bytes of rules (as compact JSON)`))

/** Where each setting lives in the config file, and its rule there. */
const FIELDS: Readonly<Record<SettingKey, { path: string, schema: z.ZodType }>> = {
  mode: { path: 'mode', schema: MODE_FIELD },
  maxMoves: { path: 'planner.maxMoves', schema: PLANNER.unwrap().shape.maxMoves },
  maxMovesPerHost: { path: 'planner.maxMovesPerHost', schema: PLANNER.unwrap().shape.maxMovesPerHost },
  minGain: { path: 'planner.minGain', schema: PLANNER.unwrap().shape.minGain },
  maxInFlight: { path: 'safety.maxInFlight', schema: SAFETY_SECTION.unwrap().shape.maxInFlight },
  maxInFlightPerHost: { path: 'safety.maxInFlightPerHost', schema: SAFETY_SECTION.unwrap().shape.maxInFlightPerHost },
  minImprovement: { path: 'safety.minImprovement', schema: SAFETY_SECTION.unwrap().shape.minImprovement },
  cooldownRounds: { path: 'safety.cooldownRounds', schema: SAFETY_SECTION.unwrap().shape.cooldownRounds },
  rules: { path: 'planner.rules', schema: CLUSTER_RULES }
}

/** The config file's field a setting overrides, e.g. "planner.maxMoves". */
export function configPath (key: SettingKey): string {
  return FIELDS[key].path
}

/** One value checked by the config's own rule: the issue when it breaks it (the first, for a rule list). */
export function settingIssue (key: SettingKey, value: unknown): Issue | undefined {
  return settingIssues(key, value)[0]
}

/** Every issue of one value, each with its path under the key (`rules[2].dcs`), so a bad rule is found in its file. */
export function settingIssues (key: SettingKey, value: unknown): Issue[] {
  // undefined would take the field's default: a value must be given.
  if (value === undefined) return [{ path: key, expected: 'a value', found: 'nothing' }]
  const r = FIELDS[key].schema.safeParse(value, { error: expectedWording, reportInput: true })
  if (r.success) return []
  const issues = toIssues(r.error.issues).map(i => ({ ...i, path: under(key, i.path) }))
  return issues.length === 0 ? [{ path: key, expected: 'a valid value', found: String(value) }] : issues
}

/** `rules` and `[2].dcs` as `rules[2].dcs`. */
function under (key: string, path: string): string {
  if (path === '') return key
  return path.startsWith('[') ? `${key}${path}` : `${key}.${path}`
}

/**
 * Checks a change (keys to set with their values, keys to unset) and
 * returns it typed; throws a ValidationError listing every problem.
 */
export function checkChange (set: Record<string, unknown>, unset: readonly string[] = []): { set: SettingValues, unset: SettingKey[] } {
  const issues: Issue[] = []
  const out: Record<string, unknown> = {}
  const known = (key: string): key is SettingKey => {
    if (isSettingKey(key)) return true
    const near = nearest(key, SETTING_KEYS)
    issues.push({ path: key, expected: near === undefined ? `a cluster setting (${SETTING_KEYS.join(', ')})` : `a cluster setting (did you mean ${near}?)`, found: JSON.stringify(key) })
    return false
  }
  for (const [key, value] of Object.entries(set)) {
    if (!known(key)) continue
    const found = settingIssues(key, value)
    // Rules as the wire's reader shapes them (fields in one order), so the
    // setter's record and the copies read off the gossip compare the same
    // (lib/settings.ts newer: the last tie-breaker compares values as JSON).
    if (found.length === 0) out[key] = key === 'rules' ? readClusterRules(new Checker(), key, value) : value
    else issues.push(...found)
  }
  const keys = unset.filter(known)
  if (issues.length > 0) throw new ValidationError('cluster settings', issues)
  return { set: out as SettingValues, unset: keys }
}

/** An operator's word for a value (the CLI's VALUE) as the value: mode as is, numbers as numbers. */
export function parseWord (key: string, word: string): string | number {
  if (key === 'mode') return word
  const n = Number(word)
  return word.trim() === '' || Number.isNaN(n) ? word : n
}

export interface Effective {
  mode: Mode
  planner: AgentConfig['planner']
  safety: SafetyConfig
}

/** The host's file with the cluster's values over it: what this agent runs by. */
export function effective (file: Effective, settings: ClusterSettings | undefined): Effective {
  const v = settings?.values ?? {}
  const planner = { ...file.planner }
  const safety = { ...file.safety }
  if (v.maxMoves !== undefined) planner.maxMoves = v.maxMoves
  if (v.maxMovesPerHost !== undefined) planner.maxMovesPerHost = v.maxMovesPerHost
  if (v.minGain !== undefined) planner.minGain = v.minGain
  if (v.maxInFlight !== undefined) safety.maxInFlight = v.maxInFlight
  if (v.maxInFlightPerHost !== undefined) safety.maxInFlightPerHost = v.maxInFlightPerHost
  if (v.minImprovement !== undefined) safety.minImprovement = v.minImprovement
  if (v.cooldownRounds !== undefined) safety.cooldownRounds = v.cooldownRounds
  // The whole list, not a merge: the cluster's rules replace the file's.
  if (v.rules !== undefined) planner.rules = v.rules
  return { mode: v.mode ?? file.mode, planner, safety }
}

/** One setting as it applies here: its value (the rule list summed up: describeRules) and where it comes from. */
export interface SettingRow {
  key: SettingKey
  value: Mode | number | string
  source: 'file' | 'cluster'
}

/** Each setting's value in effect, with its source. */
export function settingRows (file: Effective, settings: ClusterSettings | undefined): SettingRow[] {
  const e = effective(file, settings)
  const flat: Record<SettingKey, Mode | number | string> = {
    mode: e.mode,
    maxMoves: e.planner.maxMoves,
    maxMovesPerHost: e.planner.maxMovesPerHost,
    minGain: e.planner.minGain,
    maxInFlight: e.safety.maxInFlight,
    maxInFlightPerHost: e.safety.maxInFlightPerHost,
    minImprovement: e.safety.minImprovement,
    cooldownRounds: e.safety.cooldownRounds,
    rules: describeRules(e.planner.rules)
  }
  return SETTING_KEYS.map(key => ({ key, value: flat[key], source: settings?.values[key] !== undefined ? 'cluster' : 'file' }))
}

/** What changed between two effective configs, as "key: old -> new" entries (for the log). */
export function changes (before: SettingRow[], after: SettingRow[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const a of after) {
    const b = before.find(x => x.key === a.key)
    if (b !== undefined && b.value !== a.value) out[a.key] = `${String(b.value)} -> ${String(a.value)}`
  }
  return out
}
