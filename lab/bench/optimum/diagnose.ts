/**
 * Where a planner's placement differs from the optimum, by application
 * group: how each group is spread over DCs initially, in the planner's
 * result and in the optimum. Groups come from the snapshot's `group` field.
 */
import type { Instance } from '../../../lib/instance.ts'

export interface GroupView {
  group: string
  size: number
  init: string
  found: string
  opt: string
}

export interface Diagnosis {
  /** VMs whose DC differs between the planner's result and the optimum. */
  offDc: number
  /** Groups in one DC in the optimum but split in the result. */
  splitVsWhole: number
  /** Groups in one DC in both, but not the same DC. */
  wholeElsewhere: number
  groups: GroupView[]
}

export function diagnose (inst: Instance, init: Int32Array, found: Int32Array, opt: Int32Array): Diagnosis {
  const members = new Map<string, number[]>()
  inst.snapshot.vms.forEach((vm, v) => {
    const g = vm.group ?? vm.id
    if (!members.has(g)) members.set(g, [])
    members.get(g)!.push(v)
  })
  const dc = (hostOf: Int32Array, v: number): number => inst.hostDc[hostOf[v]!]!
  let offDc = 0
  for (let v = 0; v < inst.nVm; v++) if (dc(found, v) !== dc(opt, v)) offDc++
  let splitVsWhole = 0; let wholeElsewhere = 0
  const groups: GroupView[] = []
  for (const [group, vs] of members) {
    const f = spread(inst, found, vs); const o = spread(inst, opt, vs)
    if (o.size === 1 && f.size > 1) splitVsWhole++
    if (o.size === 1 && f.size === 1 && [...o.keys()][0] !== [...f.keys()][0]) wholeElsewhere++
    groups.push({ group, size: vs.length, init: show(inst, spread(inst, init, vs)), found: show(inst, f), opt: show(inst, o) })
  }
  return { offDc, splitVsWhole, wholeElsewhere, groups }
}

/** VM count per DC for a set of VMs. */
function spread (inst: Instance, hostOf: Int32Array, vs: number[]): Map<number, number> {
  const m = new Map<number, number>()
  for (const v of vs) { const d = inst.hostDc[hostOf[v]!]!; m.set(d, (m.get(d) ?? 0) + 1) }
  return m
}

function show (inst: Instance, m: Map<number, number>): string {
  return [...m].sort((a, b) => a[0] - b[0]).map(([d, n]) => `${inst.dcIds[d]}:${n}`).join(' ')
}
