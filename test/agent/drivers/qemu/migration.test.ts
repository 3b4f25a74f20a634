/**
 * Real live migrations between two hosts (network namespaces joined by a
 * tbf-throttled 100 Mbit/s IPv6 veth) with the QEMU driver, on a small
 * busybox guest under TCG. Checks where the VM runs afterwards and that the
 * metrics are reported; not guest memory (TCG may corrupt a few pages of a
 * busy guest in flight, which is QEMU's business, not the driver's).
 */
import { access } from 'node:fs/promises'
import type { ExecutionContext } from 'ava'
import { testGuestConfig, waitForGuestReady } from '../../../../lab/vm/qemu-guest.ts'
import type { TestGuestSpec } from '../../../../lab/vm/qemu-guest.ts'
import type { QemuDriver, QemuVmInfo } from '../../../../agent/drivers/qemu/driver.ts'
import type { MigrationResult } from '../../../../agent/drivers/types.ts'
import { createQemuLab } from '../../../../lab/vm/qemu-lab.ts'
import { requires } from '../../../prerequisites.ts'
import { QmpClient } from '../../../../agent/drivers/qemu/qmp.ts'
import type { QemuLab } from '../../../../lab/vm/qemu-lab.ts'

// Serial: two cores, and TCG guests compete for them; metrics stay readable.
const labTest = await requires('test/agent/drivers/qemu/migration.test.ts', 'root', 'iproute2', 'qemu', 'kernel-image', 'busybox')

const LINK_BYTES_PER_SEC = 100e6 / 8
const VM = 'htqemu-vm1'

async function lab (t: ExecutionContext, tag: string): Promise<QemuLab> {
  const l = await createQemuLab({ tag })
  t.teardown(l.destroy)
  return l
}

/** Starts the guest on the source and waits until it is up. */
async function boot (t: ExecutionContext, l: QemuLab, spec: Partial<TestGuestSpec> = {}): Promise<QemuVmInfo> {
  const started = Date.now()
  await l.source.create(testGuestConfig(l.guest, { id: VM, addresses: ['fd00:4854::10'], ...spec }))
  t.log(`${await waitForGuestReady(l.source.paths(VM).log)} after ${Date.now() - started} ms`)
  const vm = (await l.source.list()).find(v => v.id === VM)
  if (vm === undefined) throw new Error('the new VM is not listed')
  return vm
}

function logResult (t: ExecutionContext, r: MigrationResult): void {
  const mb = (r.bytes ?? 0) / 1e6
  t.log(`ok=${r.ok} total ${r.totalMs} ms, downtime ${r.downtimeMs ?? '-'} ms, ${mb.toFixed(1)} MB moved` +
    ` (${(mb * 8 / (r.totalMs / 1000)).toFixed(1)} Mbit/s; at 100 Mbit/s those bytes need ${(mb * 1e6 / LINK_BYTES_PER_SEC * 1000).toFixed(0)} ms)${r.error !== undefined ? `; ${r.error}` : ''}`)
}

async function ids (d: QemuDriver): Promise<Array<[string, string]>> {
  return (await d.list()).map(v => [v.id, v.status])
}

/** The hand-over as the agents make it (the commit reaches the target at once): the target starts its copy. */
function handOverTo (target: QemuDriver): () => Promise<'started'> {
  return async () => { await target.finishIncoming(VM); return 'started' }
}

labTest('a VM migrates over a 100 Mbit/s IPv6 link: running on the target, gone from the source', async t => {
  t.timeout(150_000)
  const l = await lab(t, 'move')
  const vm = await boot(t, l)
  t.is(vm.status, 'running')
  t.deepEqual(vm.addresses, ['fd00:4854::10'])

  const target = await l.target.prepareIncoming(vm)
  t.is(target.address, l.link.b.address)
  t.true(target.port !== undefined && target.port > 0)
  t.deepEqual(await ids(l.target), [[VM, 'incoming']])

  // list() while the migration runs shares the migration's monitor connection.
  let during: Promise<Array<[string, string]>> | undefined
  let before: Array<[string, string]> | undefined
  const result = await l.source.migrate(VM, target, {
    deadlineMs: 90_000,
    maxBandwidth: LINK_BYTES_PER_SEC * 2, // above the link: tbf, not QEMU, limits the rate
    // The state is on the target, which waits paused (-S) for the hand-over.
    handOver: async () => { before = await ids(l.target); return await handOverTo(l.target)() },
    onSample: s => { if (during === undefined && s.status === 'active') during = ids(l.source) }
  })
  logResult(t, result)
  t.true(result.ok, result.error)
  t.deepEqual(await during, [[VM, 'migrating']])
  t.deepEqual(before, [[VM, 'incoming']], 'arrived but not started before the hand-over')
  t.true(result.totalMs > 0)
  t.true(result.downtimeMs !== undefined && result.downtimeMs >= 0)
  t.true(result.bytes !== undefined && result.bytes > 1e6)
  // Faster than the link allows would mean the tbf throttle is not in the path.
  t.true(result.bytes! / (result.totalMs / 1000) < LINK_BYTES_PER_SEC * 1.1, 'the transfer respected the 100 Mbit/s link')

  const there = await l.target.list()
  t.deepEqual(there.map(v => [v.id, v.status, v.memoryMiB, v.vcpus]), [[VM, 'running', vm.memoryMiB, vm.vcpus]])
  t.deepEqual(there[0]!.addresses, vm.addresses)
  t.deepEqual(await l.source.list(), [])
  const gone = l.source.paths(VM)
  for (const path of [gone.qmp, gone.config, gone.pid]) await t.throwsAsync(access(path), undefined, `${path} removed`)
  // The arrived VM is the only copy: cancelling the incoming side must refuse.
  await t.throwsAsync(l.target.cancelIncoming(VM), { name: 'HypervisorError', message: /running/ })
  t.deepEqual(await ids(l.target), [[VM, 'running']])
})

