import test from 'ava'
import { migrateArgs, migrateUri, targetUri } from '../../../../agent/drivers/libvirt/commands.ts'

const B = 'fd00:4854:1:2::2'

test('target URIs per transport put the IPv6 address in brackets', t => {
  t.is(targetUri('ssh', B), `qemu+ssh://root@[${B}]/system`)
  t.is(targetUri('tls', B), `qemu+tls://[${B}]/system`)
  t.is(targetUri('tcp', B), `qemu+tcp://[${B}]/system`)
  t.is(migrateUri(B), `tcp://[${B}]`)
  t.throws(() => targetUri('ssh', '192.0.2.1'), { name: 'HypervisorError', message: /not an IPv6/ })
  t.throws(() => targetUri('ssh', 'host; rm -rf /'), { name: 'HypervisorError' })
})

test('virsh migrate: live, peer to peer, definition moved, memory to the target address', t => {
  t.deepEqual(migrateArgs({ domain: 'web-1', address: B, transport: 'ssh' }), [
    'migrate', '--live', '--p2p', '--persistent', '--undefinesource', '--', 'web-1', `qemu+ssh://root@[${B}]/system`, `tcp://[${B}]`
  ])
})

test('virsh migrate: bandwidth in whole MiB/s, at least 1; a URI from the target replaces the built one', t => {
  const args = migrateArgs({ domain: '-odd-name', address: B, transport: 'tcp', maxBandwidth: 12.5e6, uri: `qemu+tls://[${B}]/system` })
  t.deepEqual(args, ['migrate', '--live', '--p2p', '--persistent', '--undefinesource', '--bandwidth', '11', '--', '-odd-name', `qemu+tls://[${B}]/system`, `tcp://[${B}]`])
  t.deepEqual(migrateArgs({ domain: 'x', address: B, transport: 'tcp', maxBandwidth: 1000 }).slice(5, 7), ['--bandwidth', '1'])
  t.throws(() => migrateArgs({ domain: 'x', address: B, transport: 'tcp', maxBandwidth: 0 }), { name: 'HypervisorError' })
  t.throws(() => migrateArgs({ domain: 'x', address: B, transport: 'tcp', uri: 'tcp:[::1]:4444' }), { name: 'HypervisorError', message: /not a qemu\+ssh/ })
})
