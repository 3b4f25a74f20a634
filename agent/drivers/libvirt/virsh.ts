/** Runs virsh against one libvirt connection, turning failures into HypervisorErrors that quote virsh. */
import { runCommand, showCommand, type CommandResult, type CommandRunner } from '../command.ts'
import { HypervisorError } from '../types.ts'
import { virsh } from './commands.ts'
import { definedOnly } from '../../../lib/defined.ts'

export const DEFAULT_VIRSH = 'virsh'
/** Time for one query (list, dominfo, domifaddr) before it counts as hung, in ms. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 15_000

export interface VirshInit {
  binary?: string
  /** The local libvirtd, e.g. qemu:///system. */
  uri: string
  /** Runs virsh in this host's network, e.g. ['ip', 'netns', 'exec', 'host-a']. */
  prefix?: string[]
  run?: CommandRunner
  timeoutMs?: number
}

export class Virsh {
  readonly uri: string
  readonly #binary: string
  readonly #prefix: string[]
  readonly #run: CommandRunner
  readonly #timeoutMs: number

  constructor (init: VirshInit) {
    this.uri = init.uri
    this.#binary = init.binary ?? DEFAULT_VIRSH
    this.#prefix = init.prefix ?? []
    this.#run = init.run ?? runCommand
    this.#timeoutMs = init.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS
  }

  /** The full command line for `args` on connection `uri` (this host's by default). */
  argv (args: readonly string[], uri = this.uri): string[] {
    return [...this.#prefix, ...virsh(this.#binary, uri, ...args)]
  }

  /** Runs and returns the result whatever the exit code. */
  async result (args: readonly string[], opts: { uri?: string, timeoutMs?: number, signal?: AbortSignal } = {}): Promise<CommandResult> {
    const argv = this.argv(args, opts.uri)
    try {
      return await this.#run(argv, { timeoutMs: opts.timeoutMs ?? this.#timeoutMs, ...definedOnly({ signal: opts.signal }) })
    } catch (err) {
      throw new HypervisorError(`cannot run ${showCommand(argv)}: ${(err as Error).message} (install libvirt-clients)`)
    }
  }

  /** Runs and returns stdout; a non-zero exit throws with virsh's own message. */
  async text (args: readonly string[], opts: { uri?: string, timeoutMs?: number } = {}): Promise<string> {
    const r = await this.result(args, opts)
    if (r.code !== 0) throw new HypervisorError(`${showCommand(this.argv(args, opts.uri))} failed (${r.signal ?? `exit ${r.code}`}): ${errorText(r)}`)
    return r.stdout
  }
}

/** virsh's error lines ("error: ..."), or whatever it printed. */
export function errorText (r: CommandResult): string {
  const lines = r.stderr.split('\n').map(l => l.trim()).filter(l => l !== '')
  return lines.map(l => l.replace(/^error: /, '')).join('; ') || r.stdout.trim() || 'no message'
}

/** virsh's answer when the domain is not there (never was, or just left). */
export function isNoDomain (r: CommandResult): boolean {
  return r.code !== 0 && /failed to get domain|Domain not found/.test(r.stderr)
}
