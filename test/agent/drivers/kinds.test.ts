/** The config kinds of the host parts: 'file' collector, 'libvirt' and 'xen' hypervisors, built by the daemon. */
import test from 'ava'
import { parseConfig } from '../../../agent/config.ts'
import { makeCollector, makeHypervisor } from '../../../agent/daemon.ts'
import { FileCollector } from '../../../agent/drivers/file/collector.ts'
import { LibvirtDriver } from '../../../agent/drivers/libvirt/driver.ts'
import { XenDriver } from '../../../agent/drivers/xen/driver.ts'

function config (parts: Record<string, unknown>): Record<string, unknown> {
  return {
    cluster: 'c1',
    host: 'h1',
    dc: 'A',
    pskFile: '/nonexistent/psk',
    members: [{ host: 'h1', peerId: 'p1' }],
    topologyFile: '/nonexistent/topology.json',
    address: 'fd00::1',
    capacity: { memoryMiB: 1024, vcpus: 2 },
    collector: { kind: 'sim', world: '/nonexistent' },
    hypervisor: { kind: 'sim', world: '/nonexistent' },
    ...parts
  }
}

test('collector kind file: a path; the daemon builds a FileCollector', t => {
  const c = parseConfig(config({ collector: { kind: 'file', path: '/run/flows.jsonl' } }))
  t.deepEqual(c.collector, { kind: 'file', path: '/run/flows.jsonl' })
  const made = makeCollector(c)
  t.true(made instanceof FileCollector)
  t.is((made as FileCollector).path, '/run/flows.jsonl')
  t.throws(() => parseConfig(config({ collector: { kind: 'file', path: '/x', hooks: [] } })), { message: /collector/ })
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
