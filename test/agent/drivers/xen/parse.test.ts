/** xl output parsing: the xl(1) manual's `xl list` example and libxl configs from libvirt's tests (fixtures/SOURCES.md). */
import test from 'ava'
import { ipv6Of, parseXlList, parseXlListLong } from '../../../../agent/drivers/xen/parse.ts'
import { vmIdOf, xenStatus } from '../../../../agent/drivers/xen/status.ts'
import { config, fixture, xlList, xlListLong } from './fixtures.ts'

test('xl list: the manual\'s example', async t => {
  t.deepEqual(parseXlList(await fixture('xl-list-manpage.txt')), [
    { name: 'Domain-0', domid: 0, memMiB: 750, vcpus: 4, state: 'r-----' },
    { name: 'win', domid: 1, memMiB: 1019, vcpus: 1, state: 'r-----' },
    { name: 'linux', domid: 2, memMiB: 2048, vcpus: 2, state: 'r-----' }
  ])
})

test('xl list: xl_info.c\'s own format (tab header), names with spaces, all state flags', t => {
  const text = xlList([
    { name: 'Domain-0', domid: 0, memMiB: 750, vcpus: 4, state: 'r-----', seconds: 11794.3 },
    { name: 'my guest', domid: 7, memMiB: 512, vcpus: 2, state: '-b----', seconds: 3.5 },
    { name: 'held', domid: 8, memMiB: 256, vcpus: 1, state: '--p---', seconds: 0 },
    { name: 'gone', domid: 9, memMiB: 256, vcpus: 1, state: '---s-d', seconds: 1 }
  ])
  t.deepEqual(parseXlList(text).map(r => [r.name, r.domid, r.state]), [['Domain-0', 0, 'r-----'], ['my guest', 7, '-b----'], ['held', 8, '--p---'], ['gone', 9, '---s-d']])
  t.throws(() => parseXlList('Name ID Mem VCPUs State Time(s)\nweird 1 2 3 zzzzzz 0.0\n'), { name: 'HypervisorError', message: /not understood/ })
})

test('xl list -l: name, uuid, memory, vCPUs and the vif\'s addresses from libxl\'s JSON', async t => {
  const text = xlListLong([{ domid: 1, config: await config('libxl-config-multiple-ip.json') }, { domid: 2, config: await config('libxl-config-basic-hvm.json') }])
  t.deepEqual(parseXlListLong(text), [
    { domid: 1, name: 'test-pv', uuid: '039e9ee6-4a84-3055-4c81-8ba426ae2656', maxMemKiB: 524288, targetMemKiB: 524288, maxVcpus: 4, ips: ['10.0.0.1', '2000:abcd::1'] },
    { domid: 2, name: 'test-hvm', uuid: '2147d599-9cc6-c0dc-92ab-4064b5446e9b', maxMemKiB: 1048576, targetMemKiB: 1048576, maxVcpus: 4, ips: [] }
  ])
})

test('xl list -l: not JSON, not an array, entries without a name', t => {
  t.throws(() => parseXlListLong('libxl: error: ...'), { name: 'HypervisorError', message: /did not print JSON/ })
  t.throws(() => parseXlListLong('{}'), { name: 'HypervisorError', message: /array/ })
  t.deepEqual(parseXlListLong('[{"domid": 3, "config": {}}, 7]'), [])
})

test('addresses: IPv6 only, prefix lengths dropped, link-local left out', t => {
  t.deepEqual(ipv6Of(['10.0.0.1', '2000:abcd::1', 'fd00::5/64', 'fe80::1', 'fd00::5']), ['2000:abcd::1', 'fd00::5'])
})

test('status: flags and xl\'s migration names', t => {
  t.deepEqual(vmIdOf('web--incoming'), { id: 'web', migration: 'incoming' })
  t.deepEqual(vmIdOf('web--migratedaway'), { id: 'web', migration: 'away' })
  t.deepEqual(vmIdOf('web'), { id: 'web' })
  t.is(xenStatus('r-----', undefined, false), 'running')
  t.is(xenStatus('-b----', undefined, false), 'running')
  t.is(xenStatus('------', undefined, false), 'running')
  t.is(xenStatus('--p---', undefined, false), 'paused')
  t.is(xenStatus('---s--', undefined, false), 'stopped')
  t.is(xenStatus('----c-', undefined, false), 'stopped')
  t.is(xenStatus('-----d', undefined, false), 'stopped')
  t.is(xenStatus('--p---', 'incoming', false), 'incoming')
  t.is(xenStatus('--ps--', 'away', false), 'migrating')
  t.is(xenStatus('r-----', undefined, true), 'migrating')
})
