/** virsh output parsing against outputs recorded from the real virsh (libvirt 9.0; fixtures/SOURCES.md). */
import test from 'ava'
import { ipv6Addresses, parseDomifaddr, parseDominfo, parseDomstate, parseJobStats, parseNames } from '../../../../agent/drivers/libvirt/parse.ts'
import { domainStatus } from '../../../../agent/drivers/libvirt/status.ts'
import { fixture } from './fixtures.ts'

test('list --name: one active domain per line', async t => {
  t.deepEqual(parseNames(await fixture('list-name.txt')), ['htlv-guest1', 'htlv-guest2'])
})

test('dominfo: running, paused and shut off domains', async t => {
  t.deepEqual(parseDominfo(await fixture('dominfo-running.txt')), {
    name: 'htlv-guest1', id: 2, uuid: 'b4b28ba1-f00a-45a3-bd7a-20735bf58611', state: 'running', vcpus: 1, maxMemoryKiB: 98304, usedMemoryKiB: 98304, persistent: true
  })
  const paused = parseDominfo(await fixture('dominfo-paused.txt'))
  t.like(paused, { name: 'htlv-guest2', id: 3, state: 'paused', vcpus: 2, maxMemoryKiB: 131072 })
  const off = parseDominfo(await fixture('dominfo-shutoff.txt'))
  t.like(off, { name: 'htlv-guest3', state: 'shut off', vcpus: 1, maxMemoryKiB: 98304 })
  t.is(off.id, undefined, 'an inactive domain has no id ("-")')
})

test('dominfo: output without the needed fields is refused', t => {
  t.throws(() => parseDominfo(''), { name: 'HypervisorError' })
  t.throws(() => parseDominfo('Name: x\nState: running\nCPU(s): 1\nMax memory: lots\n'), { name: 'HypervisorError', message: /Max memory/ })
})

test('domstate --reason: state and reason', async t => {
  t.deepEqual(parseDomstate(await fixture('domstate-running.txt')), { state: 'running', reason: 'migrated' })
  t.deepEqual(parseDomstate(await fixture('domstate-paused-user.txt')), { state: 'paused', reason: 'user' })
  t.deepEqual(parseDomstate(await fixture('domstate-target-incoming.txt')), { state: 'paused', reason: 'migrating' })
  t.deepEqual(parseDomstate('shut off\n'), { state: 'shut off' })
  t.throws(() => parseDomstate('\n'), { name: 'HypervisorError' })
})

test('status: the recorded states map to the agent\'s statuses', async t => {
  const of = async (name: string, away = false): Promise<string> => {
    const s = parseDomstate(await fixture(name))
    return domainStatus(s.state, s.reason, away)
  }
  t.is(await of('domstate-running.txt'), 'running')
  t.is(await of('domstate-paused-user.txt'), 'paused')
  t.is(await of('domstate-target-incoming.txt'), 'incoming', 'the target\'s copy during a migration')
  // The source looks "running (migrated)" during an outgoing migration: only the driver knows it is moving it.
  t.is(await of('domstate-source-migrating.txt'), 'running')
  t.is(await of('domstate-source-migrating.txt', true), 'migrating')
  for (const s of ['shut off', 'crashed', 'in shutdown', 'pmsuspended']) t.is(domainStatus(s, undefined, false), 'stopped', s)
  t.is(domainStatus('idle', undefined, false), 'running')
})

test('domifaddr: the recorded empty table, and IPv6 rows in virsh\'s format', async t => {
  t.deepEqual(parseDomifaddr(await fixture('domifaddr-empty.txt')), [])
  const rows = parseDomifaddr(await fixture('domifaddr-format-ipv6.txt'))
  t.deepEqual(rows.map(r => [r.iface, r.protocol, r.address, r.prefix]), [
    ['eth0', 'ipv4', '192.0.2.20', 24],
    ['eth0', 'ipv6', 'fd00:4854:97::20', 64],
    ['eth0', 'ipv6', 'fe80::5054:ff:fe48:5402', 64]
  ])
  t.deepEqual(ipv6Addresses(rows), ['fd00:4854:97::20'], 'link-local and IPv4 left out')
})

test('domjobinfo --completed --rawstats: exact downtime and bytes', async t => {
  const s = parseJobStats(await fixture('domjobinfo-completed-raw.txt'))
  t.is(s.get('time_elapsed'), 1332)
  t.is(s.get('downtime'), 377)
  t.is(s.get('data_processed'), 68997611)
  t.is(s.get('memory_total'), 101056512)
})