labTest('a migration that hits its deadline is cancelled, the VM keeps running on the source and can move later', async t => {
  t.timeout(150_000)
  const l = await lab(t, 'deadline')
  const vm = await boot(t, l)
  const target = await l.target.prepareIncoming(vm)
  const started = Date.now()
  // 1 MiB/s for tens of MB: cannot finish within the 3 s deadline.
  const result = await l.source.migrate(VM, target, { deadlineMs: 3_000, maxBandwidth: 2 ** 20, handOver: handOverTo(l.target) })
  logResult(t, result)
  t.false(result.ok)
  t.regex(result.error ?? '', /deadline/)
  t.true(Date.now() - started < 15_000, 'aborted promptly')
  t.deepEqual(await ids(l.source), [[VM, 'running']])

  await l.target.cancelIncoming(VM)
  t.deepEqual(await l.target.list(), [])
  const left = l.target.paths(VM)
  for (const path of [left.qmp, left.config, left.pid, left.log]) await t.throwsAsync(access(path), undefined, `${path} removed`)

  // Nothing lingers from the cancelled attempt: the next one goes through.
  const again = await l.source.migrate(VM, await l.target.prepareIncoming(vm), { deadlineMs: 90_000, handOver: handOverTo(l.target) })
  logResult(t, again)
  t.true(again.ok, again.error)
  t.deepEqual(await ids(l.target), [[VM, 'running']])
  t.deepEqual(await l.source.list(), [])
})

labTest('a guest that dirties memory faster than the migration moves it is abandoned as not converging', async t => {
  t.timeout(150_000)
  const l = await lab(t, 'dirty')
  // A 32 MiB buffer rewritten with random data as fast as the guest can,
  // against an 8 MiB/s cap: every pass starts with the whole buffer dirty.
  const vm = await boot(t, l, { dirty: { sizeMiB: 32, rateMiBps: 0 } })
  const target = await l.target.prepareIncoming(vm)
  const result = await l.source.migrate(VM, target, { deadlineMs: 90_000, maxBandwidth: 8 * 2 ** 20, notConvergingMs: 5_000, handOver: handOverTo(l.target) })
  logResult(t, result)
  t.false(result.ok)
  t.regex(result.error ?? '', /not converging/)
  t.deepEqual(await ids(l.source), [[VM, 'running']])
  await l.target.cancelIncoming(VM)
  t.deepEqual(await l.target.list(), [])
})

/** Where QEMU itself says the guest is: the run state on each host ('none' when no QEMU runs it there). */
async function runStates (l: QemuLab): Promise<[string, string]> {
  const state = async (d: QemuDriver): Promise<string> => {
    const qmp = await QmpClient.connect(d.paths(VM).qmp, { timeoutMs: 10_000 }).catch(() => undefined)
    if (qmp === undefined) return 'none'
    try { return (await qmp.execute<{ status: string }>('query-status')).status } finally { qmp.close() }
  }
  return [await state(l.source), await state(l.target)]
}

labTest('a target that dropped the arrived copy before the hand-over (its reservation expired while the WAN was cut): the source resumes, the VM runs there only', async t => {
  t.timeout(150_000)
  const l = await lab(t, 'refused')
  const vm = await boot(t, l)
  const target = await l.target.prepareIncoming(vm)
  const result = await l.source.migrate(VM, target, {
    deadlineMs: 90_000,
    // What the target does at its reservation's expiry, then its answer to the late commit.
    handOver: async () => { await l.target.cancelIncoming(VM); return 'refused' }
  })
  logResult(t, result)
  t.false(result.ok)
  t.regex(result.error ?? '', /dropped the arrived copy/)
  t.is(result.runsOn, 'source')
  t.deepEqual(await ids(l.source), [[VM, 'running']])
  t.deepEqual(await l.target.list(), [])
  t.deepEqual(await runStates(l), ['running', 'none'])
})

labTest('no answer to the hand-over: both copies stay paused, never both running; starting the target copy by hand ends it', async t => {
  t.timeout(150_000)
  const l = await lab(t, 'unknown')
  const vm = await boot(t, l)
  const target = await l.target.prepareIncoming(vm)
  const result = await l.source.migrate(VM, target, { deadlineMs: 90_000, handOver: async () => 'unknown' })
  logResult(t, result)
  t.false(result.ok)
  t.regex(result.error ?? '', /hand-over unconfirmed/)
  t.is(result.runsOn, 'unknown')
  // The source's copy is spent (postmigrate), the target's waits (paused).
  t.deepEqual(await runStates(l), ['postmigrate', 'paused'])
  t.deepEqual(await ids(l.target), [[VM, 'incoming']])
  // An arrived copy is still the source's until handed over: a cancel may end it, but here the operator starts it.
  await l.target.finishIncoming(VM)
  t.deepEqual(await ids(l.target), [[VM, 'running']])
  await t.throwsAsync(l.target.cancelIncoming(VM), { name: 'HypervisorError', message: /running/ })
})
