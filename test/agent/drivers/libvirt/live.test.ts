/**
 * The libvirt driver against real libvirtds: one per lab host (network
 * namespaces joined by a tbf 100 Mbit/s IPv6 veth), each private (see
 * libvirtd.ts), the QEMU driver's busybox guest as a `type='qemu'` domain.
 * The hosts' libvirtds talk qemu+tcp (auth none, inside the lab only); the
 * memory goes QEMU to QEMU over the throttled link.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import test from 'ava'
import { LibvirtDriver } from '../../../../agent/drivers/libvirt/driver.ts'
import { buildTestGuest, waitForGuestReady, type TestGuest } from '../../../../lab/vm/qemu-guest.ts'
import type { MigrationResult } from '../../../../agent/drivers/types.ts'
import { missing, requires } from '../../../prerequisites.ts'
import { createLink, type LabLink } from '../../../../lab/net/veth-link.ts'
import { domainXml, startLibvirtd, type Libvirtd } from './libvirtd.ts'

const run = promisify(execFile)
const NEEDS = ['root', 'iproute2', 'qemu', 'kernel-image', 'busybox', 'libvirt'] as const
const unavailable = await missing(...NEEDS)
// Serial and sharing one lab: two cores, and every guest boots under TCG.
const labTest = await requires('test/agent/drivers/libvirt/live.test.ts', ...NEEDS)

const LINK_BYTES_PER_SEC = 100e6 / 8
const VM = 'htlv-vm1'

interface Lab {
  dir: string
  link: LabLink
  guest: TestGuest
  daemons: Libvirtd[]
  a: LibvirtDriver
  b: LibvirtDriver
}
let lab: Lab | undefined

test.before(async () => {
  if (unavailable !== undefined) return
  const dir = await mkdtemp(join(tmpdir(), 'htlv-'))
  const link = await createLink({ tag: 'libvirt' })
  const daemons: Libvirtd[] = []
  lab = { dir, link, guest: await buildTestGuest(dir), daemons, a: undefined as unknown as LibvirtDriver, b: undefined as unknown as LibvirtDriver }
  for (const [name, host] of [['a', link.a], ['b', link.b]] as const) daemons.push(await startLibvirtd(host, join(dir, name)))
  const driver = (i: 0 | 1): LibvirtDriver => {
    const host = i === 0 ? link.a : link.b
    return new LibvirtDriver({ address: host.address }, { uri: daemons[i]!.uri, transport: 'tcp', prefix: host.prefix })
  }
  lab.a = driver(0)
  lab.b = driver(1)
  await lab.a.start()
  await lab.b.start()
})

test.after.always(async () => {
  if (lab === undefined) return
  for (const d of lab.daemons) await d.stop().catch(() => undefined)
  await lab.link.destroy()
  await rm(lab.dir, { recursive: true, force: true })
})

async function virsh (d: Libvirtd, ...args: string[]): Promise<string> {
  return (await run('virsh', ['-c', d.uri, ...args], { timeout: 30_000 })).stdout
}

async function define (d: Libvirtd, name: string, memoryMiB: number, vcpus: number): Promise<string> {
  const l = lab!
  const serialLog = join(l.dir, `${name}.serial.log`)
  const xml = join(l.dir, `${name}.xml`)
  await writeFile(xml, domainXml({ name, memoryMiB, vcpus, kernel: l.guest.kernel, initrd: l.guest.initrd, serialLog }))
  await virsh(d, 'define', xml)
  return serialLog
}

function logResult (t: { log: (...v: unknown[]) => void }, r: MigrationResult): void {
  const mb = (r.bytes ?? 0) / 1e6
  t.log(`ok=${r.ok} total ${r.totalMs} ms, downtime ${r.downtimeMs ?? '-'} ms, ${mb.toFixed(1)} MB (${(mb * 8 / (r.totalMs / 1000)).toFixed(1)} Mbit/s)${r.error !== undefined ? `; ${r.error}` : ''}`)
}

labTest('list() shows the active domains with dominfo\'s memory and vCPUs; a shut-off domain is not listed', async t => {
  t.timeout(120_000)
  const l = lab!
  const [lvA] = l.daemons
  const serial = await define(lvA!, VM, 96, 1)
  await define(lvA!, 'htlv-off', 64, 1)
  await define(lvA!, 'htlv-held', 64, 2)
  await virsh(lvA!, 'start', VM)
  await virsh(lvA!, 'start', '--paused', 'htlv-held') // paused from the start: no CPU spent booting
  t.log(await waitForGuestReady(serial, 90_000))
  t.deepEqual(await l.a.list(), [
    { id: 'htlv-held', status: 'paused', memoryMiB: 64, vcpus: 2, addresses: [] },
    { id: VM, status: 'running', memoryMiB: 96, vcpus: 1, addresses: [] }
  ])
  t.deepEqual(await l.b.list(), [])
  await virsh(lvA!, 'destroy', 'htlv-held')
  await virsh(lvA!, 'undefine', 'htlv-held')
  await virsh(lvA!, 'undefine', 'htlv-off')
})

labTest('a live migration between the two libvirtds over the 100 Mbit/s IPv6 link: running on the target, gone from the source', async t => {
  t.timeout(150_000)
  const l = lab!
  const vm = (await l.a.list()).find(v => v.id === VM)
  if (vm === undefined) return t.fail('the first test\'s domain is not running on a')
  const target = await l.b.prepareIncoming(vm)
  t.deepEqual(target, { address: l.link.b.address, uri: `qemu+tcp://[${l.link.b.address}]/system` })
  const result = await l.a.migrate(VM, target, { deadlineMs: 90_000 })
  logResult(t, result)
  t.true(result.ok, result.error)
  t.true(result.downtimeMs !== undefined && result.downtimeMs >= 0, 'downtime from the target\'s job record')
  t.true(result.bytes !== undefined && result.bytes > 1e6, 'bytes from the target\'s job record')
  t.true(result.bytes! / (result.totalMs / 1000) < LINK_BYTES_PER_SEC * 1.1, 'no faster than the throttled link')
  t.deepEqual(await l.b.list(), [{ id: VM, status: 'running', memoryMiB: 96, vcpus: 1, addresses: [] }])
  t.deepEqual(await l.a.list(), [])
  // --persistent --undefinesource: the definition moved too.
  t.notRegex(await virsh(l.daemons[0]!, 'list', '--all', '--name'), new RegExp(VM))
  // The arrived VM is the only copy: cancelling the incoming side refuses.
  await t.throwsAsync(l.b.cancelIncoming(VM), { name: 'HypervisorError', message: /running/ })
})

labTest('a migration that hits its deadline is aborted: the VM keeps running on its host, nothing is left on the other', async t => {
  t.timeout(120_000)
  const l = lab!
  const vm = (await l.b.list()).find(v => v.id === VM)
  if (vm === undefined) return t.fail('the domain is not running on b')
  const started = Date.now()
  // 1 MiB/s for tens of MB: cannot finish within 3 s.
  const result = await l.b.migrate(VM, await l.a.prepareIncoming(vm), { deadlineMs: 3_000, maxBandwidth: 2 ** 20 })
  logResult(t, result)
  t.false(result.ok)
  t.regex(result.error ?? '', /deadline of 3000 ms passed.*canceled by client/)
  t.true(Date.now() - started < 30_000, 'aborted promptly')
  t.deepEqual((await l.b.list()).map(v => [v.id, v.status]), [[VM, 'running']])
  t.deepEqual(await l.a.list(), [])
  await l.a.cancelIncoming(VM) // nothing there: a no-op
})

labTest('stop mid-migration: the driver aborts the job through libvirtd and waits; the VM runs on its host only', async t => {
  t.timeout(240_000)
  const l = lab!
  const vm = (await l.b.list()).find(v => v.id === VM)
  if (vm === undefined) return t.fail('the domain is not running on b')
  // 1 MiB/s for tens of MB: minutes, so the stop lands mid-way.
  const migration = l.b.migrate(VM, await l.a.prepareIncoming(vm), { deadlineMs: 300_000, maxBandwidth: 2 ** 20 })
  // The job runs once libvirtd reports it (Unbounded: a migration in progress).
  const deadline = Date.now() + 60_000
  while (!/Job type:\s+Unbounded/.test(await virsh(l.daemons[1]!, 'domjobinfo', VM).catch(() => ''))) {
    if (Date.now() > deadline) return t.fail('no migration job within 60 s')
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  const started = Date.now()
  await l.b.stop()
  t.log(`stop took ${Date.now() - started} ms`)
  const result = await migration
  logResult(t, result)
  t.false(result.ok)
  t.regex(result.error ?? '', /^the agent is stopping: migration aborted:.*canceled by client/)
  t.is(result.runsOn, 'source')
  await l.b.start()
  t.deepEqual((await l.b.list()).map(v => [v.id, v.status]), [[VM, 'running']])
  t.deepEqual(await l.a.list(), [])
})
