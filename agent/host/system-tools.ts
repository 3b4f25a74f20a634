/**
 * Finds the Debian tools a host needs (nft, ip, qemu, virsh, ...) by absolute
 * path, and checks each is the real thing. Under `npm test` and `npx` the
 * PATH starts with node_modules/.bin, where @vercel/nft (pulled in by ava)
 * installs an `nft` that is not nftables; a lookup through PATH alone once
 * hid a missing install step. So: the system directories first, PATH after
 * them without node_modules, and every candidate asked for its version; one
 * that answers wrongly is a lookalike, skipped and named.
 */
import { spawnSync } from 'node:child_process'
import { accessSync, constants, realpathSync } from 'node:fs'
import { delimiter, join } from 'node:path'

/** Where Debian puts its binaries, searched before $PATH. */
export const SYSTEM_DIRS: readonly string[] = ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin']
/** One identity check (a version query); tools answer in milliseconds. */
export const IDENTIFY_TIMEOUT_MS = 10_000

export interface ToolSpec {
  /** The binary's name. */
  name: string
  /** The Debian package that ships it (what to install). */
  package: string
  /** Arguments that make it print its version. */
  versionArgs: readonly string[]
  /** What the real tool's version output (stdout and stderr) matches. */
  identity: RegExp
}

export const TOOLS = {
  nft: { name: 'nft', package: 'nftables', versionArgs: ['--version'], identity: /^nftables v\d/ },
  ip: { name: 'ip', package: 'iproute2', versionArgs: ['-V'], identity: /^ip utility, iproute2/ },
  tc: { name: 'tc', package: 'iproute2', versionArgs: ['-V'], identity: /^tc utility, iproute2/ },
  bridge: { name: 'bridge', package: 'iproute2', versionArgs: ['-V'], identity: /^bridge utility, / },
  qemu: { name: 'qemu-system-x86_64', package: 'qemu-system-x86', versionArgs: ['-version'], identity: /^QEMU emulator version \d/ },
  virsh: { name: 'virsh', package: 'libvirt-clients', versionArgs: ['--version'], identity: /^\d+\.\d+\.\d+/ },
  libvirtd: { name: 'libvirtd', package: 'libvirt-daemon', versionArgs: ['--version'], identity: /libvirtd \(libvirt\) \d/ },
  tmux: { name: 'tmux', package: 'tmux', versionArgs: ['-V'], identity: /^tmux \d/ },
  cpio: { name: 'cpio', package: 'cpio', versionArgs: ['--version'], identity: /^cpio \(GNU cpio\)/ },
  systemdAnalyze: { name: 'systemd-analyze', package: 'systemd', versionArgs: ['--version'], identity: /^systemd \d/ },
  timedatectl: { name: 'timedatectl', package: 'systemd', versionArgs: ['--version'], identity: /^systemd \d/ },
  chronyc: { name: 'chronyc', package: 'chrony', versionArgs: ['--version'], identity: /^chronyc \(chrony\)/ },
  unshare: { name: 'unshare', package: 'util-linux', versionArgs: ['--version'], identity: /^unshare from util-linux/ },
  sshd: { name: 'sshd', package: 'openssh-server', versionArgs: ['-V'], identity: /^OpenSSH_\d/ },
  xl: { name: 'xl', package: 'xen-utils', versionArgs: ['help'], identity: /xl/ }
} as const satisfies Record<string, ToolSpec>

export type ToolName = keyof typeof TOOLS

export type ToolLookup =
  | { found: true, path: string, version: string, lookalikes: string[] }
  | { found: false, reason: string, lookalikes: string[] }

export interface LookupOptions {
  /** Directories to search instead of SYSTEM_DIRS then $PATH (tests). */
  dirs?: readonly string[]
  /** Exact candidate paths instead of any search (a configured binary). */
  paths?: readonly string[]
}

/** The first line a binary prints for its version query, or undefined when it does not run. */
function versionOf (path: string, args: readonly string[]): string | undefined {
  const r = spawnSync(path, args, { encoding: 'utf8', timeout: IDENTIFY_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] })
  if (r.status === 0 && r.stdout.trim() !== '') return r.stdout.trim().split('\n')[0]
  // Some tools print their version and exit non-zero (xl help), or print it on stderr (sshd -V): still an answer.
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim()
  if (text !== '') return text.split('\n')[0]
  return r.status === 0 ? '' : undefined
}

/** Candidate paths for a name: the system directories, then PATH minus anything under node_modules. */
export function candidatePaths (name: string, opts: LookupOptions = {}): string[] {
  if (opts.paths !== undefined) return [...new Set(opts.paths)]
  const dirs = opts.dirs ?? [...SYSTEM_DIRS, ...(process.env.PATH ?? '').split(delimiter).filter(d => !d.split('/').includes('node_modules'))]
  return [...new Set(dirs.filter(d => d !== '').map(d => join(d, name)))]
}

/** Finds `spec`'s real binary; a same-named binary that is not it is listed in `lookalikes`. */
export function lookupTool (spec: ToolSpec, opts: LookupOptions = {}): ToolLookup {
  const lookalikes: string[] = []
  const seen = new Set<string>()
  for (const path of candidatePaths(spec.name, opts)) {
    try { accessSync(path, constants.X_OK) } catch { continue }
    // /sbin and /usr/sbin are one directory on merged-/usr Debian: ask each binary once.
    const real = realpathSync(path)
    if (seen.has(real)) continue
    seen.add(real)
    const version = versionOf(path, spec.versionArgs)
    if (version !== undefined && spec.identity.test(version)) return { found: true, path, version, lookalikes }
    lookalikes.push(`${path} (says ${JSON.stringify((version ?? '').slice(0, 60))})`)
  }
  const where = opts.paths ?? opts.dirs ?? SYSTEM_DIRS
  const reason = `${spec.name} not found in ${where.join(':')}` +
    (lookalikes.length > 0 ? `; not ${spec.package}: ${lookalikes.join(', ')}` : '') +
    ` (apt-get install ${spec.package})`
  return { found: false, reason, lookalikes }
}

const cache = new Map<string, string>()

/** The path of a real system tool, cached per process; throws with the install hint when there is none. */
export function systemTool (name: ToolName): string {
  const hit = cache.get(name)
  if (hit !== undefined) return hit
  const r = lookupTool(TOOLS[name])
  if (!r.found) throw new Error(r.reason)
  cache.set(name, r.path)
  return r.path
}

/**
 * A tool by its binary name: a known one (TOOLS) checked for what it is,
 * any other the first executable in the system directories, then PATH
 * without node_modules. For argv[0] of commands the lab and drivers run.
 */
export function toolPath (binary: string): string {
  const known = (Object.keys(TOOLS) as ToolName[]).find(k => TOOLS[k].name === binary)
  if (known !== undefined) return systemTool(known)
  const hit = cache.get(binary)
  if (hit !== undefined) return hit
  for (const path of candidatePaths(binary)) {
    try { accessSync(path, constants.X_OK); cache.set(binary, path); return path } catch { /* next */ }
  }
  throw new Error(`${binary} not found in ${SYSTEM_DIRS.join(':')} or PATH (outside node_modules)`)
}

/**
 * argv[0] as a path: a bare name resolved with toolPath, left as it is when
 * not found (the spawn then fails with ENOENT as it always did, and the
 * caller's error says what to install).
 */
export function resolveCommand (command: string): string {
  if (command.includes('/')) return command
  try { return toolPath(command) } catch { return command }
}
