/**
 * list() against real QEMU processes on one host (no network needed): stale
 * sockets and junk are skipped, a VM without a sidecar is described by QEMU
 * itself, and prepareIncoming/cancelIncoming leave nothing behind.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ExecutionContext } from 'ava'
import { QemuDriver } from '../../../../agent/drivers/qemu/driver.ts'
import type { QemuVmInfo } from '../../../../agent/drivers/qemu/driver.ts'
import { buildTestGuest, testGuestConfig } from '../../../../lab/vm/qemu-guest.ts'
import type { TestGuest } from '../../../../lab/vm/qemu-guest.ts'
import { killQemu, readPid } from '../../../../agent/drivers/qemu/process.ts'
import { requires } from '../../../prerequisites.ts'

const qemuTest = await requires('test/agent/drivers/qemu/list.test.ts', 'qemu', 'kernel-image', 'busybox')

async function host (t: ExecutionContext): Promise<{ driver: QemuDriver, guest: TestGuest }> {
  const dir = await mkdtemp(join(tmpdir(), 'htqemu-'))
  const driver = new QemuDriver({ address: '::1' }, { dir: join(dir, 'h') })
  t.teardown(async () => {
    await driver.stop()
    for (const n of await readdir(driver.dir).catch(() => [] as string[])) {
      if (n.endsWith('.pid')) await killQemu(driver.paths(n.slice(0, -4))).catch(() => undefined)
    }
    await rm(dir, { recursive: true, force: true })
  })
  await driver.start()
  return { driver, guest: await buildTestGuest(dir) }
}

qemuTest('list() skips a stale socket and junk, and describes a VM without a sidecar from QEMU', async t => {
  t.timeout(60_000)
  const { driver, guest } = await host(t)
  await driver.create(testGuestConfig(guest, { id: 'htqemu-live', memoryMiB: 64, addresses: ['fd00:4854::20'] }))
  await driver.create(testGuestConfig(guest, { id: 'htqemu-bare', memoryMiB: 80, vcpus: 2 }))
  await rm(driver.paths('htqemu-bare').config)
  // SIGKILL leaves the socket file behind with nobody listening.
  await driver.create(testGuestConfig(guest, { id: 'htqemu-dead', memoryMiB: 64 }))
  process.kill((await readPid(driver.paths('htqemu-dead')))!, 'SIGKILL')
  await writeFile(join(driver.dir, 'htqemu-junk.qmp'), 'not a socket')

  const started = Date.now()
  const vms = await driver.list()
  t.log(`list() took ${Date.now() - started} ms`)
  t.deepEqual(vms.map(v => ({ id: v.id, status: v.status, memoryMiB: v.memoryMiB, vcpus: v.vcpus, addresses: v.addresses })), [
    { id: 'htqemu-bare', status: 'running', memoryMiB: 80, vcpus: 2, addresses: [] },
    { id: 'htqemu-live', status: 'running', memoryMiB: 64, vcpus: 1, addresses: ['fd00:4854::20'] }
  ])
})

qemuTest('prepareIncoming listens on the host address with a free port; cancelIncoming removes it all', async t => {
  t.timeout(60_000)
  const { driver, guest } = await host(t)
  const config = testGuestConfig(guest, { id: 'htqemu-in', memoryMiB: 64 })
  const vm: QemuVmInfo = { id: config.id, status: 'running', memoryMiB: 64, vcpus: 1, addresses: [], args: config.args }
  const target = await driver.prepareIncoming(vm)
  t.is(target.address, '::1')
  t.true(Number.isInteger(target.port) && target.port! > 1024)
  t.is(target.uri, `tcp:[::1]:${target.port}`)
  t.deepEqual((await driver.list()).map(v => [v.id, v.status]), [['htqemu-in', 'incoming']])
  await t.throwsAsync(driver.prepareIncoming(vm), { name: 'HypervisorError', message: /already/ })
  await driver.cancelIncoming('htqemu-in')
  t.deepEqual(await driver.list(), [])
  t.deepEqual(await readdir(driver.dir), [])
  // Without hardware args (and no argsFor) the target cannot build the VM.
  const bare: QemuVmInfo = { ...vm, args: undefined }
  await t.throwsAsync(driver.prepareIncoming(bare), { name: 'HypervisorError', message: /no QEMU args/ })
})
