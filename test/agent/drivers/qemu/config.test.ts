import test from 'ava'
import { validateVmConfig, vmPaths } from '../../../../agent/drivers/qemu/config.ts'
import { qemuCommand } from '../../../../agent/drivers/qemu/process.ts'
import { vmStatus } from '../../../../agent/drivers/qemu/status.ts'

const GOOD = { id: 'vm-1', memoryMiB: 128, vcpus: 1, addresses: ['fd00::5'], args: ['-m', '128'] }

test('a sidecar is validated field by field and only its known fields are kept', t => {
  t.deepEqual(validateVmConfig({ ...GOOD, extra: 1 }, 'x'), GOOD)
  for (const [bad, message] of [
    [{ ...GOOD, id: '../etc' }, /invalid VM id/],
    [{ ...GOOD, memoryMiB: 0 }, /memoryMiB/],
    [{ ...GOOD, vcpus: 1.5 }, /vcpus/],
    [{ ...GOOD, addresses: ['10.0.0.1'] }, /IPv6/],
    [{ ...GOOD, args: [1] }, /args must be strings/]
  ] as const) {
    t.throws(() => validateVmConfig(bad, 'x'), { name: 'HypervisorError', message })
  }
})

test('args from another host cannot take over the options the driver owns', t => {
  for (const option of ['-qmp', '-monitor', '-incoming', '-daemonize', '-pidfile', '--serial']) {
    t.throws(() => validateVmConfig({ ...GOOD, args: ['-m', '128', option, 'x'] }, 'x'), { name: 'HypervisorError', message: /the driver sets it/ })
  }
})

test('file paths sit in the directory; socket paths too long for sun_path are refused', t => {
  t.deepEqual(vmPaths('/run/ht', 'vm-1'), { qmp: '/run/ht/vm-1.qmp', config: '/run/ht/vm-1.json', pid: '/run/ht/vm-1.pid', log: '/run/ht/vm-1.log', handover: '/run/ht/vm-1.handover', outgoing: '/run/ht/vm-1.outgoing' })
  t.throws(() => vmPaths('/' + 'd'.repeat(100), 'vm-1'), { name: 'HypervisorError', message: /longer than 107 bytes/ })
})

test('the command line puts the host-specific options last and uses the launch prefix', t => {
  const paths = vmPaths('/run/ht', 'vm-1')
  t.deepEqual(qemuCommand({ binary: 'qemu', prefix: ['ip', 'netns', 'exec', 'a'], paths, args: ['-m', '64'], incoming: true }), [
    'ip', 'netns', 'exec', 'a', 'qemu', '-m', '64',
    '-daemonize', '-pidfile', '/run/ht/vm-1.pid', '-qmp', 'unix:/run/ht/vm-1.qmp,server=on,wait=off', '-serial', 'file:/run/ht/vm-1.log',
    '-incoming', 'defer', '-S'
  ])
})

test('QEMU run and migration states map to the agent\'s VM status', t => {
  t.is(vmStatus('running'), 'running')
  t.is(vmStatus('running', 'completed'), 'running')
  t.is(vmStatus('running', 'active'), 'migrating')
  t.is(vmStatus('finish-migrate'), 'migrating')
  t.is(vmStatus('inmigrate'), 'incoming')
  t.is(vmStatus('paused'), 'paused')
  t.is(vmStatus('postmigrate'), 'stopped')
  t.is(vmStatus('shutdown'), 'stopped')
})
