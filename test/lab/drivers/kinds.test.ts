/** The lab's driver kinds: 'sim' hypervisor and collector, 'lab' hypervisor, read and built with the lab's registry. */
import test from 'ava'
import { minimalConfig } from '../../config-fixture.ts'
import { parseConfig } from '../../../agent/config.ts'
import { makeCollector, makeHypervisor, startAgent } from '../../../agent/daemon.ts'
import { silentLogger } from '../../../agent/log.ts'
import { LAB_DRIVERS } from '../../../lab/drivers/index.ts'
import { LabHypervisor } from '../../../lab/drivers/lab-host/driver.ts'
import { SimCollector } from '../../../lab/drivers/sim-host/collector.ts'
import { SimHypervisor } from '../../../lab/drivers/sim-host/hypervisor.ts'

function config (parts: Record<string, unknown>): Record<string, unknown> {
  return minimalConfig({ collector: { kind: 'sim', world: '/nonexistent' }, hypervisor: { kind: 'sim', world: '/nonexistent' }, ...parts })
}

test('kind sim: defaults for bandwidth and time scale; the daemon builds the sim drivers', t => {
  const c = parseConfig(config({}), LAB_DRIVERS)
  t.deepEqual(c.hypervisor, { kind: 'sim', world: '/nonexistent', bandwidthBps: 1e9, timeScale: 1 })
  t.deepEqual(c.collector, { kind: 'sim', world: '/nonexistent' })
  t.true(makeHypervisor(c, LAB_DRIVERS) instanceof SimHypervisor)
  t.true(makeCollector(c, LAB_DRIVERS) instanceof SimCollector)
  t.throws(() => parseConfig(config({ hypervisor: { kind: 'sim', world: '/w', timeScale: -1 } }), LAB_DRIVERS), { message: /hypervisor\.timeScale/ })
})

test('kind lab: a state directory and nothing else; the daemon builds the lab driver', t => {
  const c = parseConfig(config({ hypervisor: { kind: 'lab', dir: '/x' } }), LAB_DRIVERS)
  t.deepEqual(c.hypervisor, { kind: 'lab', dir: '/x' })
  t.true(makeHypervisor(c, LAB_DRIVERS) instanceof LabHypervisor)
  t.throws(() => parseConfig(config({ hypervisor: { kind: 'lab', dir: '/x', migration: {} } }), LAB_DRIVERS), { message: /hypervisor\.migration/ })
})

test('the lab registry keeps production\'s kinds', t => {
  const c = parseConfig(config({ collector: { kind: 'file', path: '/f' }, hypervisor: { kind: 'xen' } }), LAB_DRIVERS)
  t.is(makeHypervisor(c, LAB_DRIVERS).name, 'xen')
  t.is(makeCollector(c, LAB_DRIVERS).name, 'file')
})

test('a config read with the lab\'s kinds does not start with production\'s: the daemon names the missing kind before any node exists', async t => {
  const c = parseConfig(config({}), LAB_DRIVERS)
  await t.throwsAsync(startAgent(c, { log: silentLogger() }), { message: /hypervisor driver "sim" is not in this build \(known: qemu, libvirt, xen\): sim is a lab-only driver/ })
})
