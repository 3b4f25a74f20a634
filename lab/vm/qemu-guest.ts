/**
 * The small test guest: the host's Debian kernel plus a busybox initramfs
 * whose /init prints a ready line on the serial console and then idles, or
 * keeps rewriting a buffer of random data at a set rate (a memory-writing
 * guest whose migration has dirty pages to chase).
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { HypervisorError } from '../../agent/drivers/types.ts'
import { cpioArchive } from './cpio.ts'
import type { VmConfig } from '../../agent/drivers/qemu/config.ts'
import { isStaticElf } from '../../agent/host/elf.ts'

export const DEFAULT_GUEST_MEMORY_MIB = 96
export const DEFAULT_GUEST_VCPUS = 1
export const DEFAULT_BOOT_DIR = '/boot'
export const DEFAULT_BUSYBOX = '/bin/busybox'
/** Printed on the serial console once the guest's workload runs. */
export const GUEST_READY_MARK = 'htguest: ready'
/** A heartbeat guest's line each second, followed by its count. */
export const TICK_MARK = 'htguest: tick'
/** Time for the guest to boot to its ready line under TCG, in ms. */
export const DEFAULT_GUEST_BOOT_TIMEOUT_MS = 60_000

export interface TestGuest {
  kernel: string
  initrd: string
}

/** A buffer of `sizeMiB` random MiB, `rateMiBps` of it rewritten per second (0: as fast as the guest can). */
export interface DirtyWorkload {
  sizeMiB: number
  rateMiBps: number
}

export interface TestGuestSpec {
  id: string
  memoryMiB?: number
  vcpus?: number
  addresses?: string[]
  dirty?: DirtyWorkload
  /** Print a numbered tick line to the serial log every second: proof the guest runs (and where). */
  heartbeat?: boolean
  /** QEMU accelerator; TCG by default because KVM is not always usable in the lab. */
  accel?: string
}

// PID 1 of the guest. It must never exit (the kernel would panic).
const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
spec=
tick=
for arg in $(cat /proc/cmdline); do
  case "$arg" in htdirty=*) spec="\${arg#htdirty=}" ;; httick=1) tick=1 ;; esac
done
if [ -z "$spec" ]; then
  echo "${GUEST_READY_MARK} idle"
  n=0
  while [ -n "$tick" ]; do n=$((n + 1)); echo "${TICK_MARK} $n"; sleep 1; done
  while true; do sleep 3600; done
fi
size="\${spec%,*}"
rate="\${spec#*,}"
dd if=/dev/urandom of=/buf bs=1M count="$size" 2>/dev/null
echo "${GUEST_READY_MARK} dirty \${size} MiB at \${rate} MiB/s"
off=0
while true; do
  if [ "$rate" = 0 ]; then
    dd if=/dev/urandom of=/buf bs=1M count="$size" conv=notrunc 2>/dev/null
  else
    dd if=/dev/urandom of=/buf bs=1M count="$rate" seek="$off" conv=notrunc 2>/dev/null
    off=$((off + rate))
    [ $((off + rate)) -gt "$size" ] && off=0
    sleep 1
  fi
