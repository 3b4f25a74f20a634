/**
 * Runs a hypervisor's command-line tool (virsh, xl) and collects its output.
 * The drivers take the runner as an option, so tests can replay recorded
 * outputs of the real tools and check the exact command lines.
 *
 * A tool never outlives the agent: it runs in a process group of its own
 * (it may fork, as xl migrate forks ssh), which a timeout or an abort ends
 * as a whole, and under `setpriv --pdeathsig` so it gets SIGTERM when the
 * agent dies without cleaning up (kill -9, a crash), since the unit's
 * KillMode=process leaves it alone (agent/systemd/heliotrope.service).
 */
import { spawn } from 'node:child_process'
import { resolveCommand } from '../host/system-tools.ts'

/** Most output kept per stream; the tools' answers are a few KiB. */
export const MAX_OUTPUT_BYTES = 4 * 2 ** 20
/** After the first signal to a tool's group, time before SIGKILL, in ms. */
export const DEFAULT_KILL_GRACE_MS = 5_000

export interface CommandResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface CommandOptions {
  timeoutMs: number
  /** Sent when the time is up; SIGKILL unless a tool needs the chance to clean up. */
  killSignal?: NodeJS.Signals
  /** Ends the tool's process group early (killSignal, then SIGKILL after killGraceMs): the agent is stopping. */
  signal?: AbortSignal
  killGraceMs?: number
}

/** Runs argv[0] with the rest as arguments (no shell). Never rejects for a non-zero exit. */
export type CommandRunner = (argv: readonly string[], opts: CommandOptions) => Promise<CommandResult>

/** The wrapper that ties a tool's life to the agent's (util-linux, always on Debian). */
export function deathSignalPrefix (): string[] {
  return [resolveCommand('setpriv'), '--pdeathsig', 'TERM', '--']
}

export const runCommand: CommandRunner = async (argv, opts) => {
  const [command] = argv
  if (command === undefined) throw new TypeError('empty command')
  const [file, ...args] = [...deathSignalPrefix(), resolveCommand(command), ...argv.slice(1)]
  return await new Promise((resolve, reject) => {
    // detached: its own session and process group, so the group can be signalled as one.
    const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let outBytes = 0
    let errBytes = 0
    let killTimer: NodeJS.Timeout | undefined
    const group = (sig: NodeJS.Signals): void => {
      try { if (child.pid !== undefined) process.kill(-child.pid, sig) } catch { /* the group is gone */ }
    }
    const end = (): void => {
      if (killTimer !== undefined) return
      group(opts.killSignal ?? 'SIGKILL')
      killTimer = setTimeout(() => { group('SIGKILL') }, opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS)
    }
    const timer = setTimeout(end, opts.timeoutMs)
    opts.signal?.addEventListener('abort', end, { once: true })
    if (opts.signal?.aborted === true) end()
    const done = (): void => {
      clearTimeout(timer)
      clearTimeout(killTimer)
      opts.signal?.removeEventListener('abort', end)
    }
    child.stdout.on('data', (d: Buffer) => { if (outBytes < MAX_OUTPUT_BYTES) { out.push(d); outBytes += d.length } })
    child.stderr.on('data', (d: Buffer) => { if (errBytes < MAX_OUTPUT_BYTES) { err.push(d); errBytes += d.length } })
    child.on('error', (e) => { done(); reject(e) })
    child.on('close', (code, signal) => {
      done()
      // What the tool left in its group (e.g. xl's ssh after xl died) goes with it.
      if (killTimer !== undefined) group('SIGKILL')
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') })
    })
  })
}

/** The command line as a person would type it, for error messages. */
export function showCommand (argv: readonly string[]): string {
  return argv.map(a => /^[\w@%+=:,./[\]-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`).join(' ')
}
