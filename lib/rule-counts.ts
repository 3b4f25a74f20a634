/**
 * Placement rules compiled for the planners, and the one check they all
 * share: may VM v go from DC a to DC b? Each rule has a violation (0 when
 * kept); a move is allowed when it raises no rule's violation, so a kept
 * rule is never broken and a broken one never gets worse. Counts of each
 * group rule's members per DC make that O(rules of v) per query (O(DCs)
 * for `together`).
 *
 * Violations: avoid, members in avoided DCs (each avoid rule on its own); maxPerDc, members above the
 * limit summed over DCs; minDcs, DCs missing below the limit (capped at the
 * group's size); together, members outside the DC holding most of them
 * (so a split group mends by moving into the biggest part, and a whole
 * group never splits: it cannot leave its DC one VM at a time).
 */
import type { Snapshot } from './model.ts'

export const MAX_PER_DC = 0
export const MIN_DCS = 1
export const TOGETHER = 2
export const AVOID = 3

export interface CompiledRules {
  /** Each rule: kind (MAX_PER_DC, MIN_DCS, TOGETHER, AVOID), limit, members. */
  readonly kind: Uint8Array
  readonly limit: Int32Array
  readonly members: Int32Array[]
  /**
   * avoided[r * nDc + d] = 1: avoid rule r keeps its members out of DC d.
   * Each avoid rule stays its own (not one mask per VM): mending one must
   * not break another.
   */
  readonly avoided: Uint8Array
  /** The group rules of VM v: list[start[v] .. start[v+1]). */
  readonly vmStart: Int32Array
  readonly vmList: Int32Array
}

/** The snapshot's rules as indices; undefined when it has none. Names it does not hold are skipped (parseSnapshot reports them). */
export function compileRules (snapshot: Snapshot, dcIndex: ReadonlyMap<string, number>, vmIndex: ReadonlyMap<string, number>): CompiledRules | undefined {
  const rules = snapshot.rules ?? []
  if (rules.length === 0) return undefined
  const nDc = snapshot.dcs.length
  const nVm = snapshot.vms.length
  const byGroup = new Map<string, number[]>()
  snapshot.vms.forEach((v, i) => {
    if (v.group !== undefined) byGroup.set(v.group, [...(byGroup.get(v.group) ?? []), i])
  })
  const kind: number[] = []; const limit: number[] = []; const members: Int32Array[] = []; const avoided: number[] = []
  const add = (k: number, lim: number, m: number[], dcs: readonly string[] = []): void => {
    kind.push(k); limit.push(lim); members.push(Int32Array.from(m))
    const mask = new Array<number>(nDc).fill(0)
    for (const d of dcs) { const di = dcIndex.get(d); if (di !== undefined) mask[di] = 1 }
    avoided.push(...mask)
  }
  for (const r of rules) {
    if (r.kind === 'avoid') {
      const vms = r.vm !== undefined ? [vmIndex.get(r.vm)].filter(v => v !== undefined) : byGroup.get(r.group ?? '') ?? []
      if (vms.length > 0) add(AVOID, 0, vms, r.dcs)
      continue
    }
    const m = byGroup.get(r.group) ?? []
    if (m.length === 0) continue
    if (r.kind === 'together') add(TOGETHER, 1, m)
    else {
      if (r.maxPerDc !== undefined) add(MAX_PER_DC, r.maxPerDc, m)
      // A group smaller than minDcs keeps the rule by being in as many DCs as it has members.
      if (r.minDcs !== undefined) add(MIN_DCS, Math.min(r.minDcs, m.length), m)
    }
  }
  const per: number[][] = Array.from({ length: nVm }, () => [])
  members.forEach((m, r) => { for (const v of m) per[v]!.push(r) })
  const vmStart = new Int32Array(nVm + 1)
  for (let v = 0; v < nVm; v++) vmStart[v + 1] = vmStart[v]! + per[v]!.length
  if (kind.length === 0) return undefined
  return { kind: Uint8Array.from(kind), limit: Int32Array.from(limit), members, avoided: Uint8Array.from(avoided), vmStart, vmList: Int32Array.from(per.flat()) }
}

