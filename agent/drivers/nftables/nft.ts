/**
 * Runs the `nft` binary: finds it, checks that it really is nftables, and
 * runs it either directly (the agent on a host) or inside a network
 * namespace / behind a command prefix (tests, the lab). Every failure
 * becomes a CollectorError that says what to do about it.
 */
import { execFile } from 'node:child_process'
import { lookupTool, SYSTEM_DIRS, TOOLS } from '../../host/system-tools.ts'
import { CollectorError } from '../types.ts'

export const DEFAULT_NFT_TIMEOUT_MS = 15_000
/** Listing a full 64k-entry set as JSON is ~8 MB; leave ample room. */
const MAX_OUTPUT_BYTES = 256 << 20

export interface NftInit {
  /** An explicit path to the binary; skips the search. */
  nftPath?: string
  /** Directories to search for `nft`; default the system directories, then $PATH outside node_modules. */
  searchPath?: readonly string[]
  /** Run nft inside this named network namespace (`ip netns exec NAME nft ...`). */
  netns?: string
  /** A command prefix for nft itself (inside the netns), e.g. ['setpriv', '--reuid=nobody']. */
  wrapper?: readonly string[]
  /** Per invocation. */
  timeoutMs?: number
}

interface Output { stdout: string, stderr: string }

class ExecFailure extends Error {
  readonly stderr: string
  readonly code: string | number | undefined
  constructor (message: string, stderr: string, code: string | number | undefined) {
    super(message)
    this.stderr = stderr
    this.code = code
  }
}

function exec (argv: readonly string[], input: string | undefined, timeoutMs: number): Promise<Output> {
  const [file, ...args] = argv
  return new Promise((resolve, reject) => {
    const child = execFile(file!, args, { timeout: timeoutMs, maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err === null) return resolve({ stdout, stderr })
      // execFile's error carries the exit code or the errno name (ENOENT, ...).
      const code = (err as NodeJS.ErrnoException).code ?? undefined
      reject(new ExecFailure(err.message, stderr, typeof code === 'number' || typeof code === 'string' ? code : undefined))
    })
    // A child that exits without reading its input must not crash us with EPIPE.
    child.stdin?.on('error', () => {})
    child.stdin?.end(input)
  })
}

export class Nft {
  private binary: string | undefined
  private readonly timeoutMs: number

  private readonly init: NftInit
  constructor (init: NftInit = {}) {
    this.init = init
    this.timeoutMs = init.timeoutMs ?? DEFAULT_NFT_TIMEOUT_MS
  }

  /** The binary found by locate(). */
  get path (): string | undefined { return this.binary }

  /** Finds nftables' `nft`, skipping anything else named nft (agent/host/system-tools.ts). Throws a CollectorError when there is none. */
  async locate (): Promise<string> {
    if (this.binary !== undefined) return this.binary
    const r = lookupTool(TOOLS.nft, this.init.nftPath !== undefined ? { paths: [this.init.nftPath] } : this.init.searchPath !== undefined ? { dirs: this.init.searchPath } : {})
    if (r.found) {
      this.binary = r.path
      return r.path
    }
    const where = this.init.nftPath ?? (this.init.searchPath ?? SYSTEM_DIRS).join(':')
    throw new CollectorError(`nftables' nft binary not found in ${where}` +
      (r.lookalikes.length > 0 ? `; not nftables: ${r.lookalikes.join(', ')}` : '') +
      ' (install the nftables package or set nftPath)')
  }

  /** Runs `nft ARGS` (with stdin); returns stdout. */
  async run (args: readonly string[], input?: string): Promise<string> {
    const bin = await this.locate()
    const argv = [...this.inNetns(), ...(this.init.wrapper ?? []), bin, ...args]
    try {
      return (await exec(argv, input, this.timeoutMs)).stdout
    } catch (err) {
      throw explain(err, argv)
    }
  }

  /** Applies an nft script atomically (one transaction). */
  async apply (script: string): Promise<void> {
    await this.run(['-f', '-'], script)
  }

  /** Runs a list command with JSON output and parses it. */
  async json (args: readonly string[]): Promise<unknown> {
    const out = await this.run(['-j', ...args])
    try {
      return JSON.parse(out) as unknown
    } catch {
      throw new CollectorError(`nft -j ${args.join(' ')} printed no JSON: ${out.slice(0, 200)}`)
    }
  }

  /**
   * Reads a file such as a /proc/sys entry as seen from the namespace nft
   * runs in; undefined when it does not exist.
   */
  async readFile (path: string): Promise<string | undefined> {
    return exec([...this.inNetns(), 'cat', path], undefined, this.timeoutMs).then(o => o.stdout, () => undefined)
  }

  private inNetns (): string[] {
    return this.init.netns !== undefined ? ['ip', 'netns', 'exec', this.init.netns] : []
  }
}

function explain (err: unknown, argv: readonly string[]): CollectorError {
  const cmd = argv.join(' ').slice(0, 200)
  if (!(err instanceof ExecFailure)) return new CollectorError(`${cmd}: ${String(err)}`)
  const stderr = err.stderr.trim()
  if (err.code === 'ENOENT') return new CollectorError(`${cmd}: ${argv[0]} not found`)
  if (/Operation not permitted|Permission denied/i.test(stderr)) {
    return new CollectorError(`nft has no permission to change the ruleset (needs root or CAP_NET_ADMIN in the host's network namespace): ${firstLine(stderr)}`)
  }
  if (/Cannot open network namespace/i.test(stderr)) return new CollectorError(`${cmd}: ${firstLine(stderr)}`)
  if (/Protocol not supported|No such file or directory.*nf_tables|Could not process rule: Not supported/i.test(stderr)) {
    return new CollectorError(`the kernel lacks nf_tables support needed here: ${firstLine(stderr)}`)
  }
  return new CollectorError(`${cmd} failed (${String(err.code ?? 'killed')}): ${stderr.slice(0, 500) || err.message}`)
}

function firstLine (s: string): string {
  return s.split('\n').find(l => l.trim() !== '') ?? s
}
