/**
 * Placement rules as a cluster setting (docs/design.md §3.6): the whole
 * list travels in the settings record. Only its form is checked here (by
 * lib/rules.ts readRule, without names): a rule's VMs, groups and DCs are
 * checked at each plan against the cluster's snapshot, where one naming
 * what is not there is left out and said (withRules), as for the file's.
 * The list is bounded so a record stays far below the gossip's message
 * bound (lib/wire/messages.ts MAX_MESSAGE_BYTES, 256 KiB) and the control
 * socket's request bound.
 */
import { type Checker, type Json } from './check.ts'
import type { PlacementRule } from './model.ts'
import { readRule, RULE_KINDS } from './rules.ts'

/** Rules at most in a cluster's list: far more than an operator writes by hand. */
export const MAX_CLUSTER_RULES = 256
/** The list's size at most, as compact JSON (UTF-8): an eighth of a gossip message. */
export const MAX_CLUSTER_RULES_BYTES = 32 * 1024

/** The list's size as compact JSON, in UTF-8 bytes (what the bound counts). */
export function rulesBytes (rules: Json): number {
  return new TextEncoder().encode(JSON.stringify(rules)).length
}

/** Reads a cluster's rule list: every rule's form, within the bounds; problems go to `c` with their paths. */
export function readClusterRules (c: Checker, path: string, v: Json): PlacementRule[] | undefined {
  const list = c.array(path, v)
  if (list === undefined) return undefined
  let ok = true
  if (list.length > MAX_CLUSTER_RULES) { c.fail(path, `at most ${MAX_CLUSTER_RULES} rules`, `${list.length} rules`); ok = false }
  const bytes = rulesBytes(list)
  if (bytes > MAX_CLUSTER_RULES_BYTES) { c.fail(path, `at most ${MAX_CLUSTER_RULES_BYTES} bytes of rules (as compact JSON)`, `${bytes} bytes`); ok = false }
  // Over a bound, the rules themselves are not read: a huge list is refused cheaply.
  if (!ok) return undefined
  const out: PlacementRule[] = []
  list.forEach((r, i) => {
    const rule = readRule(c, `${path}[${i}]`, r)
    if (rule !== undefined) out.push(rule)
  })
  return out.length === list.length && c.ok ? out : undefined
}

/** "3 rules (1 spread, 2 avoid)": the count by kind, for `cluster show`, `status` and the log. */
export function describeRules (rules: readonly PlacementRule[]): string {
  if (rules.length === 0) return 'no rules'
  const byKind = RULE_KINDS.map(k => [k, rules.filter(r => r.kind === k).length] as const).filter(([, n]) => n > 0)
  return `${rules.length} rule${rules.length === 1 ? '' : 's'} (${byKind.map(([k, n]) => `${n} ${k}`).join(', ')})`
}
