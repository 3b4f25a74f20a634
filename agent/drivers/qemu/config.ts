/**
 * A VM's sidecar: the JSON file next to its QMP socket that says what the VM
 * is (memory, vCPUs, addresses) and the QEMU arguments that recreate its
 * virtual hardware, so a target host can start an identical receiving QEMU.
 * Also where each of a VM's files lives in the driver's directory.
 */
import { readFile, rename, writeFile } from 'node:fs/promises'
import { isIPv6 } from 'node:net'
import { join } from 'node:path'
import { HypervisorError } from '../types.ts'

export interface VmConfig {
  id: string
  memoryMiB: number
  vcpus: number
  /** The guest's own IPv6 addresses (reported by list(), not configured by the driver). */
  addresses: string[]
  /**
   * QEMU arguments for the virtual hardware only (machine, memory, CPUs,
   * kernel or disks). The driver adds the host-specific ones itself.
   */
  args: string[]
}

export interface VmPaths {
  qmp: string
  config: string
  pid: string
  log: string
  /** Present while an arrived VM waits for its source's hand-over (it is paused until then). */
  handover: string
  /** Source side: the move in flight (target host, round) until its hand-over is settled. */
  outgoing: string
}

export const QMP_SUFFIX = '.qmp'

/**
 * Options the driver sets per host and per process; a sidecar that carries
 * them is refused, since args can arrive from another host with a migration.
 */
export const DRIVER_OWNED_OPTIONS: readonly string[] = [
  '-qmp', '-qmp-pretty', '-monitor', '-mon', '-incoming', '-daemonize', '-pidfile', '-serial', '-runas', '-chroot', '-writeconfig', '-readconfig'
]

const VM_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/
// sun_path is 108 bytes including the terminating NUL.
const MAX_SOCKET_PATH = 107

export function validateVmId (id: string): void {
  if (!VM_ID.test(id)) throw new HypervisorError(`invalid VM id ${JSON.stringify(id)}: use 1-64 of A-Z a-z 0-9 _ . - (not starting with . _ -)`)
}

export function vmPaths (dir: string, id: string): VmPaths {
  validateVmId(id)
  const base = join(dir, id)
  const qmp = base + QMP_SUFFIX
  if (Buffer.byteLength(qmp) > MAX_SOCKET_PATH) throw new HypervisorError(`QMP socket path ${qmp} is longer than ${MAX_SOCKET_PATH} bytes; use a shorter directory or VM id`)
  return { qmp, config: base + '.json', pid: base + '.pid', log: base + '.log', handover: base + '.handover', outgoing: base + '.outgoing' }
}

/** Checks a config from disk or from the network; returns it with only the known fields. */
export function validateVmConfig (value: unknown, source: string): VmConfig {
  const fail = (problem: string): never => { throw new HypervisorError(`VM config ${source}: ${problem}`) }
  if (typeof value !== 'object' || value === null) return fail('not an object')
  const v = value as Record<string, unknown>
  if (typeof v.id !== 'string') return fail('id missing')
  validateVmId(v.id)
  if (!Number.isInteger(v.memoryMiB) || (v.memoryMiB as number) < 1) fail('memoryMiB must be a positive integer')
  if (!Number.isInteger(v.vcpus) || (v.vcpus as number) < 1) fail('vcpus must be a positive integer')
  if (!Array.isArray(v.addresses) || !v.addresses.every(a => typeof a === 'string' && isIPv6(a))) fail('addresses must be IPv6 address strings')
  if (!Array.isArray(v.args) || !v.args.every(a => typeof a === 'string')) fail('args must be strings')
  const owned = (v.args as string[]).find(a => DRIVER_OWNED_OPTIONS.includes(a.replace(/^--/, '-')))
  if (owned !== undefined) fail(`args must not contain ${owned} (the driver sets it)`)
  return { id: v.id, memoryMiB: v.memoryMiB as number, vcpus: v.vcpus as number, addresses: [...v.addresses as string[]], args: [...v.args as string[]] }
}

/** The sidecar of `id`, or undefined when there is none. */
export async function readVmConfig (dir: string, id: string): Promise<VmConfig | undefined> {
  const path = vmPaths(dir, id).config
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new HypervisorError(`cannot read ${path}: ${(err as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new HypervisorError(`VM config ${path}: not JSON`)
  }
  const config = validateVmConfig(parsed, path)
  if (config.id !== id) throw new HypervisorError(`VM config ${path}: id ${config.id} does not match the file name`)
  return config
}

/** Writes the sidecar atomically (a reader never sees half a file). */
export async function writeVmConfig (dir: string, config: VmConfig): Promise<void> {
  const path = vmPaths(dir, config.id).config
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 })
  await rename(tmp, path)
}
