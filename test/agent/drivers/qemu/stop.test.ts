/**
 * A stop of the QEMU driver while a live migration runs (what the agent does
 * on SIGTERM once its grace is over): the driver cancels the migration on
 * its still open monitor connection, QEMU confirms it, and the guest goes on
 * running on the source only: its heartbeat keeps reaching the source's
 * serial log, never the target's. Real QEMU guests under TCG in two network
 * namespaces (lab/vm/qemu-lab.ts).
 */
import type { ExecutionContext } from 'ava'
import { lastTick, testGuestConfig, waitForGuestReady, waitForTick } from '../../../../lab/vm/qemu-guest.ts'
import type { MigrationResult } from '../../../../agent/drivers/types.ts'
import { QmpClient } from '../../../../agent/drivers/qemu/qmp.ts'
import { createQemuLab } from '../../../../lab/vm/qemu-lab.ts'
import type { QemuLab } from '../../../../lab/vm/qemu-lab.ts'
import { requires } from '../../../prerequisites.ts'

const labTest = await requires('test/agent/drivers/qemu/stop.test.ts', 'root', 'iproute2', 'qemu', 'kernel-image', 'busybox')

const VM = 'htqemu-stop1'
/** Generous: two cores shared with other TCG guests and test runs. */
const BOOT_TIMEOUT_MS = 120_000
const ACTIVE_TIMEOUT_MS = 60_000
const TICK_TIMEOUT_MS = 60_000

async function lab (t: ExecutionContext, tag: string): Promise<QemuLab> {
  const l = await createQemuLab({ tag })
  t.teardown(l.destroy)
  return l
}

/** Rejects after `ms` with `what`; the timer does not keep the test alive. */
async function within<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`${what}: not within ${ms} ms`)) }, ms) })])
  } finally {
    clearTimeout(timer)
  }
}

labTest('stop mid-migration: migrate_cancel on the live monitor, QEMU confirms, the guest runs on the source only and ticks on', async t => {
  t.timeout(360_000)
  const l = await lab(t, 'stop')
  await l.source.create(testGuestConfig(l.guest, { id: VM, heartbeat: true }))
  const log = l.source.paths(VM).log
  await waitForGuestReady(log, BOOT_TIMEOUT_MS)
  await waitForTick(log, 0, TICK_TIMEOUT_MS)
  const vm = (await l.source.list()).find(v => v.id === VM)
  if (vm === undefined) throw new Error('the new VM is not listed')
  const target = await l.target.prepareIncoming(vm)

  // 1 MiB/s for ~100 MB: minutes of migration, so the stop lands mid-way.
  let active!: () => void
  const isActive = new Promise<void>(resolve => { active = resolve })
  const migration = l.source.migrate(VM, target, {
    deadlineMs: 300_000,
    maxBandwidth: 2 ** 20,
    // Never reached: the stop lands long before the state is on the target.
    handOver: async () => 'unknown',
    onSample: s => { if (s.status === 'active' && s.transferredBytes > 0) active() }
  })
  let result: MigrationResult | undefined
  void migration.then(r => { result = r }, () => undefined)
  await within(isActive, ACTIVE_TIMEOUT_MS, 'migration active')

  const stopStarted = Date.now()
  await l.source.stop()
  const stopMs = Date.now() - stopStarted
  // The migration was over when stop returned (its callbacks have run by the
  // next macrotask): stop waits for the cancel and its confirmation.
  await new Promise(resolve => setImmediate(resolve))
  t.not(result, undefined, 'the migration had ended when stop() returned')
  const r = await migration
  t.log(`stop took ${stopMs} ms; result: ${JSON.stringify(r)}`)
  t.false(r.ok)
  t.regex(r.error ?? '', /agent is stopping: migration cancelled/)
  t.is(r.runsOn, 'source')

  // QEMU itself, on a fresh connection (the driver's are closed): cancelled, running.
  const qmp = await QmpClient.connect(l.source.paths(VM).qmp, { timeoutMs: 10_000 })
  try {
    t.is((await qmp.execute<{ status?: string }>('query-migrate')).status, 'cancelled')
    t.deepEqual(await qmp.execute<{ running: boolean, status: string }>('query-status').then(s => [s.running, s.status]), [true, 'running'])
  } finally {
    qmp.close()
  }
  // The guest answers here: a new heartbeat after the stop reaches the source's log.
  const before = await lastTick(log)
  t.log(`heartbeat ${await waitForTick(log, before, TICK_TIMEOUT_MS)} after ${before}`)

  // Exactly one copy: the target's QEMU exited with the broken stream (or
  // still waits for memory it will never get), and never ran the guest.
  await l.source.start()
  t.deepEqual((await l.source.list()).map(v => [v.id, v.status]), [[VM, 'running']])
  const there = (await l.target.list()).map(v => [v.id, v.status])
  t.log(`target lists ${JSON.stringify(there)}`)
  t.true(there.every(([, status]) => status === 'incoming'), 'nothing runs on the target')
  t.is(await lastTick(l.target.paths(VM).log), 0, 'no heartbeat on the target')
  await l.target.cancelIncoming(VM)
  t.deepEqual(await l.target.list(), [])
})
