import test from 'ava'
import { startTestCluster, waitFor } from './harness.ts'
import { threeDcSpec } from './scenario.ts'

test('stopping an agent mid-migration aborts the migration, reports it, and leaves the VM on exactly one host', async t => {
  // timeScale 1: a 1 GiB VM takes 8.6 s at 1 Gbit/s, longer than the stop grace of 5 s.
  const cluster = await startTestCluster(t, threeDcSpec({ roundPeriodMs: 2000, timeScale: 1, planner: { maxMoves: 1, minGain: 0 } }))
  const agents = [...cluster.agents.values()]
  await waitFor(() => agents.some(a => a.inFlight().length > 0), 20_000, 'a migration in flight')
  const source = agents.find(a => a.inFlight().length > 0)!
  const vm = source.inFlight()[0]!
  const before = (await cluster.world.vm(vm))!.host
  t.is(before, source.host)
  const others = agents.filter(a => a !== source)
  const started = Date.now()
  await source.stop()
  cluster.agents.delete(source.host)
  t.log(`${source.host} stopped in ${Date.now() - started} ms while migrating ${vm}`)
  const after = await cluster.world.vm(vm)
  t.is(after!.host, source.host, 'the aborted VM is still on its source, and only there')
  t.true((await cluster.world.vms()).filter(v => v.id === vm).length === 1)
  t.is(source.counters.migrationsFailed, 1, 'the abort is reported as a failed migration')
  // The others saw the leave at once: the host is no longer a candidate.
  await waitFor(() => others.every(a => !a.view.live(Date.now()).some(m => m.host === source.host)), 2000, 'the others to drop the leaving host from the candidates')
})