done
`

/** The newest /boot/vmlinuz-* (Debian's linux-image-amd64 puts it there). */
export async function findKernel (bootDir = DEFAULT_BOOT_DIR): Promise<string> {
  const names = (await readdir(bootDir).catch(() => [] as string[])).filter(n => n.startsWith('vmlinuz-'))
  names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
  const newest = names.at(-1)
  if (newest === undefined) throw new HypervisorError(`no kernel ${bootDir}/vmlinuz-* (install linux-image-amd64)`)
  return join(bootDir, newest)
}

/** Writes the initramfs into `dir` and finds a kernel; returns both paths. */
export async function buildTestGuest (dir: string, options: { kernel?: string, busybox?: string } = {}): Promise<TestGuest> {
  const kernel = options.kernel ?? await findKernel()
  const busyboxPath = options.busybox ?? DEFAULT_BUSYBOX
  let busybox: Uint8Array
  try {
    busybox = await readFile(busyboxPath)
  } catch {
    throw new HypervisorError(`no busybox at ${busyboxPath} (install busybox-static)`)
  }
  if (!await isStaticElf(busyboxPath)) throw new HypervisorError(`${busyboxPath} is dynamically linked; the initramfs needs busybox-static`)
  const archive = cpioArchive([
    ...['bin', 'dev', 'proc', 'sys', 'tmp'].map(path => ({ kind: 'dir' as const, path })),
    { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    { kind: 'file', path: 'bin/busybox', data: busybox, mode: 0o755 },
    { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
    { kind: 'file', path: 'init', data: new TextEncoder().encode(INIT), mode: 0o755 }
  ])
  await mkdir(dir, { recursive: true })
  const initrd = join(dir, 'htguest-initrd.cpio')
  await writeFile(initrd, archive)
  return { kernel, initrd }
}

/** The sidecar config of a test guest: its hardware args carry the workload on the kernel command line. */
export function testGuestConfig (guest: TestGuest, spec: TestGuestSpec): VmConfig {
  const memoryMiB = spec.memoryMiB ?? DEFAULT_GUEST_MEMORY_MIB
  const vcpus = spec.vcpus ?? DEFAULT_GUEST_VCPUS
  const append = ['console=ttyS0', 'quiet', 'panic=-1']
  if (spec.dirty !== undefined) {
    if (spec.dirty.sizeMiB >= memoryMiB) throw new HypervisorError(`dirty buffer of ${spec.dirty.sizeMiB} MiB does not fit a ${memoryMiB} MiB guest`)
    append.push(`htdirty=${spec.dirty.sizeMiB},${spec.dirty.rateMiBps}`)
  }
  if (spec.heartbeat === true) append.push('httick=1')
  return {
    id: spec.id,
    memoryMiB,
    vcpus,
    addresses: spec.addresses ?? [],
    args: [
      '-machine', 'pc', '-accel', spec.accel ?? 'tcg', '-m', String(memoryMiB), '-smp', String(vcpus),
      '-nodefaults', '-no-user-config', '-display', 'none',
      '-kernel', guest.kernel, '-initrd', guest.initrd, '-append', append.join(' ')
    ]
  }
}

/** Waits for the ready line in a serial log; returns it. */
export async function waitForGuestReady (logPath: string, timeoutMs = DEFAULT_GUEST_BOOT_TIMEOUT_MS): Promise<string> {
  const deadline = Date.now() + timeoutMs
  let text = ''
  while (Date.now() < deadline) {
    text = await readFile(logPath, 'utf8').catch(() => '')
    const line = text.split('\n').find(l => l.includes(GUEST_READY_MARK))
    if (line !== undefined) return line.trim()
    await sleep(200)
  }
  throw new HypervisorError(`guest did not print "${GUEST_READY_MARK}" within ${timeoutMs} ms; serial log ends: ${text.slice(-500)}`)
}


/** The highest heartbeat count in a serial log (0 before the first). */
export async function lastTick (logPath: string): Promise<number> {
  const text = await readFile(logPath, 'utf8').catch(() => '')
  let n = 0
  for (const m of text.matchAll(new RegExp(`${TICK_MARK} (\\d+)`, 'g'))) n = Math.max(n, Number(m[1]))
  return n
}

/** Waits for a heartbeat above `after`: the guest executes and its console reaches this log. */
export async function waitForTick (logPath: string, after: number, timeoutMs = DEFAULT_GUEST_BOOT_TIMEOUT_MS): Promise<number> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const n = await lastTick(logPath)
    if (n > after) return n
    if (Date.now() >= deadline) throw new HypervisorError(`no heartbeat after tick ${after} in ${logPath} within ${timeoutMs} ms`)
    await sleep(200)
  }
}
