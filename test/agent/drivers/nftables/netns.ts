/**
 * A two-host lab in network namespaces for the nftables collector tests.
 *
 *   vmA1 ─┐                            ┌─ vmB1
 *   vmA2 ─┴─ br0 [hostA] ──routed── [hostB] br0
 *                  │ routed
 *                 ext   (an outside client, fd00:e::1 in fd00:e::/48)
 *
 * VM-to-VM on hostA is bridged; hostA routes to hostB and to ext. ULA
 * addresses only. Neighbours are static and DAD is off, so no neighbour
 * discovery packet with a ULA source ever crosses a host: the counters then
 * hold exactly the test's datagrams. Each VM and ext drops UDP to SINK_PORT
 * on input, so no ICMP "port unreachable" flows back.
 */
import { execFile, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { ExecutionContext } from 'ava'
import { Nft } from '../../../../agent/drivers/nftables/nft.ts'

export const SINK_PORT = 9999
export const BR_NETFILTER_IP6 = '/proc/sys/net/bridge/bridge-nf-call-ip6tables'
const UDP_SEND = fileURLToPath(new URL('./udp-send.ts', import.meta.url))
const COMMAND_TIMEOUT_MS = 15_000

export function run (argv: string[], input?: string, timeoutMs = COMMAND_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(argv[0]!, argv.slice(1), { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${argv.join(' ')}: ${stderr || err.message}`))
      else resolve(stdout)
    })
    child.stdin?.on('error', () => {})
    child.stdin?.end(input)
  })
}

/** A unique namespace name prefix: htnft-<pid><random>. */
export function uniquePrefix (): string {
  return `htnft-${process.pid.toString(36)}${randomBytes(3).toString('hex')}`
}

/** Creates namespaces and deletes them (and anything left running in them) in t.teardown. */
export class Namespaces {
  readonly names: string[] = []

  readonly prefix: string
  constructor (t: ExecutionContext, prefix: string = uniquePrefix()) {
    this.prefix = prefix
    t.teardown(() => this.destroy())
    // Teardowns do not run when a worker dies of an uncaught exception; this does.
    process.once('exit', () => {
      for (const ns of this.names) spawnSync('ip', ['netns', 'del', ns], { timeout: 5000 })
    })
  }

  async add (name: string): Promise<string> {
    const ns = `${this.prefix}-${name}`
    await run(['ip', 'netns', 'add', ns])
    this.names.push(ns)
    await this.ip(ns, 'link set lo up')
    return ns
  }

  async ip (ns: string, command: string): Promise<void> {
    await run(['ip', '-n', ns, ...command.split(' ')])
  }

  /** Writes /proc/sys directly (no procps needed); net.* entries are those of the namespace. */
  async sysctl (ns: string, key: string, value: string): Promise<void> {
    await run(['ip', 'netns', 'exec', ns, 'sh', '-c', `echo ${value} > /proc/sys/${key.replaceAll('.', '/')}`])
  }

  /**
   * Where br_netfilter is loaded, keeps bridged IPv6 out of the inet hooks
   * in `ns`, as a host counting on both hooks must.
   */
  async keepBridgedOutOfInet (ns: string): Promise<void> {
    if (existsSync(BR_NETFILTER_IP6)) await this.sysctl(ns, 'net.bridge.bridge-nf-call-ip6tables', '0')
  }

  async destroy (): Promise<void> {
    for (const ns of this.names.splice(0)) {
      const pids = await run(['ip', 'netns', 'pids', ns]).catch(() => '')
      for (const pid of pids.split('\n').filter(Boolean)) {
        try { process.kill(Number(pid), 'SIGKILL') } catch {}
      }
      await run(['ip', 'netns', 'del', ns]).catch(() => {})
    }
  }
}

export interface Lab {
  ns: Namespaces
  hostA: string
  hostB: string
  vmA1: string
  vmA2: string
  vmB1: string
  ext: string
  addr: { vmA1: string, vmA2: string, vmB1: string, ext: string }
  /** The VMs' prefixes on both hosts. */
  platform: string[]
  nft: string
}

const MAC = {
  brA: '02:00:00:0a:00:01',
  vmA1: '02:00:00:0a:00:11',
  vmA2: '02:00:00:0a:00:12',
  brB: '02:00:00:0b:00:01',
  vmB1: '02:00:00:0b:00:11',
  aToB: '02:00:00:ab:00:01',
  bToA: '02:00:00:ab:00:02',
  aToExt: '02:00:00:0e:00:ff',
  ext: '02:00:00:0e:00:01'
}

/** The nftables binary, as the collector finds it. */
export function nftBinary (): Promise<string> {
  return new Nft().locate()
}

export async function buildLab (t: ExecutionContext): Promise<Lab> {
  const nft = await nftBinary()
  const ns = new Namespaces(t)
  const [hostA, hostB, vmA1, vmA2, vmB1, ext] = await Promise.all(['hostA', 'hostB', 'vmA1', 'vmA2', 'vmB1', 'ext'].map(n => ns.add(n))) as [string, string, string, string, string, string]
  for (const h of [hostA, hostB]) {
    await ns.sysctl(h, 'net.ipv6.conf.all.forwarding', '1')
    await ns.keepBridgedOutOfInet(h)
  }

  const bridge = async (host: string, mac: string, addr: string): Promise<void> => {
    await ns.ip(host, `link add br0 address ${mac} type bridge`)
    await ns.ip(host, `addr add ${addr} dev br0 nodad`)
    await ns.ip(host, 'link set br0 up')
  }
  // A veth from `a` (named ifA) to `b` (named ifB), both up, with addresses and MACs.
  const wire = async (a: string, ifA: string, macA: string, b: string, ifB: string, macB: string): Promise<void> => {
    await run(['ip', 'link', 'add', ifA, 'netns', a, 'address', macA, 'type', 'veth', 'peer', 'name', ifB, 'netns', b, 'address', macB])
    await ns.ip(a, `link set ${ifA} up`)
    await ns.ip(b, `link set ${ifB} up`)
  }
  const vm = async (host: string, vmNs: string, port: string, mac: string, addr: string, gw: string, brMac: string): Promise<void> => {
    await wire(host, port, randomMac(), vmNs, 'eth0', mac)
    await ns.ip(host, `link set ${port} master br0`)
    await ns.ip(vmNs, `addr add ${addr}/64 dev eth0 nodad`)
    await ns.ip(vmNs, `route add default via ${gw} dev eth0`)
    await ns.ip(vmNs, `neigh replace ${gw} lladdr ${brMac} dev eth0 nud permanent`)
  }

  await bridge(hostA, MAC.brA, 'fd00:a::1/64')
  await bridge(hostB, MAC.brB, 'fd00:b::1/64')
  await vm(hostA, vmA1, 'vmA1', MAC.vmA1, 'fd00:a::11', 'fd00:a::1', MAC.brA)
  await vm(hostA, vmA2, 'vmA2', MAC.vmA2, 'fd00:a::12', 'fd00:a::1', MAC.brA)
  await vm(hostB, vmB1, 'vmB1', MAC.vmB1, 'fd00:b::11', 'fd00:b::1', MAC.brB)
  await ns.ip(vmA1, `neigh replace fd00:a::12 lladdr ${MAC.vmA2} dev eth0 nud permanent`)
  await ns.ip(vmA2, `neigh replace fd00:a::11 lladdr ${MAC.vmA1} dev eth0 nud permanent`)
  await ns.ip(hostA, `neigh replace fd00:a::11 lladdr ${MAC.vmA1} dev br0 nud permanent`)
  await ns.ip(hostA, `neigh replace fd00:a::12 lladdr ${MAC.vmA2} dev br0 nud permanent`)
  await ns.ip(hostB, `neigh replace fd00:b::11 lladdr ${MAC.vmB1} dev br0 nud permanent`)

  await wire(hostA, 'toB', MAC.aToB, hostB, 'toA', MAC.bToA)
  await ns.ip(hostA, 'addr add fd00:ab::1/64 dev toB nodad')
  await ns.ip(hostB, 'addr add fd00:ab::2/64 dev toA nodad')
  await ns.ip(hostA, `neigh replace fd00:ab::2 lladdr ${MAC.bToA} dev toB nud permanent`)
  await ns.ip(hostB, `neigh replace fd00:ab::1 lladdr ${MAC.aToB} dev toA nud permanent`)
  await ns.ip(hostA, 'route add fd00:b::/64 via fd00:ab::2 dev toB')
  await ns.ip(hostB, 'route add default via fd00:ab::1 dev toA')

  await wire(hostA, 'toExt', MAC.aToExt, ext, 'eth0', MAC.ext)
  await ns.ip(hostA, 'addr add fd00:e::ff/64 dev toExt nodad')
  await ns.ip(ext, 'addr add fd00:e::1/64 dev eth0 nodad')
  await ns.ip(hostA, `neigh replace fd00:e::1 lladdr ${MAC.ext} dev toExt nud permanent`)
  await ns.ip(ext, `neigh replace fd00:e::ff lladdr ${MAC.aToExt} dev eth0 nud permanent`)
  await ns.ip(ext, 'route add default via fd00:e::ff dev eth0')

  const sink = `table inet sink {\n chain input { type filter hook input priority 0; policy accept; udp dport ${SINK_PORT} drop; }\n}\n`
  for (const v of [vmA1, vmA2, vmB1, ext]) await run(['ip', 'netns', 'exec', v, nft, '-f', '-'], sink)

  return {
    ns, hostA, hostB, vmA1, vmA2, vmB1, ext, nft,
    addr: { vmA1: 'fd00:a::11', vmA2: 'fd00:a::12', vmB1: 'fd00:b::11', ext: 'fd00:e::1' },
    platform: ['fd00:a::/64', 'fd00:b::/64']
  }
}

function randomMac (): string {
  const b = randomBytes(5)
  return ['02', ...[...b].map(x => x.toString(16).padStart(2, '0'))].join(':')
}

/** UDP/IPv6 bytes as the forward hook counts them: IPv6 header (40) + UDP header (8) + payload. */
export function l3Bytes (payload: number, count: number): number {
  return count * (40 + 8 + payload)
}

/** Sends `count` datagrams of `payload` bytes from namespace `from` to `dst`; resolves with the number sent. */
export async function sendUdp (from: string, dst: string, payload: number, count: number): Promise<number> {
  const out = await run(['ip', 'netns', 'exec', from, process.execPath, UDP_SEND, dst, String(SINK_PORT), String(payload), String(count)])
  return (JSON.parse(out) as { sent: number }).sent
}
