/**
 * Runs a hypervisor's command-line tool (virsh, xl) and collects its output.
 * The drivers take the runner as an option, so tests can replay recorded
 * outputs of the real tools and check the exact command lines.
 */
import { spawn } from 'node:child_process'
import { resolveCommand } from '../host/system-tools.ts'

/** Most output kept per stream; the tools' answers are a few KiB. */
export const MAX_OUTPUT_BYTES = 4 * 2 ** 20

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
}

/** Runs argv[0] with the rest as arguments (no shell). Never rejects for a non-zero exit. */
export type CommandRunner = (argv: readonly string[], opts: CommandOptions) => Promise<CommandResult>

export const runCommand: CommandRunner = async (argv, opts) => {
  const [command, ...args] = argv
  if (command === undefined) throw new TypeError('empty command')
  return await new Promise((resolve, reject) => {
    const child = spawn(resolveCommand(command), args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: opts.timeoutMs, killSignal: opts.killSignal ?? 'SIGKILL' })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let outBytes = 0
    let errBytes = 0
    child.stdout.on('data', (d: Buffer) => { if (outBytes < MAX_OUTPUT_BYTES) { out.push(d); outBytes += d.length } })
    child.stderr.on('data', (d: Buffer) => { if (errBytes < MAX_OUTPUT_BYTES) { err.push(d); errBytes += d.length } })
    child.on('error', reject)
    child.on('close', (code, signal) => {
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') })
    })
  })
}

/** The command line as a person would type it, for error messages. */
export function showCommand (argv: readonly string[]): string {
  return argv.map(a => /^[\w@%+=:,./[\]-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`).join(' ')
}
