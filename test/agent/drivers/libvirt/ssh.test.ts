/**
 * The libvirt driver's default transport, qemu+ssh, live: two private
 * libvirtds in lab hosts (libvirtd.ts), an sshd in the target's namespaces
 * (root by key only), the source's libvirtd reaching it with ssh. A stop
 * mid-migration aborts the job (domjobabort goes to the local libvirtd)
 * and the VM stays on its host; then a migration over ssh goes through.
 */
import { execFile } from 'node:child_process'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import test from 'ava'
import { LibvirtDriver } from '../../../../agent/drivers/libvirt/driver.ts'
import type { MigrationTarget } from '../../../../agent/drivers/types.ts'
import { buildTestGuest, waitForGuestReady } from '../../../../lab/vm/qemu-guest.ts'
import { createLink, type LabLink } from '../../../../lab/net/veth-link.ts'
import { missing, requires } from '../../../prerequisites.ts'
import { domainXml, startLibvirtd, type Libvirtd } from './libvirtd.ts'

const run = promisify(execFile)
const NEEDS = ['root', 'iproute2', 'qemu', 'kernel-image', 'busybox', 'libvirt', 'sshd'] as const
const unavailable = await missing(...NEEDS)
const labTest = await requires('test/agent/drivers/libvirt/ssh.test.ts', ...NEEDS)

const VM = 'htlvssh-vm1'
/** Generous: a busy two-core machine, every guest under TCG. */
const BOOT_TIMEOUT_MS = 120_000
const JOB_TIMEOUT_MS = 90_000

interface Lab { dir: string, link: LabLink, daemons: Libvirtd[], a: LibvirtDriver, b: LibvirtDriver, key: string, ssh: string }
let lab: Lab | undefined

test.before(async () => {
  if (unavailable !== undefined) return
  const dir = await mkdtemp(join(tmpdir(), 'htlvssh-'))
  const link = await createLink({ tag: 'lvssh' })
  const daemons: Libvirtd[] = []
  lab = { dir, link, daemons, a: undefined as unknown as LibvirtDriver, b: undefined as unknown as LibvirtDriver, key: join(dir, 'id_ed25519'), ssh: join(dir, 'ssh') }
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', lab.key], { timeout: 30_000 })
  // The ssh libvirt runs (its `command`): the lab's host keys are new each
  // run, so nothing is checked against, or written to, root's known_hosts.
  await writeFile(lab.ssh, '#!/bin/sh\nexec ssh -F none -o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR "$@"\n')
  await chmod(lab.ssh, 0o755)
  daemons.push(await startLibvirtd(link.a, join(dir, 'a')))
  daemons.push(await startLibvirtd(link.b, join(dir, 'b'), { sshd: { authorizedKey: await readFile(`${lab.key}.pub`, 'utf8') } }))
  const driver = (i: 0 | 1): LibvirtDriver => {
    const host = i === 0 ? link.a : link.b
    return new LibvirtDriver({ address: host.address }, { uri: daemons[i]!.uri, transport: 'ssh', prefix: host.prefix })
  }
  lab.a = driver(0)
  lab.b = driver(1)
  await lab.a.start()
  await lab.b.start()
  const guest = await buildTestGuest(dir)
  const serialLog = join(dir, `${VM}.serial.log`)
  await writeFile(join(dir, `${VM}.xml`), domainXml({ name: VM, memoryMiB: 96, vcpus: 1, kernel: guest.kernel, initrd: guest.initrd, serialLog }))
  await virsh(daemons[0]!, 'define', join(dir, `${VM}.xml`))
  await virsh(daemons[0]!, 'start', VM)
  await waitForGuestReady(serialLog, BOOT_TIMEOUT_MS)
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

/** The target b hands out, with the lab's key and ssh command added as libvirt URI parameters. */
async function sshTarget (l: Lab): Promise<MigrationTarget> {
  const vm = (await l.a.list()).find(v => v.id === VM)
  if (vm === undefined) throw new Error('the domain is not running on a')
  const target = await l.b.prepareIncoming(vm)
  if (target.uri !== `qemu+ssh://root@[${l.link.b.address}]/system`) throw new Error(`unexpected target URI ${target.uri}`)
  return { ...target, uri: `${target.uri}?keyfile=${l.key}&command=${l.ssh}` }
}

/** Memory processed by the job in flight, as domjobinfo says it ("12.345 MiB"), in bytes; 0 before. */
function memoryProcessed (jobinfo: string): number {
  const m = /Memory processed:\s+([\d.]+)\s*(B|KiB|MiB|GiB)/.exec(jobinfo)
  if (m === null) return 0
  return Number(m[1]) * ({ B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30 } as Record<string, number>)[m[2]!]!
}

labTest('qemu+ssh: stop mid-migration aborts the job through the local libvirtd; the VM runs on its host only', async t => {
  t.timeout(240_000)
  const l = lab!
  // 1 MiB/s for tens of MB: minutes, so the stop lands mid-way.
  const migration = l.a.migrate(VM, await sshTarget(l), { deadlineMs: 300_000, maxBandwidth: 2 ** 20 })
  // Memory flowing means the ssh connection to b's libvirtd is up and b prepared the incoming domain.
  const deadline = Date.now() + JOB_TIMEOUT_MS
  for (;;) {
    const processed = memoryProcessed(await virsh(l.daemons[0]!, 'domjobinfo', VM).catch(() => ''))
    if (processed > 0) { t.log(`${processed} bytes sent over the link`); break }
    if (Date.now() > deadline) return t.fail(`no memory sent within ${JOB_TIMEOUT_MS} ms: ${JSON.stringify(await Promise.race([migration, sleep(0, 'running')]))}`)
    await sleep(200)
  }
  t.deepEqual((await l.b.list()).map(v => [v.id, v.status]), [[VM, 'incoming']], 'b holds the incoming copy, reached over ssh')
  const started = Date.now()
  await l.a.stop()
  t.log(`stop took ${Date.now() - started} ms`)
  // A failed assertion throws: start the driver again whatever happens, so
  // the next test does not meet a stopped driver instead of its own failure.
  try {
    const result = await migration
    t.log(JSON.stringify(result))
    t.false(result.ok)
    t.regex(result.error ?? '', /^the agent is stopping: migration aborted:.*(canceled by client|End of file while reading data)/)
    t.is(result.runsOn, 'source')
  } finally {
    await l.a.start()
  }
  t.deepEqual((await l.a.list()).map(v => [v.id, v.status]), [[VM, 'running']])
  t.deepEqual(await l.b.list(), [])
})

labTest('qemu+ssh: a live migration goes through and the domain is on the target only', async t => {
  t.timeout(180_000)
  const l = lab!
  const result = await l.a.migrate(VM, await sshTarget(l), { deadlineMs: 120_000 })
  t.log(JSON.stringify(result))
  t.true(result.ok, result.error)
  t.is(result.runsOn, 'target')
  t.deepEqual((await l.b.list()).map(v => [v.id, v.status]), [[VM, 'running']])
  t.deepEqual(await l.a.list(), [])
})
