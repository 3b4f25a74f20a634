/**
 * What the lab and the test suite need on this machine, each check named so
 * a test can say which it requires (test/prerequisites.ts). The bootstrap
 * (.ci/bootstrap.sh) installs the Debian packages behind every check but
 * `root` and `kvm`.
 */
import { execFileSync } from 'node:child_process'
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs'
import { lookupTool, systemTool, TOOLS } from '../host/system-tools.ts'
import { isStaticElf } from '../host/elf.ts'
import { fail, ok, warn, type CheckResult } from './check.ts'
import { checkIpv6, checkNfTables, checkNode, checkRoot, checkTool } from './system-checks.ts'

export const LAB_CHECK_IDS = ['node', 'root', 'iproute2', 'nftables', 'nf_tables', 'ipv6', 'netns', 'qemu', 'kernel-image', 'busybox', 'kvm', 'br_netfilter', 'libvirt', 'sshd', 'tmux', 'cpio', 'systemd-analyze'] as const
export type LabCheckId = typeof LAB_CHECK_IDS[number]

/** The checks the bootstrap cannot fix: a test needing them only ever skips. */
export const NOT_INSTALLABLE: ReadonlySet<LabCheckId> = new Set(['root', 'kvm', 'br_netfilter'])

export const BUSYBOX_PATH = '/bin/busybox'
export const BOOT_DIR = '/boot'

function checkIproute2 (): CheckResult {
  const found = (['ip', 'tc', 'bridge'] as const).map(n => lookupTool(TOOLS[n]))
  const missing = found.filter(r => !r.found)
  if (missing.length > 0) return fail('iproute2', missing.map(m => m.found ? '' : m.reason).join('; '), 'apt-get install iproute2')
  return ok('iproute2', found.map(r => r.found ? r.path : '').join(', '))
}

/** Creates and deletes a network namespace (the lab's hosts, routers and VMs are namespaces). */
function checkNetns (rooted: boolean): CheckResult {
  if (!rooted) return fail('netns', 'not root: cannot create network namespaces', 'run as root')
  const name = `hdoctor${process.pid}`
  try {
    const ip = systemTool('ip')
    execFileSync(ip, ['netns', 'add', name], { stdio: 'pipe', timeout: 10_000 })
    execFileSync(ip, ['netns', 'del', name], { stdio: 'pipe', timeout: 10_000 })
    return ok('netns', 'a network namespace can be created')
  } catch (err) {
    return fail('netns', `cannot create a network namespace: ${(err as Error).message.split('\n')[0]}`, 'run as root with iproute2 installed')
  }
}

function checkKernelImage (bootDir = BOOT_DIR): CheckResult {
  let names: string[] = []
  try { names = readdirSync(bootDir).filter(n => n.startsWith('vmlinuz-')) } catch { /* none */ }
  const readable = names.filter(n => { try { accessSync(`${bootDir}/${n}`, constants.R_OK); return true } catch { return false } })
  return readable.length > 0
    ? ok('kernel-image', `${bootDir}/${readable.sort().at(-1)} (the QEMU test guest's kernel)`)
    : fail('kernel-image', `no readable ${bootDir}/vmlinuz-*`, 'apt-get install linux-image-amd64')
}

async function checkBusybox (path = BUSYBOX_PATH): Promise<CheckResult> {
  try {
    if (!await isStaticElf(path)) return fail('busybox', `${path} is dynamically linked; the test guest's initramfs needs a static one`, 'apt-get install busybox-static')
    return ok('busybox', `${path}, statically linked`)
  } catch {
    return fail('busybox', `no ${path}`, 'apt-get install busybox-static')
  }
}

function checkKvm (): CheckResult {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK)
    return ok('kvm', '/dev/kvm usable')
  } catch {
    return warn('kvm', 'no usable /dev/kvm: QEMU guests run under TCG (slower, still correct)')
  }
}

/** The nftables collector refuses both hooks while bridged IPv6 goes through the inet hooks; testing that needs the module. */
function checkBrNetfilter (): CheckResult {
  try {
    accessSync('/proc/sys/net/bridge/bridge-nf-call-ip6tables')
    return ok('br_netfilter', 'loaded')
  } catch {
    return warn('br_netfilter', 'not loaded: its collector test skips', 'modprobe br_netfilter')
  }
}

/** A private libvirtd per lab host: the daemon, virsh, unshare, and the user libvirtd looks up at start. */
function checkLibvirt (): CheckResult {
  const tools = [TOOLS.libvirtd, TOOLS.virsh, TOOLS.unshare].map(s => lookupTool(s))
  const missing = tools.flatMap(r => r.found ? [] : [r.reason])
  let passwd = ''
  try { passwd = readFileSync('/etc/passwd', 'utf8') } catch { /* none */ }
  if (!passwd.split('\n').some(l => l.startsWith('libvirt-qemu:'))) missing.push('no libvirt-qemu user')
  return missing.length === 0
    ? ok('libvirt', tools.map(r => r.found ? r.path : '').join(', ') + ', user libvirt-qemu')
    : fail('libvirt', missing.join('; '), 'apt-get install libvirt-daemon-system libvirt-clients')
}

/** Every lab prerequisite, in LAB_CHECK_IDS order. */
export async function labChecks (): Promise<CheckResult[]> {
  const root = checkRoot()
  const nft = lookupTool(TOOLS.nft)
  const rooted = root.status === 'ok'
  return [
    checkNode(),
    root,
    checkIproute2(),
    checkTool('nft', { id: 'nftables' }),
    rooted ? checkNfTables(nft.found ? nft.path : undefined) : fail('nf_tables', 'not root: cannot ask the kernel', 'run as root'),
    checkIpv6(),
    checkNetns(rooted),
    checkTool('qemu', { id: 'qemu' }),
    checkKernelImage(),
    await checkBusybox(),
    checkKvm(),
    checkBrNetfilter(),
    checkLibvirt(),
    checkTool('sshd'),
    checkTool('tmux'),
    checkTool('cpio'),
    checkTool('systemdAnalyze')
  ]
}
