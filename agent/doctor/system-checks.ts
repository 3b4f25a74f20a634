/**
 * Checks of the machine itself, shared by a host's preflight and the lab's:
 * Node, real Debian tools (never a lookalike from node_modules/.bin), the
 * kernel's nf_tables, IPv6, forwarding, bridge netfilter, the clock.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { lookupTool, systemTool, TOOLS, type LookupOptions, type ToolName } from '../host/system-tools.ts'
import { fail, ok, warn, type CheckResult } from './check.ts'

/** libp2p 3 needs Node 22 or newer. */
export const MIN_NODE_MAJOR = 22
const COMMAND_TIMEOUT_MS = 10_000

export function checkNode (version = process.versions.node): CheckResult {
  const major = Number(version.split('.')[0])
  return major >= MIN_NODE_MAJOR
    ? ok('node', `Node ${version}`)
    : fail('node', `Node ${version}, heliotrope needs ${MIN_NODE_MAJOR} or newer`, 'run through npm/npx (the project pins Node 24) or install Node >= 22')
}

export function checkRoot (uid = process.getuid?.()): CheckResult {
  return uid === 0 ? ok('root', 'running as root') : fail('root', `running as uid ${uid ?? '?'}`, 'network namespaces, nftables and libvirtd need root: run as root')
}

/** A real tool by absolute path; `id` defaults to the tool's package. */
export function checkTool (name: ToolName, opts: LookupOptions & { id?: string } = {}): CheckResult {
  const spec = TOOLS[name]
  const id = opts.id ?? spec.name
  const r = lookupTool(spec, opts)
  if (!r.found) return fail(id, r.reason, `apt-get install ${spec.package}`)
  const also = r.lookalikes.length > 0 ? `; skipped lookalike ${r.lookalikes.join(', ')}` : ''
  return ok(id, `${r.version} at ${r.path}${also}`)
}

function firstLine (file: string): string | undefined {
  try { return readFileSync(file, 'utf8').trim() } catch { return undefined }
}

/** The kernel accepts an nftables table (a dry run: nothing is created). Needs root. */
export function checkNfTables (nftPath: string | undefined): CheckResult {
  if (nftPath === undefined) return fail('nf_tables', 'cannot test the kernel without nft', 'apt-get install nftables')
  try {
    execFileSync(nftPath, ['--check', '-f', '-'], { input: 'add table inet heliotrope_doctor\n', timeout: COMMAND_TIMEOUT_MS, stdio: ['pipe', 'pipe', 'pipe'] })
    return ok('nf_tables', 'the kernel accepts an inet table (dry run)')
  } catch (err) {
    const text = String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim().split('\n')[0]
    return fail('nf_tables', `the kernel refused an nftables table: ${text}`, 'run as root on a kernel with nf_tables (modprobe nf_tables)')
  }
}

export function checkIpv6 (root = '/proc/sys/net/ipv6/conf/all'): CheckResult {
  const v = firstLine(`${root}/disable_ipv6`)
  if (v === undefined) return fail('ipv6', 'no IPv6 in this kernel', 'boot without ipv6.disable=1')
  return v === '0' ? ok('ipv6', 'enabled') : fail('ipv6', 'disabled (net.ipv6.conf.all.disable_ipv6=1)', 'sysctl -w net.ipv6.conf.all.disable_ipv6=0')
}

/** Routed hosts forward their VMs' packets; bridged hosts do not need it. */
export function checkForwarding (needed: boolean, root = '/proc/sys/net/ipv6/conf/all'): CheckResult {
  const v = firstLine(`${root}/forwarding`)
  if (v === '1') return ok('forwarding', 'IPv6 forwarding on')
  const detail = `IPv6 forwarding ${v === undefined ? 'unknown' : 'off'}`
  return needed ? fail('forwarding', detail, 'sysctl -w net.ipv6.conf.all.forwarding=1 (routed hosts)') : ok('forwarding', `${detail} (not needed for bridged hosts)`)
}

/**
 * With both the bridge and the inet hook counting, bridged IPv6 that also
 * passes ip6tables/inet hooks would count twice (docs: operations, nftables hooks).
 */
export function checkBridgeNetfilter (hooks: readonly string[], file = '/proc/sys/net/bridge/bridge-nf-call-ip6tables'): CheckResult {
  const v = firstLine(file)
  if (v === undefined || v === '0') return ok('bridge-netfilter', v === undefined ? 'br_netfilter not loaded' : 'bridge-nf-call-ip6tables=0')
  return hooks.includes('bridge') && hooks.includes('inet')
    ? fail('bridge-netfilter', 'bridge-nf-call-ip6tables=1 with both hooks: bridged traffic is counted twice', 'sysctl -w net.bridge.bridge-nf-call-ip6tables=0')
    : ok('bridge-netfilter', 'bridge-nf-call-ip6tables=1 (one hook: counted once)')
}

/** Rounds are cut by the wall clock: hosts must agree on it (NTP). */
export function checkClock (run: (name: 'timedatectl' | 'chronyc', args: string[]) => string = defaultRun): CheckResult {
  try {
    const v = run('timedatectl', ['show', '-p', 'NTPSynchronized', '--value']).trim()
    if (v === 'yes') return ok('clock', 'synchronized (timedatectl)')
    if (v === 'no') return fail('clock', 'not synchronized (timedatectl)', 'enable NTP: timedatectl set-ntp true, or run chrony')
  } catch { /* no systemd as PID 1: ask chrony */ }
  try {
    const out = run('chronyc', ['-n', 'tracking'])
    if (/Leap status\s*:\s*Normal/.test(out)) return ok('clock', 'synchronized (chrony)')
    return fail('clock', 'chrony is not synchronized', 'check chronyc sources')
  } catch { /* neither */ }
  return warn('clock', 'cannot tell whether the clock is synchronized (no timedatectl answer, no chrony)', 'run NTP (systemd-timesyncd or chrony): rounds need clocks within a second')
}

function defaultRun (name: 'timedatectl' | 'chronyc', args: string[]): string {
  return execFileSync(systemTool(name), args, { encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] })
}
