/**
 * Runs the iproute2 tools (`ip`, `bridge`, `tc`) for the lab driver and the
 * lab itself. Binaries are found as the agent finds them (system
 * directories first, never node_modules/.bin, checked by their version
 * answer): under `npm`/`npx` the PATH starts with node_modules/.bin, and a
 * lab must not run whatever happens to be called `ip` there.
 */
import { execFile } from 'node:child_process'
import { toolPath } from '../../../agent/host/system-tools.ts'

export const DEFAULT_COMMAND_TIMEOUT_MS = 15_000
const MAX_OUTPUT_BYTES = 64 << 20

export class CommandError extends Error {
  readonly argv: readonly string[]
  readonly stderr: string
  readonly code: string | number | undefined
  constructor (argv: readonly string[], stderr: string, code: string | number | undefined) {
    super(`${argv.join(' ').slice(0, 300)}: ${(stderr.trim() || `exit ${String(code)}`).slice(0, 500)}`)
    this.argv = argv
    this.stderr = stderr
    this.code = code
    this.name = 'CommandError'
  }
}

/** The absolute path of a system tool, checked to be the real one (agent/host/system-tools.ts); throws when it is not installed. */
export function tool (name: string): string {
  return toolPath(name)
}

export interface RunOptions {
  input?: string
  timeoutMs?: number
}

/** Runs argv (argv[0] a tool name or a path); resolves with stdout, rejects with a CommandError. */
export function run (argv: readonly string[], opts: RunOptions = {}): Promise<string> {
  const [first, ...args] = argv
  const file = first!.includes('/') ? first! : tool(first!)
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS, maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err === null) { resolve(stdout); return }
      const code = (err as NodeJS.ErrnoException).code
      reject(new CommandError(argv, stderr || err.message, typeof code === 'number' || typeof code === 'string' ? code : undefined))
    })
    // A child that exits without reading its input must not crash us with EPIPE.
    child.stdin?.on('error', () => {})
    child.stdin?.end(opts.input)
  })
}

/** `ip -n NS ARGS...` */
export function ip (ns: string, ...args: string[]): Promise<string> {
  return run(['ip', '-n', ns, ...args])
}

/**
 * Runs several `ip` commands in one process (`ip -6 -n NS -batch -`): one
 * fork instead of many. IPv6 is the family of every line (the lab has no IPv4).
 */
export async function ipBatch (ns: string, commands: readonly string[]): Promise<void> {
  if (commands.length === 0) return
  await run(['ip', '-6', '-n', ns, '-batch', '-'], { input: commands.join('\n') + '\n' })
}

/** `ip netns exec NS ARGV...` */
export function inNetns (ns: string, argv: readonly string[], opts: RunOptions = {}): Promise<string> {
  return run(['ip', 'netns', 'exec', ns, ...argv], opts)
}

/** Writes /proc/sys entries inside a namespace in one shell (no procps needed). */
export async function sysctls (ns: string, values: Record<string, string | number>): Promise<void> {
  const script = Object.entries(values).map(([k, v]) => {
    if (!/^[a-z0-9_.\-/]+$/i.test(k) || !/^[0-9a-z-]+$/i.test(String(v))) throw new Error(`bad sysctl ${k}=${v}`)
    const path = `/proc/sys/${k.replaceAll('.', '/')}`
    return `if [ -e ${path} ]; then echo ${v} > ${path}; fi`
  }).join('; ')
  await inNetns(ns, ['sh', '-c', script])
}
