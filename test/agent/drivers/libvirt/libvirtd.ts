/**
 * Test helper: a private libvirtd per lab host. Each runs inside the host's
 * network namespace and in its own mount namespace, with its own
 * /etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/log/libvirt and
 * /var/cache/libvirt bound from a temporary directory, so two of them (and
 * any system libvirtd) never share state. virsh reaches it through its unix
 * socket; the other host's libvirtd through TCP on the namespace's address
 * (auth_tcp none: only inside the lab's private ULA network).
 */
import { execFile, spawn } from 'node:child_process'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import type { LabHost } from '../../../../lab/net/veth-link.ts'

const run = promisify(execFile)
/** Time for libvirtd to open its socket (it probes QEMU's capabilities first). */
export const LIBVIRTD_START_TIMEOUT_MS = 60_000
const BOUND = ['etc', 'run', 'lib', 'log', 'cache'] as const
const SYSTEM_DIR: Record<typeof BOUND[number], string> = { etc: '/etc/libvirt', run: '/run/libvirt', lib: '/var/lib/libvirt', log: '/var/log/libvirt', cache: '/var/cache/libvirt' }

export interface Libvirtd {
  /** virsh's URI for this libvirtd (its unix socket). */
  uri: string
  dir: string
  stop: () => Promise<void>
}

/**
 * An sshd for the qemu+ssh transport: in the libvirtd's network and mount
 * namespaces (so the session's virt-ssh-helper finds this libvirtd's
 * socket), port 22 on the host's address, root by key only, its host key,
 * pid file and the authorized key all in the lab's directory.
 */
export interface SshdSpec {
  authorizedKey: string
}

async function sshdCommand (host: LabHost, dir: string, spec: SshdSpec): Promise<string> {
  const hostKey = join(dir, 'ssh_host_ed25519_key')
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey], { timeout: 30_000 })
  await writeFile(join(dir, 'authorized_keys'), spec.authorizedKey, { mode: 0o600 })
  const config = join(dir, 'sshd_config')
  await writeFile(config, [
    `ListenAddress ${host.address}`, 'Port 22', `HostKey ${hostKey}`, `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, 'PermitRootLogin prohibit-password', 'PasswordAuthentication no',
    'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', ''
  ].join('\n'))
  // /run/sshd: the privilege separation directory sshd insists on (systemd makes it on a normal host).
  return `mkdir -p /run/sshd && /usr/sbin/sshd -f ${config} && `
}

export async function startLibvirtd (host: LabHost, dir: string, options: { sshd?: SshdSpec } = {}): Promise<Libvirtd> {
  for (const d of BOUND) await mkdir(join(dir, d), { recursive: true })
  // The bind mounts' targets. Without systemd (CI, containers) nothing makes
  // /run/libvirt at boot, so the lab makes what it binds over (empty, unused
  // outside the private mount namespace).
  for (const d of Object.values(SYSTEM_DIR)) await mkdir(d, { recursive: true })
  await writeFile(join(dir, 'etc', 'libvirtd.conf'), [
    'listen_tls = 0', 'listen_tcp = 1', 'auth_tcp = "none"', `listen_addr = "${host.address}"`,
    'unix_sock_rw_perms = "0700"', ''
  ].join('\n'))
  // No virtlogd, no cgroups, no private /dev, no security labels: the lab runs without systemd.
  await writeFile(join(dir, 'etc', 'qemu.conf'), [
    'stdio_handler = "file"', 'security_driver = "none"', 'namespaces = [ ]', 'cgroup_controllers = [ ]',
    'user = "root"', 'group = "root"', `migration_address = "${host.address}"`, ''
  ].join('\n'))
  const binds = BOUND.map(d => `mount --bind ${join(dir, d)} ${SYSTEM_DIR[d]}`).join(' && ')
  const sshd = options.sshd === undefined ? '' : await sshdCommand(host, dir, options.sshd)
  const script = `mount --make-rprivate / && ${binds} && ${sshd}exec libvirtd --listen --pid-file ${join(dir, 'libvirtd.pid')}`
  const [cmd, ...args] = [...host.prefix, 'unshare', '-m', 'sh', '-c', script]
  const child = spawn(cmd!, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { if (stderr.length < 16_384) stderr += d.toString() })
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  const uri = `qemu+unix:///system?socket=${join(dir, 'run', 'libvirt-sock')}`
  const stop = async (): Promise<void> => {
    // Domains first (their QEMUs are libvirtd's children only in name: daemonized).
    const names = await run('virsh', ['-c', uri, 'list', '--name'], { timeout: 10_000 }).then(r => r.stdout.split('\n').filter(Boolean), () => [])
    for (const n of names) await run('virsh', ['-c', uri, 'destroy', '--', n], { timeout: 15_000 }).catch(() => undefined)
    await killPidFiles(join(dir, 'run', 'qemu'))
    if (options.sshd !== undefined) await killPidFile(join(dir, 'sshd.pid'))
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(t)
    }
  }
  const deadline = Date.now() + LIBVIRTD_START_TIMEOUT_MS
  for (;;) {
    const ok = await run('virsh', ['-c', uri, 'version'], { timeout: 10_000 }).then(() => true, () => false)
    if (ok) return { uri, dir, stop }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop()
      throw new Error(`libvirtd in ${host.netns} did not come up: ${stderr.split('\n').filter(l => / error : /.test(l)).slice(-3).join(' | ') || stderr.slice(-500)}`)
    }
    await sleep(300)
  }
}

/** Kills the QEMUs whose pid files libvirtd left in `dir`. */
async function killPidFiles (dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[])
  for (const n of names.filter(x => x.endsWith('.pid'))) await killPidFile(join(dir, n))
}

async function killPidFile (path: string): Promise<void> {
  const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim())
  if (Number.isInteger(pid) && pid > 1) {
    try { process.kill(pid, 'SIGKILL') } catch { /* gone */ }
  }
}

/** A transient-free, persistent test domain: the QEMU driver's busybox guest under TCG, serial to a file. */
export function domainXml (spec: { name: string, memoryMiB: number, vcpus: number, kernel: string, initrd: string, serialLog: string }): string {
  const esc = (s: string): string => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll("'", '&apos;')
  return `<domain type='qemu'>
  <name>${esc(spec.name)}</name>
  <memory unit='MiB'>${spec.memoryMiB}</memory>
  <vcpu>${spec.vcpus}</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${esc(spec.kernel)}</kernel>
    <initrd>${esc(spec.initrd)}</initrd>
    <cmdline>console=ttyS0 quiet panic=-1</cmdline>
  </os>
  <devices>
    <serial type='file'><source path='${esc(spec.serialLog)}' append='on'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>
`
}
