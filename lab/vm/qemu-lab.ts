/**
 * Lab helper: two hosts (network namespaces on a throttled link), a QEMU
 * driver for each with its own directory, and the test guest's kernel and
 * initramfs. Used by lab/bench/migration.ts and the qemu and libvirt
 * driver tests.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { vmPaths } from '../../agent/drivers/qemu/config.ts'
import { QemuDriver } from '../../agent/drivers/qemu/driver.ts'
import { buildTestGuest, findKernel } from './qemu-guest.ts'
import type { TestGuest } from './qemu-guest.ts'
import type { MigrationTuning } from '../../agent/drivers/qemu/migration.ts'
import { DEFAULT_QEMU_BINARY, killQemu } from '../../agent/drivers/qemu/process.ts'
import { createLink, labUnavailable } from '../net/veth-link.ts'
import type { LabLink } from '../net/veth-link.ts'

export interface QemuLab {
  link: LabLink
  /** Host a (the source in the tests). */
  source: QemuDriver
  /** Host b. */
  target: QemuDriver
  guest: TestGuest
  dir: string
  destroy: () => Promise<void>
}

/** Why the QEMU lab cannot run here (with what to install), or undefined. */
export async function qemuLabUnavailable (): Promise<string | undefined> {
  const lab = await labUnavailable()
  if (lab !== undefined) return lab
  try {
    await promisify(execFile)(DEFAULT_QEMU_BINARY, ['-version'], { timeout: 10_000 })
  } catch {
    return `${DEFAULT_QEMU_BINARY} missing (apt-get install qemu-system-x86)`
  }
  try {
    await findKernel()
  } catch (err) {
    return (err as Error).message
  }
  return undefined
}

/** Kills every QEMU whose pid file is in `dir` (only the lab's own VMs live there). */
async function killAll (dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[])
  await Promise.all(names.filter(n => n.endsWith('.pid')).map(async n => {
    await killQemu(vmPaths(dir, n.slice(0, -'.pid'.length))).catch(() => undefined)
  }))
}

export async function createQemuLab (options: { rateMbit?: number, tag?: string, migration?: MigrationTuning } = {}): Promise<QemuLab> {
  const dir = await mkdtemp(join(tmpdir(), 'htqemu-'))
  let link: LabLink | undefined
  const drivers: QemuDriver[] = []
  const destroy = async (): Promise<void> => {
    for (const d of drivers) {
      await d.stop().catch(() => undefined)
      await killAll(d.dir)
    }
    await link?.destroy()
    await rm(dir, { recursive: true, force: true })
  }
  try {
    link = await createLink({ rateMbit: options.rateMbit, tag: options.tag })
    const guest = await buildTestGuest(dir)
    for (const host of [link.a, link.b]) {
      const d = new QemuDriver({ address: host.address }, { dir: join(dir, host === link.a ? 'a' : 'b'), prefix: host.prefix, migration: options.migration })
      drivers.push(d)
      await d.start()
    }
    return { link, source: drivers[0]!, target: drivers[1]!, guest, dir, destroy }
  } catch (err) {
    await destroy()
    throw err
  }
}
