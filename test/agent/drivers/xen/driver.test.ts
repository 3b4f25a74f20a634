/**
 * The Xen driver on xl outputs from Xen's and libvirt's sources
 * (fixtures/SOURCES.md): the command lines it runs and what it makes of
 * the answers. Untested on a live Xen host.
 */
import test from 'ava'
import type { CommandOptions, CommandResult, CommandRunner } from '../../../../agent/drivers/command.ts'
import { migrateArgs, sshHost } from '../../../../agent/drivers/xen/commands.ts'
import { XenDriver } from '../../../../agent/drivers/xen/driver.ts'
import { config, xlList, xlListLong } from './fixtures.ts'

const A = 'fd00:4854:1:2::1'
const B = 'fd00:4854:1:2::2'
const ok = (stdout: string): CommandResult => ({ code: 0, signal: null, stdout, stderr: '' })

function fakeXl (answer: (args: string[], opts: CommandOptions) => CommandResult | Promise<CommandResult>): { run: CommandRunner, calls: string[][] } {
  const calls: string[][] = []
  return { calls, run: async (argv, opts) => { calls.push([...argv]); return await answer(argv.slice(1), opts) } }
}

async function started (run: CommandRunner, extra: Partial<ConstructorParameters<typeof XenDriver>[0]> = {}): Promise<XenDriver> {
  const d = new XenDriver({ address: A }, { run, ...extra })
  await d.start()
  return d
}

/** Domain-0, test-pv (blocked, i.e. idle), and test-hvm arriving (NAME--incoming, paused): CONSTRUCTED tables around libvirt's libxl configs. */
async function host (hvmName = 'test-hvm--incoming', hvmState = '--p---'): Promise<Record<string, string>> {
  return {
    list: xlList([
      { name: 'Domain-0', domid: 0, memMiB: 750, vcpus: 4, state: 'r-----', seconds: 11794.3 },
      { name: 'test-pv', domid: 1, memMiB: 512, vcpus: 4, state: '-b----', seconds: 12.5 },
      { name: hvmName, domid: 2, memMiB: 1024, vcpus: 4, state: hvmState, seconds: 0.1 }
    ]),
    'list -l': xlListLong([
      { domid: 0, config: { c_info: { type: 'pv', name: 'Domain-0' }, b_info: { max_vcpus: 4, max_memkb: 768000 } } },
      { domid: 1, config: await config('libxl-config-multiple-ip.json') },
      { domid: 2, config: await config('libxl-config-basic-hvm.json', hvmName) }
    ]),
    info: 'xen_major              : 4\n'
  }
}

test('list: joins xl list and xl list -l; Domain-0 left out; an incoming domain shows under its own id', async t => {
  const outputs = await host()
  const x = fakeXl(args => ok(outputs[args.join(' ')] ?? ''))
  const d = await started(x.run)
  t.deepEqual(await d.list(), [
    { id: 'test-hvm', status: 'incoming', memoryMiB: 1024, vcpus: 4, addresses: [] },
    { id: 'test-pv', status: 'running', memoryMiB: 512, vcpus: 4, addresses: ['2000:abcd::1'] }
  ])
  t.deepEqual(x.calls.map(c => c.join(' ')), ['xl info', 'xl list', 'xl list -l'])
})

test('list: a domain in only one of the two answers (created or gone between them) is left for the next list', async t => {
  const outputs = await host()
  outputs['list -l'] = xlListLong([{ domid: 1, config: await config('libxl-config-multiple-ip.json') }])
  const d = await started(fakeXl(args => ok(outputs[args.join(' ')] ?? '')).run)
  t.deepEqual((await d.list()).map(v => v.id), ['test-pv'])
})

test('start: not a Xen host is refused with a clear reason', async t => {
  // A made-up message: the test is about the driver's wording around it.
  const x = fakeXl(() => ({ code: 1, signal: null, stdout: '', stderr: 'no hypervisor here (test message)\n' }))
  await t.throwsAsync(new XenDriver({ address: A }, { run: x.run }).start(), { name: 'HypervisorError', message: /cannot run xl info: no hypervisor here \(test message\).*xencommons/ })
})

