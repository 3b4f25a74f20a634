/**
 * The libvirt driver's logic on recorded virsh outputs (fixtures/SOURCES.md):
 * which commands it runs, what it makes of the answers. live.test.ts runs
 * the same driver against real libvirtds.
 */
import test from 'ava'
import type { CommandResult, CommandRunner } from '../../../../agent/drivers/command.ts'
import { LibvirtDriver } from '../../../../agent/drivers/libvirt/driver.ts'
import { fixture } from './fixtures.ts'

const A = 'fd00:4854:1:2::1'
const B = 'fd00:4854:1:2::2'
const ok = (stdout: string): CommandResult => ({ code: 0, signal: null, stdout, stderr: '' })
const fail = (stderr: string): CommandResult => ({ code: 1, signal: null, stdout: '\n', stderr })

/** A virsh that answers from a table keyed by the arguments after `-c URI`; records every call. */
function fakeVirsh (answer: (args: string[]) => CommandResult | Promise<CommandResult>): { run: CommandRunner, calls: string[][] } {
  const calls: string[][] = []
  const run: CommandRunner = async (argv) => {
    calls.push([...argv])
    return await answer(argv.slice(3))
  }
  return { run, calls }
}

async function started (run: CommandRunner): Promise<LibvirtDriver> {
  const d = new LibvirtDriver({ address: A }, { uri: 'qemu:///system', transport: 'ssh', run })
  await d.start()
  return d
}

test('list: names, then dominfo (and domstate for a paused one) and domifaddr per domain', async t => {
  const outputs: Record<string, string> = {
    'list --name': await fixture('list-name.txt'),
    'dominfo -- htlv-guest1': await fixture('dominfo-running.txt'),
    'dominfo -- htlv-guest2': await fixture('dominfo-paused.txt'),
    'domstate --reason -- htlv-guest2': await fixture('domstate-paused-user.txt'),
    'domifaddr --full --source agent -- htlv-guest1': await fixture('domifaddr-format-ipv6.txt'),
    version: 'Compiled against library: libvirt 9.0.0\n'
  }
  const v = fakeVirsh(args => {
    const out = outputs[args.join(' ')]
    return out !== undefined ? ok(out) : fail('error: argument unsupported: QEMU guest agent is not configured\n')
  })
  const d = await started(v.run)
  t.deepEqual(await d.list(), [
    { id: 'htlv-guest1', status: 'running', memoryMiB: 96, vcpus: 1, addresses: ['fd00:4854:97::20'] },
    { id: 'htlv-guest2', status: 'paused', memoryMiB: 128, vcpus: 2, addresses: [] }
  ])
  t.true(v.calls.every(c => c[0] === 'virsh' && c[1] === '-c' && c[2] === 'qemu:///system'))
})

test('list: a domain that left between list and dominfo is skipped, not an error', async t => {
  const missing = await fixture('dominfo-missing.err')
  const v = fakeVirsh(args => args[0] === 'list' ? ok('gone\n\n') : args[0] === 'dominfo' ? { ...fail(missing) } : ok(''))
  t.deepEqual(await (await started(v.run)).list(), [])
})

test('list: libvirtd not answering is an error, with virsh\'s message', async t => {
  const v = fakeVirsh(args => args[0] === 'version' ? ok('') : fail('error: failed to connect to the hypervisor\nerror: Failed to connect socket\n'))
  await t.throwsAsync((await started(v.run)).list(), { name: 'HypervisorError', message: /failed to connect to the hypervisor; Failed to connect socket/ })
})

test('start: an unreachable libvirtd is refused with a clear reason', async t => {
  const v = fakeVirsh(() => fail('error: failed to connect to the hypervisor\n'))
  await t.throwsAsync(new LibvirtDriver({ address: A }, { run: v.run }).start(), { name: 'HypervisorError', message: /cannot reach libvirtd at qemu:\/\/\/system/ })
  await t.throwsAsync(new LibvirtDriver({ address: '10.0.0.1' }, { run: v.run }).start(), { name: 'HypervisorError', message: /not an IPv6/ })
})

test('migrate: the virsh command line, then the target\'s job record for downtime and bytes', async t => {
  const stats = await fixture('domjobinfo-completed-raw.txt')
  const v = fakeVirsh(args => args[0] === 'domjobinfo' ? ok(stats) : ok('\n'))
  const d = await started(v.run)
  const r = await d.migrate('web-1', { address: B }, { deadlineMs: 60_000, maxBandwidth: 50 * 2 ** 20 })
  t.true(r.ok)
  t.is(r.downtimeMs, 377)
  t.is(r.bytes, 68997611)
  const dest = `qemu+ssh://root@[${B}]/system`
  t.deepEqual(v.calls.slice(1), [
    ['virsh', '-c', 'qemu:///system', 'migrate', '--live', '--p2p', '--persistent', '--undefinesource', '--bandwidth', '50', '--', 'web-1', dest, `tcp://[${B}]`],
    ['virsh', '-c', dest, 'domjobinfo', '--completed', '--rawstats', '--keep-completed', '--', 'web-1']
  ])
})

