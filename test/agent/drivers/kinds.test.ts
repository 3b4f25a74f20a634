/** The config kinds of the host parts: 'file' collector, 'qemu', 'libvirt' and 'xen' hypervisors, built by the daemon. */
import test from 'ava'
import { minimalConfig } from '../../config-fixture.ts'
import { parseConfig } from '../../../agent/config.ts'
import { makeCollector, makeHypervisor } from '../../../agent/daemon.ts'
import { FileCollector } from '../../../agent/drivers/file/collector.ts'
import { LibvirtDriver } from '../../../agent/drivers/libvirt/driver.ts'
import { QemuDriver } from '../../../agent/drivers/qemu/driver.ts'
import { XenDriver } from '../../../agent/drivers/xen/driver.ts'

function config (parts: Record<string, unknown>): Record<string, unknown> {
  return minimalConfig(parts)
}

test('collector kind file: a path; the daemon builds a FileCollector', t => {
  const c = parseConfig(config({ collector: { kind: 'file', path: '/run/flows.jsonl' } }))
  t.deepEqual(c.collector, { kind: 'file', path: '/run/flows.jsonl' })
  const made = makeCollector(c)
  t.true(made instanceof FileCollector)
  t.is((made as FileCollector).path, '/run/flows.jsonl')
  t.throws(() => parseConfig(config({ collector: { kind: 'file', path: '/x', hooks: [] } })), { message: /collector/ })
})

test('hypervisor kind qemu: migration tuning from the config reaches the driver; bad values named', t => {
  const plain = parseConfig(config({ hypervisor: { kind: 'qemu', dir: '/run/ht' } }))
  t.deepEqual(plain.hypervisor, { kind: 'qemu', dir: '/run/ht' })
  t.deepEqual((makeHypervisor(plain) as QemuDriver).options.migration, {})
  const wan = parseConfig(config({ hypervisor: { kind: 'qemu', dir: '/run/ht', migration: { autoConverge: true, xbzrle: true, maxBandwidthBytesPerSec: 12_500_000 } } }))
  const d = makeHypervisor(wan)
  t.true(d instanceof QemuDriver)
  t.deepEqual((d as QemuDriver).options.migration, { autoConverge: true, xbzrle: true, maxBandwidth: 12_500_000 })
  t.throws(() => parseConfig(config({ hypervisor: { kind: 'qemu', dir: '/x', migration: { xbzrle: 'on' } } })), { message: /hypervisor\.migration\.xbzrle: expected true or false, found "on"/ })
  t.throws(() => parseConfig(config({ hypervisor: { kind: 'qemu', dir: '/x', migration: { maxBandwidthBytesPerSec: 0 } } })), { message: /hypervisor\.migration\.maxBandwidthBytesPerSec: expected a number >= 1, found 0/ })
  t.throws(() => parseConfig(config({ hypervisor: { kind: 'qemu', dir: '/x', migration: { autoconverge: true } } })), { message: /hypervisor\.migration\.autoconverge: expected one of the fields autoConverge, xbzrle, maxBandwidthBytesPerSec/ })
})

test('hypervisor kind libvirt: defaults, or uri, transport and address source; bad values named', t => {
  const plain = parseConfig(config({ hypervisor: { kind: 'libvirt' } }))
  t.deepEqual(plain.hypervisor, { kind: 'libvirt' })
  const d = makeHypervisor(plain)
  t.true(d instanceof LibvirtDriver)
  t.is((d as LibvirtDriver).transport, 'ssh')
  const full = parseConfig(config({ hypervisor: { kind: 'libvirt', uri: 'qemu:///system', transport: 'tls', addressSource: 'lease' } }))
  t.deepEqual(full.hypervisor, { kind: 'libvirt', uri: 'qemu:///system', transport: 'tls', addressSource: 'lease' })
  t.is((makeHypervisor(full) as LibvirtDriver).transport, 'tls')
  t.throws(() => parseConfig(config({ hypervisor: { kind: 'libvirt', transport: 'udp' } })), { message: /hypervisor\.transport/ })
  t.throws(() => parseConfig(config({ hypervisor: { kind: 'libvirt', dir: '/x' } })), { message: /hypervisor/ })
})

test('hypervisor kind xen: defaults, or the ssh command and user', t => {
  const plain = parseConfig(config({ hypervisor: { kind: 'xen' } }))
  t.deepEqual(plain.hypervisor, { kind: 'xen' })
  t.true(makeHypervisor(plain) instanceof XenDriver)
  const custom = parseConfig(config({ hypervisor: { kind: 'xen', sshCommand: 'ssh -p 2222', sshUser: 'xenmig' } }))
  t.deepEqual((makeHypervisor(custom) as XenDriver).options, { address: 'fd00::1', sshCommand: 'ssh -p 2222', sshUser: 'xenmig' })
  t.throws(() => parseConfig(config({ hypervisor: { kind: 'xen', sshUser: 7 } })), { message: /hypervisor\.sshUser/ })
})

test('the lab\'s kinds are not production\'s: a config naming one says where it runs, in one issue', t => {
  const err = t.throws(() => parseConfig(config({ hypervisor: { kind: 'sim', world: '/w' } })))
  t.regex(err!.message, /hypervisor\.kind: expected one of "qemu", "libvirt", "xen" \(sim is a lab-only driver: run it with the lab \(heliotrope lab agent --config FILE\)\), found "sim"/)
  t.is(err!.message.split('\n').length, 2, 'one issue, not the fields of some other kind')
  t.regex(t.throws(() => parseConfig(config({ collector: { kind: 'sim', world: '/w' } })))!.message, /collector\.kind: .*sim is a lab-only driver/)
  t.regex(t.throws(() => parseConfig(config({ hypervisor: { kind: 'lab', dir: '/x' } })))!.message, /hypervisor\.kind: .*lab is a lab-only driver/)
  t.regex(t.throws(() => parseConfig(config({ hypervisor: { kind: 'vmware' } })))!.message, /hypervisor\.kind: expected one of "qemu", "libvirt", "xen", found "vmware"/)
})
