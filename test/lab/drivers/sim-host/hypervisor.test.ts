/**
 * The sim hypervisor's target side, as real hypervisors have it: a VM being
 * received is listed there as 'incoming' (so admission counts its room), and
 * a migration whose target dropped the incoming VM fails with the VM left on
 * its source. Two drivers on one world directory stand for two hosts.
 */
import test from 'ava'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SimHypervisor } from '../../../../lab/drivers/sim-host/hypervisor.ts'
import { SimWorld } from '../../../../lab/drivers/sim-host/world.ts'

async function twoHosts (t: { teardown (fn: () => Promise<void>): void }): Promise<{ world: SimWorld, h1: SimHypervisor, h2: SimHypervisor }> {
  const dir = await mkdtemp(join(tmpdir(), 'ht-simhv-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const world = new SimWorld(dir)
  await world.init([{ id: 'vm1', host: 'h1', memoryMiB: 1024, vcpus: 2, addresses: ['fd00::1'] }], { flows: [], prefixes: [] })
  // 1024 MiB at 8 Gbit/s: about 1.1 s, times 0.2.
  const hv = (host: string, address: string): SimHypervisor => new SimHypervisor({ host, address }, { world: dir, bandwidthBps: 8e9, timeScale: 0.2 })
  return { world, h1: hv('h1', 'fd00::a1'), h2: hv('h2', 'fd00::a2') }
}

test('a prepared VM is listed at the target as incoming until it arrives, then runs there only', async t => {
  const { world, h1, h2 } = await twoHosts(t)
  const vm = (await h1.list())[0]!
  const target = await h2.prepareIncoming(vm)
  t.deepEqual((await h2.list()).map(v => [v.id, v.status, v.memoryMiB]), [['vm1', 'incoming', 1024]])
  const r = await h1.migrate('vm1', target, { deadlineMs: 10_000 })
  t.true(r.ok, r.error)
  t.deepEqual((await h2.list()).map(v => [v.id, v.status]), [['vm1', 'running']])
  t.deepEqual(await h1.list(), [])
  t.deepEqual(await world.incomingAt('h2'), [])
})

test('a migration to a target that cancelled the incoming VM fails and leaves the VM on its source', async t => {
  const { h1, h2 } = await twoHosts(t)
  const vm = (await h1.list())[0]!
  const target = await h2.prepareIncoming(vm)
  const migration = h1.migrate('vm1', target, { deadlineMs: 10_000 })
  // The target restarts mid-migration and drops what it was waiting for.
  await h2.cancelIncoming('vm1')
  const r = await migration
  t.false(r.ok)
  t.regex(r.error ?? '', /h2 no longer awaits the VM/)
  t.deepEqual((await h1.list()).map(v => [v.id, v.status]), [['vm1', 'running']])
  t.deepEqual(await h2.list(), [])
})
