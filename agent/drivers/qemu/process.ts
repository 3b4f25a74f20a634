/**
 * Starting and stopping QEMU processes. QEMU runs daemonized (-daemonize,
 * -pidfile): a VM must outlive the agent that started it, since the
 * hypervisor, not the agent, is the source of truth for where a VM runs.
 * The launcher returns once QEMU is initialized, i.e. its QMP socket listens.
 */
import { spawn } from 'node:child_process'
import { resolveCommand } from '../../host/system-tools.ts'
import { readFile, rm } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { HypervisorError } from '../types.ts'
import type { VmPaths } from './config.ts'

export const DEFAULT_QEMU_BINARY = 'qemu-system-x86_64'
/** Time for QEMU to initialize (parse args, load the kernel, open the socket), in ms. */
export const DEFAULT_LAUNCH_TIMEOUT_MS = 30_000
/** Time for a QEMU to exit after SIGTERM before it gets SIGKILL, in ms. */
export const DEFAULT_STOP_TIMEOUT_MS = 5_000

export interface LaunchSpec {
  binary: string
  /** Command that runs QEMU in this host's network, e.g. ['ip', 'netns', 'exec', 'ns1']; empty for none. */
  prefix: string[]
  paths: VmPaths
  /** The VM's hardware arguments (from its sidecar). */
  args: string[]
  /**
   * Start waiting for an incoming migration whose address is set later over
   * QMP, with -S: the arrived guest stays paused until the source hands it
   * over (docs/design.md §6.1), so it never runs beside a source that
   * cancelled.
   */
  incoming?: boolean
  timeoutMs?: number
}

/** The full command line; the host-specific options come last so they win. */
export function qemuCommand (spec: LaunchSpec): string[] {
  const own = [
    '-daemonize', '-pidfile', spec.paths.pid,
    '-qmp', `unix:${spec.paths.qmp},server=on,wait=off`,
    '-serial', `file:${spec.paths.log}`
  ]
  if (spec.incoming === true) own.push('-incoming', 'defer', '-S')
  return [...spec.prefix, spec.binary, ...spec.args, ...own]
}

/** Starts QEMU; resolves with the daemon's pid once it is initialized. */
export async function launchQemu (spec: LaunchSpec): Promise<number> {
  const [command, ...args] = qemuCommand(spec)
  const timeoutMs = spec.timeoutMs ?? DEFAULT_LAUNCH_TIMEOUT_MS
  const stderr = await new Promise<string>((resolve, reject) => {
    const child = spawn(resolveCommand(command!), args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: timeoutMs })
    let err = ''
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (chunk: string) => { if (err.length < 8192) err += chunk })
    child.on('error', (e) => { reject(new HypervisorError(`cannot run ${command}: ${e.message}`)) })
    child.on('close', (code, signal) => {
      if (code === 0) resolve(err)
      else reject(new HypervisorError(`QEMU for ${spec.paths.qmp} failed to start (${signal ?? `exit ${code}`}): ${err.trim() || 'no message'}`))
    })
  })
  const pid = await readPid(spec.paths)
  if (pid === undefined) throw new HypervisorError(`QEMU started but wrote no pid file ${spec.paths.pid}: ${stderr.trim()}`)
  return pid
}

export async function readPid (paths: VmPaths): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(paths.pid, 'utf8'), 10)
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

/**
 * Whether `pid` is still this VM's QEMU: its command line names the VM's pid
 * file. Guards against signalling a recycled pid, and treats a zombie (empty
 * command line; nobody may reap it in a container) as gone.
 */
export async function isQemuRunning (pid: number, paths: VmPaths): Promise<boolean> {
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8')
    return cmdline.split('\0').includes(paths.pid)
  } catch {
    return false
  }
}

/** Waits until the VM's QEMU is gone; false at the timeout. */
export async function waitForExit (pid: number, paths: VmPaths, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (await isQemuRunning(pid, paths)) {
    if (Date.now() >= deadline) return false
    await sleep(50)
  }
  return true
}

/** Ends the VM's QEMU by signal (SIGTERM, then SIGKILL) if it still runs. */
export async function killQemu (paths: VmPaths, timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<void> {
  const pid = await readPid(paths)
  if (pid === undefined || !await isQemuRunning(pid, paths)) return
  const signal = (sig: NodeJS.Signals): void => {
    try { process.kill(pid, sig) } catch { /* already gone */ }
  }
  signal('SIGTERM')
  if (await waitForExit(pid, paths, timeoutMs)) return
  signal('SIGKILL')
  if (!await waitForExit(pid, paths, timeoutMs)) throw new HypervisorError(`QEMU pid ${pid} (${paths.qmp}) survived SIGKILL for ${timeoutMs} ms`)
}

/** Removes the VM's socket, sidecar, pid file and serial log. */
export async function removeVmFiles (paths: VmPaths): Promise<void> {
  await Promise.all([paths.qmp, paths.config, paths.pid, paths.log, paths.handover, paths.outgoing].map(async p => { await rm(p, { force: true }) }))
}
