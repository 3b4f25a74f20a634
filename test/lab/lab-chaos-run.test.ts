/**
 * Chaos in the lab, short: real agents in namespaces (follow-the-sun, 4 DCs
 * x 1 host), each fault kind once (kill -9 an agent, kill the planner as it
 * is elected, kill a migration's source and its target as the migration
 * starts, a DC's WAN down), the invariants checked after every round, and
 * every restarted agent reconciled with its hypervisor; the VMs of the
 * migrations cut short end on exactly one host.
 */
import { DEFAULT_LAB_FAULTS } from '../../lab/chaos/lab-faults.ts'
import { labChaosLog, labChaosTable } from '../../lab/chaos/lab-table.ts'
import { followTheSunChaos, labTest } from './helpers.ts'

const test = await labTest('test/lab/lab-chaos-run.test.ts')

test('lab chaos: every fault kind once against real agents; no violation, no split round, restarted agents reconcile', async t => {
  const r = await followTheSunChaos(t)
  for (const line of labChaosLog(r)) t.log(line)
  t.log('\n' + labChaosTable([{ name: 'test', report: r }]))
  t.deepEqual(r.violations, [])
  t.deepEqual(r.splitDetails, [])
  t.deepEqual(r.crashes, [])
  for (const k of DEFAULT_LAB_FAULTS) t.is(r.faults[k], 1, `${k} injected once`)
  const restarted = r.reconciliations.map(x => x.kind).sort()
  t.deepEqual(restarted, ['kill', 'kill-planner', 'kill-source', 'kill-target'])
  for (const x of r.reconciliations) t.true(x.ok, `${x.kind}: ${x.detail}`)
  // The migrations cut short: their VMs on exactly one host, wired, and every agent agrees.
  for (const x of r.reconciliations.filter(x => x.kind === 'kill-source' || x.kind === 'kill-target')) t.regex(x.detail, /on exactly one host/)
  t.true(r.moves > 0, 'the agents still moved VMs')
})