/** Members of each group rule per DC, kept current as VMs move. */
export class RuleCounts {
  readonly rules: CompiledRules
  readonly nDc: number
  /** count[r * nDc + d]: members of rule r in DC d; used[r]: DCs with any. */
  readonly count: Int32Array
  readonly used: Int32Array
  /** The sum of every rule's violation: 0 when all are kept. */
  violation = 0

  constructor (rules: CompiledRules, nDc: number, dcOf: (vm: number) => number) {
    this.rules = rules
    this.nDc = nDc
    const n = rules.kind.length
    this.count = new Int32Array(n * nDc)
    this.used = new Int32Array(n)
    for (let r = 0; r < n; r++) {
      for (const v of rules.members[r]!) if (this.count[r * nDc + dcOf(v)]!++ === 0) this.used[r]!++
      this.violation += this.ruleViolation(r)
    }
  }

  /** True when moving `vm` from DC `from` to DC `to` makes no rule worse. */
  allows (vm: number, from: number, to: number): boolean {
    return this.fixes(vm, from, to) >= 0
  }

  /**
   * How much moving `vm` from `from` to `to` lowers the total violation;
   * -1 if it makes any rule worse (even while mending another).
   */
  fixes (vm: number, from: number, to: number): number {
    if (from === to) return 0
    const { vmStart, vmList } = this.rules
    let fixed = 0
    for (let k = vmStart[vm]!; k < vmStart[vm + 1]!; k++) {
      const d = this.change(vmList[k]!, from, to)
      if (d > 0) return -1
      fixed -= d
    }
    return fixed
  }

  /** Records that `vm` moved from DC `from` to DC `to`. */
  moved (vm: number, from: number, to: number): void {
    if (from === to) return
    const { vmStart, vmList } = this.rules
    for (let k = vmStart[vm]!; k < vmStart[vm + 1]!; k++) {
      const r = vmList[k]!
      this.violation += this.change(r, from, to)
      const i = r * this.nDc
      if (--this.count[i + from]! === 0) this.used[r]!--
      if (this.count[i + to]!++ === 0) this.used[r]!++
    }
  }

  /** Rule r's violation now (see the file's comment). */
  ruleViolation (r: number): number {
    const lim = this.rules.limit[r]!
    const i = r * this.nDc
    switch (this.rules.kind[r]) {
      case MAX_PER_DC: {
        let over = 0
        for (let d = 0; d < this.nDc; d++) over += Math.max(0, this.count[i + d]! - lim)
        return over
      }
      case MIN_DCS: return Math.max(0, lim - this.used[r]!)
      case AVOID: {
        let inside = 0
        for (let d = 0; d < this.nDc; d++) inside += this.count[i + d]! * this.rules.avoided[i + d]!
        return inside
      }
      default: return this.rules.members[r]!.length - this.most(r, -1, -1)
    }
  }

  /** The change in rule r's violation if one member went from `from` to `to`. */
  private change (r: number, from: number, to: number): number {
    const lim = this.rules.limit[r]!
    const i = r * this.nDc
    const cf = this.count[i + from]!; const ct = this.count[i + to]!
    switch (this.rules.kind[r]) {
      case MAX_PER_DC: return (ct + 1 > lim ? 1 : 0) - (cf > lim ? 1 : 0)
      case MIN_DCS: {
        const used = this.used[r]!
        const after = used - (cf === 1 ? 1 : 0) + (ct === 0 ? 1 : 0)
        return Math.max(0, lim - after) - Math.max(0, lim - used)
      }
      case AVOID: return this.rules.avoided[i + to]! - this.rules.avoided[i + from]!
      default: return this.most(r, -1, -1) - this.most(r, from, to)
    }
  }

  /** Most members of rule r in one DC, if one went from `from` to `to` (-1, -1: as they are). */
  private most (r: number, from: number, to: number): number {
    const i = r * this.nDc
    let best = 0
    for (let d = 0; d < this.nDc; d++) {
      const c = this.count[i + d]! + (d === to ? 1 : 0) - (d === from ? 1 : 0)
      if (c > best) best = c
    }
    return best
  }
}
