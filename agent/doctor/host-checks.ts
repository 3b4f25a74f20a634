/**
 * The preflight of a host for its config (`heliotrope doctor --config F`):
 * what that config asks of this machine, each with what to do when it is not
 * there. Like kubeadm's preflight, it reads and probes but changes nothing.
 */
import { execFileSync } from 'node:child_process'
import { accessSync, constants, readFileSync, statSync } from 'node:fs'
import { connect } from 'node:net'
import { dirname, join } from 'node:path'
import { parseTopology } from '../../lib/topology.ts'
import type { AgentConfig } from '../config.ts'
import type { FileSection } from '../drivers/file/index.ts'
import type { LibvirtSection } from '../drivers/libvirt/index.ts'
import type { NftablesSection } from '../drivers/nftables/index.ts'
import type { QemuSection } from '../drivers/qemu/index.ts'
import { lookupTool, TOOLS } from '../host/system-tools.ts'
import { describePsk, PEER_KEY_FILE, readPsk } from '../net/keys.ts'
import { fail, ok, warn, type CheckResult } from './check.ts'
import { checkBridgeNetfilter, checkClock, checkForwarding, checkIpv6, checkNfTables, checkNode, checkTool } from './system-checks.ts'

/** How long a bootstrap peer may take to accept a TCP connection. */
export const PEER_DIAL_TIMEOUT_MS = 3_000

async function checkPsk (path: string): Promise<CheckResult> {
  try {
    return ok('psk', `${path}: ${describePsk(await readPsk(path))}, mode 0600`)
  } catch (err) {
    return fail('psk', `${path}: ${(err as Error).message}`, `keep the cluster key readable by root only: chmod 600 ${path}`)
  }
}

function checkPeerKey (stateDir: string): CheckResult {
  const path = join(stateDir, PEER_KEY_FILE)
  let mode: number
  try { mode = statSync(path).mode } catch { return ok('peer-key', `${path} does not exist yet (the agent creates it, mode 0600)`) }
  return (mode & 0o077) === 0
    ? ok('peer-key', `${path}, mode ${(mode & 0o777).toString(8)}`)
    : fail('peer-key', `${path} has mode ${(mode & 0o777).toString(8)}: others can read this host's identity`, `chmod 600 ${path}`)
}

function checkTopology (config: AgentConfig): CheckResult {
  try {
    const t = parseTopology(JSON.parse(readFileSync(config.topologyFile, 'utf8')))
    if (!t.dcs.some(d => d.id === config.dc)) return fail('topology', `${config.topologyFile} has no DC ${JSON.stringify(config.dc)} (it has ${t.dcs.map(d => d.id).join(', ')})`, 'set dc to one of the topology\'s DCs, or add it there on every host')
    return ok('topology', `${config.topologyFile}: ${t.dcs.length} DC(s), ${t.links.length} link(s), this host in ${config.dc}`)
  } catch (err) {
    return fail('topology', `${config.topologyFile}: ${(err as Error).message.split('\n').map(l => l.trim()).filter(l => l !== '').join(' ')}`, 'give topologyFile a valid topology (docs/operations.md)')
  }
}

/**
 * The qemu driver's directory: writable, or missing under a writable
 * parent (the driver creates it at its first start, so a host fresh from
 * `heliotrope init` passes).
 */
function checkQemuDir (dir: string): CheckResult {
  try {
    accessSync(dir, constants.W_OK)
    return ok('qemu-dir', `${dir} (QMP sockets and pid files) is writable`)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return fail('qemu-dir', `${dir} is not writable`, `chown or chmod ${dir} for the agent's user`)
  }
  const parent = existingParent(dir)
  try {
    if (!statSync(parent).isDirectory()) throw new Error('not a directory')
    accessSync(parent, constants.W_OK)
    return ok('qemu-dir', `${dir} does not exist yet: the agent creates it at start (${parent} is writable)`)
  } catch {
    return fail('qemu-dir', `${dir} is missing and ${parent} is not a writable directory`, `mkdir -p ${dir}`)
  }
}

/** The nearest ancestor of `path` that exists. */
function existingParent (path: string): string {
  let p = dirname(path)
  while (p !== dirname(p)) {
    try { statSync(p); return p } catch { p = dirname(p) }
  }
  return p
}

