/**
 * Placement rules (docs/planner.md, "Placement rules"): reading them with
 * clear errors, and which rules a placement breaks. The planners' fast
 * check is in rule-counts.ts; this file works on the JSON records.
 *
 * - `spread`: a group keeps members in at least `minDcs` DCs and at most
 *   `maxPerDc` in any one DC.
 * - `together`: every member of a group in one DC.
 * - `avoid`: a VM, or every member of a group, never in the listed DCs.
 */
import { type Checker as CheckerType, Checker, join, type Json } from './check.ts'
import type { AvoidRule, PlacementRule, Snapshot } from './model.ts'

export const RULE_KINDS = ['spread', 'together', 'avoid'] as const

/** The names a rule may refer to. */
export interface RuleNames {
  dcs: ReadonlySet<string>
  vms: ReadonlySet<string>
  groups: ReadonlySet<string>
}

export function namesIn (snapshot: Pick<Snapshot, 'dcs' | 'vms'>): RuleNames {
  return {
    dcs: new Set(snapshot.dcs.map(d => d.id)),
    vms: new Set(snapshot.vms.map(v => v.id)),
    groups: new Set(snapshot.vms.flatMap(v => v.group === undefined ? [] : [v.group]))
  }
}

/** Reads `value` as a list of rules; every problem goes to `c` with its path. */
export function readRules (c: CheckerType, path: string, value: Json, names: RuleNames): PlacementRule[] {
  const arr = c.array(path, value) ?? []
  const out: PlacementRule[] = []
  arr.forEach((v, i) => {
    const rule = readRule(c, join(path, i), v, names)
    if (rule !== undefined) out.push(rule)
  })
  return out
}

/**
 * One rule. Without `names` only its form is checked (a cluster setting,
 * checked where no snapshot is at hand: its names are checked at each plan
 * by withRules).
 */
export function readRule (c: CheckerType, path: string, v: Json, names?: RuleNames): PlacementRule | undefined {
  const o = c.object(path, v)
  if (o === undefined) return undefined
  const kind = o.kind
  if (kind === 'together') {
    c.onlyKeys(path, o, ['kind', 'group'])
    const group = groupRef(c, join(path, 'group'), o.group, names)
    return group === undefined ? undefined : { kind, group }
  }
  if (kind === 'spread') {
    c.onlyKeys(path, o, ['kind', 'group', 'minDcs', 'maxPerDc'])
    const group = groupRef(c, join(path, 'group'), o.group, names)
    const minDcs = c.optional(o.minDcs, x => c.number(join(path, 'minDcs'), x, { integer: true, min: 1, ...(names === undefined ? {} : { max: names.dcs.size }) }))
    const maxPerDc = c.optional(o.maxPerDc, x => c.number(join(path, 'maxPerDc'), x, { integer: true, min: 1 }))
    if (o.minDcs === undefined && o.maxPerDc === undefined) c.fail(path, 'minDcs or maxPerDc (or both)', 'neither')
    if (group === undefined || (minDcs === undefined && maxPerDc === undefined)) return undefined
    return { kind, group, ...(minDcs === undefined ? {} : { minDcs }), ...(maxPerDc === undefined ? {} : { maxPerDc }) }
  }
  if (kind === 'avoid') {
    c.onlyKeys(path, o, ['kind', 'vm', 'group', 'dcs'])
    if ((o.vm === undefined) === (o.group === undefined)) c.fail(path, 'exactly one of vm and group', o.vm === undefined ? 'neither' : 'both')
    const vm = c.optional(o.vm, x => ref(c, join(path, 'vm'), x, names?.vms, 'a VM in vms[]'))
    const group = c.optional(o.group, x => groupRef(c, join(path, 'group'), x, names))
    const dcs: string[] = []
    const list = c.array(join(path, 'dcs'), o.dcs) ?? []
    list.forEach((d, i) => {
      const id = ref(c, join(join(path, 'dcs'), i), d, names?.dcs, 'a DC in dcs[]')
      if (id !== undefined && !dcs.includes(id)) dcs.push(id)
    })
    if (list.length === 0 && Array.isArray(o.dcs)) c.fail(join(path, 'dcs'), 'at least one DC', 'an empty list')
    const everyDc = names !== undefined && dcs.length >= names.dcs.size
    if (dcs.length > 0 && everyDc) c.fail(join(path, 'dcs'), 'a DC left to run in (not every DC)', `all ${names.dcs.size}`)
    if ((vm === undefined && group === undefined) || dcs.length === 0 || everyDc) return undefined
    const rule: AvoidRule = { kind, dcs }
    if (vm !== undefined) rule.vm = vm
    if (group !== undefined) rule.group = group
    return rule
  }
  c.fail(join(path, 'kind'), `one of ${RULE_KINDS.join(', ')}`, kind)
  return undefined
}

