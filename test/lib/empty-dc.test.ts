/**
 * A DC with no hosts in the snapshot: what an agent's view holds while a
 * partition cuts a DC off (its hosts are not live on this side) or after a
 * DC was drained to nothing. Its links and client prefixes still count, so
 * the DC stays in the instance; the planners must plan around it. The
 * annealer once picked a host of such a DC to exchange with and threw, so
 * the majority side of a lab partition planned nothing for whole rounds.
 */
import test from 'ava'
import { compile } from '../../lib/instance.ts'
import type { Snapshot } from '../../lib/model.ts'
import { PLANNERS } from '../../lib/planners/index.ts'
import { generate, SCENARIO_KINDS } from '../../lib/scenario.ts'

/** `snap` without the hosts of its last DC, their VMs and the flows of those VMs. */
function withoutLastDcHosts (snap: Snapshot): Snapshot {
  const gone = snap.dcs[snap.dcs.length - 1]!.id
  const hosts = snap.hosts.filter(h => h.dc !== gone)
  const live = new Set(hosts.map(h => h.id))
  const vms = snap.vms.filter(v => live.has(v.host))
  const ends = new Set([...vms.map(v => v.id), ...snap.prefixes.map(p => p.id)])
  const flows = snap.flows.filter(f => ends.has(f.src) && ends.has(f.dst) && (vms.some(v => v.id === f.src) || vms.some(v => v.id === f.dst)))
  return { ...snap, hosts, vms, flows }
}

test('a DC without hosts: every planner, with and without a budget, plans around it and never ends above the start', t => {
  let planned = 0
  for (const kind of SCENARIO_KINDS) {
    for (const [vms, dcs] of [[9, 4], [16, 4], [40, 3], [60, 5]] as const) {
      for (let seed = 1; seed <= 3; seed++) {
        const snap = withoutLastDcHosts(generate(kind, { vms, dcs, seed }))
        const inst = compile(snap)
        const emptyDc = inst.nDc - 1
        t.is(inst.dcHosts[emptyDc]!.length, 0)
        for (const [name, plan] of Object.entries(PLANNERS)) {
          for (const config of [{}, { maxMoves: 4, maxMovesPerHost: 3, minGain: 0.01 }]) {
            const where = `${name} ${JSON.stringify(config)} on ${kind} ${vms}x${dcs} seed ${seed}`
            const p = plan(inst, config)
            t.true(p.finalCost <= p.initialCost + 1e-12, `${where}: ends at ${p.finalCost} above the start ${p.initialCost}`)
            planned++
          }
        }
      }
    }
  }
  t.is(planned, SCENARIO_KINDS.length * 4 * 3 * Object.keys(PLANNERS).length * 2)
})