test('migrate: xl migrate over ssh to root@<IPv6>, BatchMode by default', async t => {
  const outputs = await host()
  // xl_migrate.c's messages on the sender for a successful migration.
  const x = fakeXl(args => args[0] === 'migrate'
    ? { code: 0, signal: null, stdout: '', stderr: 'migration sender: Target has acknowledged transfer.\nmigration sender: Giving target permission to start.\nmigration sender: Target reports successful startup.\nMigration successful.\n' }
    : ok(outputs[args.join(' ')] ?? ''))
  const d = await started(x.run)
  const r = await d.migrate('test-pv', { address: B }, { deadlineMs: 60_000 })
  t.true(r.ok)
  t.is(r.downtimeMs, undefined, 'xl reports no downtime')
  t.is(r.bytes, undefined, 'nor bytes')
  t.deepEqual(x.calls.at(-1), ['xl', 'migrate', '-s', 'ssh -o BatchMode=yes', 'test-pv', `root@${B}`])
})

test('migrate: a failure carries xl\'s last words; the deadline stops xl with SIGTERM', async t => {
  const x = fakeXl((args, opts) => {
    if (args[0] === 'info') return ok('')
    if (opts.killSignal === 'SIGTERM' && opts.timeoutMs === 50) return new Promise(resolve => setTimeout(() => resolve({ code: null, signal: 'SIGTERM', stdout: '', stderr: '' }), 60))
    // xl_migrate.c's messages for a failed suspend (rc -3 is libxl's ERROR_FAIL).
    return { code: 1, signal: null, stdout: '', stderr: 'migration sender: libxl_domain_suspend failed (rc=-3)\nMigration failed, resuming at sender.\n' }
  })
  const d = await started(x.run)
  const failed = await d.migrate('test-pv', { address: B }, { deadlineMs: 60_000 })
  t.false(failed.ok)
  t.is(failed.error, 'migration sender: libxl_domain_suspend failed (rc=-3); Migration failed, resuming at sender.')
  const late = await d.migrate('test-pv', { address: B }, { deadlineMs: 50 })
  t.false(late.ok)
  t.regex(late.error ?? '', /^deadline of 50 ms passed, xl migrate stopped/)
})

test('migrate: a custom ssh command and user; unsafe names, users and non-IPv6 targets are refused before xl runs', t => {
  t.deepEqual(migrateArgs({ domain: 'web.1', address: B, sshCommand: 'ssh -p 2222 -o BatchMode=yes', sshUser: 'xenmig' }), ['migrate', '-s', 'ssh -p 2222 -o BatchMode=yes', 'web.1', `xenmig@${B}`])
  t.throws(() => migrateArgs({ domain: '-C/etc/passwd', address: B, sshCommand: 'ssh', sshUser: 'root' }), { name: 'HypervisorError', message: /domain name/ })
  t.throws(() => migrateArgs({ domain: 'a b', address: B, sshCommand: 'ssh', sshUser: 'root' }), { name: 'HypervisorError' })
  t.throws(() => sshHost('root', '192.0.2.1'), { name: 'HypervisorError', message: /not an IPv6/ })
  t.throws(() => sshHost('root;reboot', B), { name: 'HypervisorError', message: /user/ })
})

test('prepareIncoming says where; cancelIncoming destroys NAME--incoming, never an arrived NAME', async t => {
  let outputs = await host()
  const x = fakeXl(args => ok(outputs[args.join(' ')] ?? ''))
  const d = await started(x.run)
  t.deepEqual(await d.prepareIncoming({ id: 'web', status: 'running', memoryMiB: 512, vcpus: 1, addresses: [] }), { address: A })
  await t.throwsAsync(d.prepareIncoming({ id: 'test-pv', status: 'running', memoryMiB: 512, vcpus: 4, addresses: [] }), { name: 'HypervisorError', message: /already has a domain/ })
  await d.cancelIncoming('test-hvm')
  t.deepEqual(x.calls.at(-1), ['xl', 'destroy', 'test-hvm--incoming'])
  outputs = await host('test-hvm', 'r-----')
  await t.throwsAsync(d.cancelIncoming('test-hvm'), { name: 'HypervisorError', message: /running here, not waiting/ })
  await d.cancelIncoming('not-here')
})