test('migrate: at the deadline the job is aborted and the failure says so', async t => {
  const aborted = await fixture('migrate-aborted.err')
  let release: (r: CommandResult) => void = () => {}
  const v = fakeVirsh(args => {
    if (args[0] === 'migrate') return new Promise<CommandResult>(resolve => { release = resolve })
    if (args[0] === 'domjobabort') release(fail(aborted))
    return ok('\n')
  })
  const d = await started(v.run)
  const r = await d.migrate('web-1', { address: B }, { deadlineMs: 200 })
  t.false(r.ok)
  t.is(r.error, 'deadline of 200 ms passed, migration aborted: operation aborted: job \'migration out\' canceled by client')
  t.deepEqual(v.calls.at(-1)?.slice(3), ['domjobabort', '--', 'web-1'])
})

test('migrate: one migration of a VM at a time; a bad deadline or target is refused', async t => {
  let release: (r: CommandResult) => void = () => {}
  const v = fakeVirsh(args => args[0] === 'migrate' ? new Promise<CommandResult>(resolve => { release = resolve }) : ok('\n'))
  const d = await started(v.run)
  const first = d.migrate('web-1', { address: B }, { deadlineMs: 60_000 })
  await t.throwsAsync(d.migrate('web-1', { address: B }, { deadlineMs: 60_000 }), { name: 'HypervisorError', message: /already being migrated/ })
  await t.throwsAsync(d.migrate('web-2', { address: B }, { deadlineMs: 0 }), { name: 'HypervisorError', message: /deadline/ })
  await t.throwsAsync(d.migrate('web-2', { address: '192.0.2.1' }, { deadlineMs: 1000 }), { name: 'HypervisorError', message: /not an IPv6/ })
  release(ok('\n'))
  t.true((await first).ok)
})

test('prepareIncoming: says where to send; refuses a VM that already runs here', async t => {
  const running = await fixture('dominfo-running.txt')
  const missing = await fixture('dominfo-missing.err')
  const v = fakeVirsh(args => args[0] === 'dominfo' ? (args[2] === 'htlv-guest1' ? ok(running) : fail(missing)) : ok('\n'))
  const d = await started(v.run)
  t.deepEqual(await d.prepareIncoming({ id: 'web-1', status: 'running', memoryMiB: 96, vcpus: 1, addresses: [] }), { address: A, uri: `qemu+ssh://root@[${A}]/system` })
  await t.throwsAsync(d.prepareIncoming({ id: 'htlv-guest1', status: 'running', memoryMiB: 96, vcpus: 1, addresses: [] }), { name: 'HypervisorError', message: /already runs here/ })
})

test('cancelIncoming: destroys an incoming copy, never an arrived one', async t => {
  const running = await fixture('dominfo-running.txt')
  const states: Record<string, string> = { incoming: await fixture('domstate-target-incoming.txt'), arrived: await fixture('domstate-running.txt') }
  let state = 'incoming'
  const v = fakeVirsh(args => args[0] === 'dominfo' ? ok(running) : args[0] === 'domstate' ? ok(states[state]!) : ok('\n'))
  const d = await started(v.run)
  await d.cancelIncoming('htlv-guest1')
  t.deepEqual(v.calls.at(-1)?.slice(3), ['destroy', '--', 'htlv-guest1'])
  state = 'arrived'
  await t.throwsAsync(d.cancelIncoming('htlv-guest1'), { name: 'HypervisorError', message: /running \(migrated\) here, not waiting/ })
  t.notDeepEqual(v.calls.at(-1)?.slice(3, 4), ['destroy'])
})

test('stop: a migration in flight is aborted through libvirtd (domjobabort, again until virsh migrate returns), then confirmed here', async t => {
  const aborted = await fixture('migrate-aborted.err')
  const dominfo = await fixture('dominfo-running.txt')
  const domstate = await fixture('domstate-running.txt')
  let release: (r: CommandResult) => void = () => {}
  let aborts = 0
  let migrating!: () => void
  const inMigrate = new Promise<void>(resolve => { migrating = resolve })
  const v = fakeVirsh(args => {
    if (args[0] === 'migrate') { migrating(); return new Promise<CommandResult>(resolve => { release = resolve }) }
    // The first abort comes before libvirtd's job exists (as it can on a real host): libvirt says so.
    if (args[0] === 'domjobabort') return ++aborts === 1 ? fail('error: Requested operation is not valid: no job is active on the domain\n') : (release(fail(aborted)), ok('\n'))
    if (args[0] === 'dominfo') return ok(dominfo)
    if (args[0] === 'domstate') return ok(domstate)
    return ok('\n')
  })
  const d = await started(v.run)
  const migration = d.migrate('web-1', { address: B }, { deadlineMs: 600_000 })
  await inMigrate
  await d.stop()
  const r = await migration
  t.false(r.ok)
  t.is(r.error, 'the agent is stopping: migration aborted: operation aborted: job \'migration out\' canceled by client')
  t.is(r.runsOn, 'source')
  t.is(aborts, 2)
  // The abort goes to the local libvirtd, whatever the transport (qemu+ssh here) the migration uses.
  t.deepEqual(v.calls.filter(c => c[3] === 'domjobabort').map(c => c.slice(0, 3)), [['virsh', '-c', 'qemu:///system'], ['virsh', '-c', 'qemu:///system']])
  t.regex(v.calls.find(c => c[3] === 'migrate')?.join(' ') ?? '', /qemu\+ssh:\/\/root@\[fd00:4854:1:2::2\]\/system/)
  t.deepEqual(v.calls.slice(-2).map(c => c.slice(3)), [['dominfo', '--', 'web-1'], ['domstate', '--reason', '--', 'web-1']])
})