function ref (c: CheckerType, path: string, v: Json, known: ReadonlySet<string> | undefined, what: string): string | undefined {
  const id = c.string(path, v)
  if (id === undefined || known === undefined) return id
  if (!known.has(id)) { c.fail(path, `the id of ${what}`, id); return undefined }
  return id
}

function groupRef (c: CheckerType, path: string, v: Json, names: RuleNames | undefined): string | undefined {
  const id = c.string(path, v)
  if (id === undefined || names === undefined) return id
  if (!names.groups.has(id)) { c.fail(path, 'a group some VM in vms[] belongs to', id); return undefined }
  return id
}

/**
 * The snapshot with `extra` rules added (an agent's config), keeping only
 * those that name what the snapshot holds: a VM or a group may be gone, and
 * an agent must plan on. What was left out is returned, worded as errors.
 */
export function withRules (snapshot: Snapshot, extra: readonly Json[]): { snapshot: Snapshot, ignored: string[] } {
  if (extra.length === 0) return { snapshot, ignored: [] }
  const names = namesIn(snapshot)
  const kept: PlacementRule[] = []
  const ignored: string[] = []
  extra.forEach((r, i) => {
    const c = new Checker()
    const rule = readRule(c, `rules[${i}]`, r, names)
    if (rule !== undefined && c.ok) kept.push(rule)
    else ignored.push(c.summary())
  })
  return { snapshot: { ...snapshot, rules: [...(snapshot.rules ?? []), ...kept] }, ignored }
}

/** One broken rule: which (index in `rules`) and how (for messages and tests). */
export interface Broken {
  rule: number
  why: string
}

/** The rules `dcOf` (VM id -> DC id) breaks. O(VMs + rules x DCs). */
export function brokenRules (snapshot: Snapshot, dcOf: ReadonlyMap<string, string>): Broken[] {
  const rules = snapshot.rules ?? []
  if (rules.length === 0) return []
  const byGroup = new Map<string, string[]>()
  for (const v of snapshot.vms) {
    if (v.group === undefined) continue
    const list = byGroup.get(v.group) ?? []
    list.push(v.id)
    byGroup.set(v.group, list)
  }
  const out: Broken[] = []
  rules.forEach((r, rule) => {
    const members = r.kind === 'avoid' && r.vm !== undefined ? [r.vm] : byGroup.get(r.group ?? '') ?? []
    const perDc = new Map<string, number>()
    for (const m of members) { const d = dcOf.get(m); if (d !== undefined) perDc.set(d, (perDc.get(d) ?? 0) + 1) }
    if (r.kind === 'avoid') {
      const inside = members.filter(m => r.dcs.includes(dcOf.get(m) ?? ''))
      if (inside.length > 0) out.push({ rule, why: `${inside.join(', ')} in ${r.dcs.join('/')}` })
    } else if (r.kind === 'together') {
      if (perDc.size > 1) out.push({ rule, why: `group ${r.group} in ${perDc.size} DCs` })
    } else {
      if (r.minDcs !== undefined && perDc.size < Math.min(r.minDcs, members.length)) out.push({ rule, why: `group ${r.group} in ${perDc.size} DCs, fewer than ${r.minDcs}` })
      const most = Math.max(0, ...perDc.values())
      if (r.maxPerDc !== undefined && most > r.maxPerDc) out.push({ rule, why: `group ${r.group} has ${most} in one DC, more than ${r.maxPerDc}` })
    }
  })
  return out
}
