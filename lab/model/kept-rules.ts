/**
 * Random placement rules that a snapshot's own placement keeps, and a check
 * that plays a plan move by move against them: for the rules tests and the
 * rules bench (lab/bench/rules.ts).
 */
import type { Plan, PlacementRule, Snapshot } from '../../lib/model.ts'
import { Random } from '../../lib/random.ts'
import { brokenRules } from '../../lib/rules.ts'

/** Each VM's DC where the snapshot has it. */
export function startDcs (s: Snapshot): Map<string, string> {
  const hostDc = new Map(s.hosts.map(h => [h.id, h.dc]))
  return new Map(s.vms.map(v => [v.id, hostDc.get(v.host)!]))
}

/**
 * Rules the start keeps, as tight as it allows (so they bind): spread at the
 * start's own most-per-DC and DC count, together for groups in one DC,
 * avoid for DCs a VM or group is not in.
 */
export function keptRules (s: Snapshot, seed: number, n = 6): PlacementRule[] {
  const rng = new Random(seed)
  const dcOf = startDcs(s)
  const groups = new Map<string, string[]>()
  for (const v of s.vms) if (v.group !== undefined) groups.set(v.group, [...(groups.get(v.group) ?? []), v.id])
  const names = [...groups.keys()]
  const dcs = s.dcs.map(d => d.id)
  const rules: PlacementRule[] = []
  for (let i = 0; i < n && names.length > 0; i++) {
    const group = rng.pick(names)
    const members = groups.get(group)!
    const perDc = new Map<string, number>()
    for (const m of members) perDc.set(dcOf.get(m)!, (perDc.get(dcOf.get(m)!) ?? 0) + 1)
    const outside = dcs.filter(d => !perDc.has(d))
    switch (rng.int(0, 3)) {
      case 0: rules.push({ kind: 'spread', group, maxPerDc: Math.max(...perDc.values()) }); break
      case 1: rules.push({ kind: 'spread', group, minDcs: perDc.size }); break
      case 2: if (perDc.size === 1) rules.push({ kind: 'together', group }); else rules.push({ kind: 'spread', group, minDcs: perDc.size, maxPerDc: Math.max(...perDc.values()) }); break
      default: {
        const vm = rng.pick(s.vms)
        const away = dcs.filter(d => d !== dcOf.get(vm.id) && rng.next() < 0.5)
        if (away.length > 0) rules.push({ kind: 'avoid', vm: vm.id, dcs: away })
        else if (outside.length > 0) rules.push({ kind: 'avoid', group, dcs: [outside[0]!] })
      }
    }
  }
  return rules
}

/**
 * Plays `plan` from the snapshot; after each move, the rules broken then.
 * The first entry is the start.
 */
export function brokenAlong (s: Snapshot, plan: Plan): string[][] {
  const dcOf = startDcs(s)
  const out = [brokenRules(s, dcOf).map(b => `${b.rule}: ${b.why}`)]
  for (const m of plan.moves) {
    dcOf.set(m.vm, m.toDc)
    out.push(brokenRules(s, dcOf).map(b => `${b.rule}: ${b.why}`))
  }
  return out
}