function checkHypervisor (config: AgentConfig): CheckResult[] {
  // Sections are typed by their kind's reader (agent/drivers/kinds.ts); narrow by kind.
  const section = config.hypervisor
  if (section.kind === 'qemu') {
    const h = section as QemuSection
    const results = [checkTool('qemu', { id: 'qemu' })]
    results.push(checkQemuDir(h.dir))
    try { accessSync('/dev/kvm', constants.R_OK | constants.W_OK); results.push(ok('kvm', '/dev/kvm usable')) } catch { results.push(warn('kvm', 'no usable /dev/kvm: guests run under TCG, far slower', 'enable virtualization in the firmware, modprobe kvm_intel or kvm_amd')) }
    return results
  }
  if (section.kind === 'libvirt') {
    const h = section as LibvirtSection
    const virsh = lookupTool(TOOLS.virsh)
    if (!virsh.found) return [fail('libvirt', virsh.reason, 'apt-get install libvirt-clients')]
    const uri = h.uri ?? 'qemu:///system'
    try {
      const v = execFileSync(virsh.path, ['-c', uri, 'version', '--daemon'], { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'pipe'] })
      return [ok('libvirt', `libvirtd at ${uri} answers (${v.split('\n').find(l => l.includes('daemon'))?.trim() ?? 'version'})`)]
    } catch (err) {
      return [fail('libvirt', `libvirtd at ${uri} does not answer: ${String((err as { stderr?: string }).stderr ?? '').trim().split('\n')[0]}`, 'systemctl start libvirtd')]
    }
  }
  if (section.kind === 'xen') {
    const xl = lookupTool(TOOLS.xl)
    if (!xl.found) return [fail('xen', xl.reason, 'run on a Xen Dom0 (apt-get install xen-utils)')]
    try {
      execFileSync(xl.path, ['info'], { timeout: 15_000, stdio: 'pipe' })
      return [ok('xen', `${xl.path} info answers`)]
    } catch (err) {
      return [fail('xen', `xl info failed: ${(err as Error).message.split('\n')[0]}`, 'run on a Xen Dom0 with xencommons started')]
    }
  }
  return [warn('hypervisor', `kind ${section.kind} is for the lab and the simulator, not a real host`)]
}

function checkCollector (config: AgentConfig): CheckResult[] {
  const section = config.collector
  if (section.kind === 'nftables') {
    const c = section as NftablesSection
    const nft = lookupTool(TOOLS.nft)
    const tool = checkTool('nft', { id: 'nftables' })
    const kernel = process.getuid?.() === 0 ? checkNfTables(nft.found ? nft.path : undefined) : warn('nf_tables', 'not root: the kernel was not asked', 'run doctor as root, as the agent runs')
    return [tool, kernel, checkBridgeNetfilter(c.hooks), checkForwarding(c.hooks.includes('inet'))]
  }
  if (section.kind === 'file') {
    const c = section as FileSection
    if (c.path === '-') return [ok('collector', 'flow lines from standard input')]
    try { accessSync(c.path, constants.R_OK); return [ok('collector', `${c.path} is readable`)] } catch { return [warn('collector', `${c.path} does not exist yet (the collector waits for it)`)] }
  }
  return [warn('collector', `kind ${section.kind} is for the lab and the simulator, not a real host`)]
}

/** host:port of a bootstrap multiaddr, or undefined for one without a TCP address. */
export function dialTarget (addr: string): { host: string, port: number } | undefined {
  const m = /^\/(ip6|ip4|dns|dns4|dns6)\/([^/]+)\/tcp\/(\d+)/.exec(addr)
  return m === null ? undefined : { host: m[2]!, port: Number(m[3]) }
}

function dial (host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise(resolve => {
    const s = connect({ host, port, timeout: timeoutMs })
    const done = (why: string | undefined): void => { s.destroy(); resolve(why) }
    s.once('connect', () => done(undefined))
    s.once('timeout', () => done(`no answer in ${timeoutMs} ms`))
    s.once('error', err => done(err.message))
  })
}

async function checkBootstrap (config: AgentConfig, timeoutMs: number): Promise<CheckResult> {
  if (config.bootstrap.length === 0) return warn('bootstrap', 'no bootstrap peers: this host can only be dialed, not join by itself', 'list one or more members\' addresses in bootstrap')
  const answers = await Promise.all(config.bootstrap.map(async a => {
    const target = dialTarget(a)
    if (target === undefined) return `${a}: not a TCP multiaddr`
    const why = await dial(target.host, target.port, timeoutMs)
    return why === undefined ? undefined : `${a}: ${why}`
  }))
  const bad = answers.filter((a): a is string => a !== undefined)
  if (bad.length === 0) return ok('bootstrap', `${config.bootstrap.length} bootstrap peer(s) accept connections`)
  if (bad.length < config.bootstrap.length) return warn('bootstrap', `${config.bootstrap.length - bad.length} of ${config.bootstrap.length} answer; ${bad.join('; ')}`)
  return fail('bootstrap', `no bootstrap peer answers: ${bad.join('; ')}`, 'start a member first, or check the addresses and the firewall (TCP)')
}

export interface HostCheckOptions {
  dialTimeoutMs?: number
  /** For tests: skip the clock (its answer depends on the machine). */
  clock?: () => CheckResult
}

export async function hostChecks (config: AgentConfig, opts: HostCheckOptions = {}): Promise<CheckResult[]> {
  return [
    checkNode(),
    checkIpv6(),
    ...checkCollector(config),
    ...checkHypervisor(config),
    (opts.clock ?? checkClock)(),
    await checkPsk(config.pskFile),
    checkPeerKey(config.stateDir),
    checkTopology(config),
    await checkBootstrap(config, opts.dialTimeoutMs ?? PEER_DIAL_TIMEOUT_MS)
  ]
}
