/**
 * `heliotrope init`: sets a host up. Writes the config, the peer key (mode
 * 0600) and, on the first host of a cluster, the pre-shared key to copy to
 * the others; prints the peer id for everyone's members list and what to do
 * next. Safe to run again: existing keys are always kept (and it says so),
 * an existing config only with --force is rewritten.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { cpus, hostname, networkInterfaces, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseIpv6 } from '../../lib/address.ts'
import { DEFAULT_API_PORT } from '../api/config.ts'
import { addressIssues } from '../config-addresses.ts'
import { DEFAULT_STATE_DIR, parseConfig } from '../config.ts'
import { INIT_MODE } from '../policy/mode.ts'
import { loadOrCreatePeerKey, loadOrCreatePsk, readPsk } from '../net/keys.ts'
import { parseBootstrapAddr } from '../net/bootstrap.ts'
import { UsageError } from './errors.ts'
import { initFromToken, tokenIn } from './join-token.ts'
import { ADMIN_KEY_FILE, loadOrCreateAdminKey } from '../membership/admin-key.ts'
import type { JoinToken } from '../membership/token.ts'
import { numberOption, type Command, type ParsedArgs } from './run.ts'

export const DEFAULT_CONFIG_DIR = '/etc/heliotrope'
export const CONFIG_FILE = 'config.json'
export const PSK_FILE = 'psk'
export const TOPOLOGY_FILE = 'topology.json'
/** Memory kept for Dom0 / the host itself when capacity is guessed. */
export const HOST_RESERVE_MIB = 2048
/** The agent's port, in the listen address init writes. */
const AGENT_PORT = 4001
/** The production driver kinds init can set up (agent/drivers/index.ts). */
const HYPERVISOR_KINDS = ['qemu', 'libvirt', 'xen'] as const
const COLLECTOR_KINDS = ['nftables', 'file'] as const

export const initCommand: Command = {
  name: 'init',
  summary: 'set this host up: config, peer key, cluster key',
  usage: `Usage: heliotrope init --cluster NAME --dc DC [--host ID] [--join ADDR]...
                       [--address IPV6] [--listen MULTIADDR]... [--api-port PORT]
                       [--hypervisor ${HYPERVISOR_KINDS.join('|')}] [--collector ${COLLECTOR_KINDS.join('|')}]
                       [--dir ${DEFAULT_CONFIG_DIR}] [--state ${DEFAULT_STATE_DIR}] [--force]
       heliotrope init --join TOKEN [--address, --listen, --api-port, --hypervisor,
                       --collector, --dir, --state, --force as above]

Writes DIR/config.json, the peer key STATE/peer.key (mode 0600) and, on the
first host (no --join), the cluster's pre-shared key DIR/psk (mode 0600), the
cluster admin key DIR/admin.key (mode 0600; its public half goes in the config
as adminKey) and a one-DC DIR/topology.json; prints this host's peer id for the members list
and the next steps. With --join (a member's /ip6/.../tcp/4001/p2p/ID, as the
first host's init printed it; repeat for more), no key is made: copy psk and
topology.json from a member. The new config starts in mode ${INIT_MODE}: plans
are logged, nothing moves until you set "mode": "auto" (or "approve").

With --join TOKEN (from \`heliotrope invite\` on a member; the token is a secret,
it carries the cluster key), everything comes from the token: cluster, host id,
DC, cluster key, topology, members; the agent presents the token's invitation
when it starts and a member admits it. No other host changes.

Existing keys are never replaced; an existing config is kept unless --force.

  --host ID            this host's id (default: the hostname)
  --address IPV6       this host's address for migrations (default: its first
                       global IPv6 address)
  --listen MULTIADDR   where the agent listens for the others (repeat for
                       more; default /ip6/ADDRESS/tcp/${AGENT_PORT}: this address only)
  --api-port PORT      the local API's port on [::1] (default ${DEFAULT_API_PORT})
  --hypervisor KIND    ${HYPERVISOR_KINDS.join(', ')} (default qemu; qemu keeps its VMs'
                       sockets in STATE/qemu)
  --collector KIND     ${COLLECTOR_KINDS.join(', ')} (default nftables; file reads the
                       flows another tool measured from STATE/traffic.json)
`,
  options: {
    cluster: { type: 'string' },
    dc: { type: 'string' },
    host: { type: 'string' },
    join: { type: 'string', multiple: true },
    address: { type: 'string' },
    listen: { type: 'string', multiple: true },
    'api-port': { type: 'string' },
    hypervisor: { type: 'string' },
    collector: { type: 'string' },
    dir: { type: 'string' },
    state: { type: 'string' },
    force: { type: 'boolean' }
  },
  async run (args) {
    const v = args.values
    if (args.positionals.length > 0) throw new UsageError(`unexpected ${JSON.stringify(args.positionals[0])}`)
    // parseArgs gives `multiple` options as arrays; ParsedArgs types values as scalars.
    const token = tokenIn((v.join as unknown as string[] | undefined) ?? [])
    if (token !== undefined) return await runFromToken(token, args)
    const cluster = v.cluster
    if (typeof cluster !== 'string' || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(cluster)) throw new UsageError('--cluster NAME is required: lower-case letters, digits and dashes, 1-63 characters')
    const dc = v.dc
    if (typeof dc !== 'string' || dc === '') throw new UsageError('--dc DC is required: the data center this host is in')
    const host = typeof v.host === 'string' ? v.host : hostname().split('.')[0]!
    // parseArgs gives `multiple` options as arrays; ParsedArgs types values as scalars.
    const join_ = (v.join as unknown as string[] | undefined) ?? []
    for (const addr of join_) {
      try { parseBootstrapAddr(addr) } catch (err) { throw new UsageError(`--join ${addr}: ${(err as Error).message} (expected /ip6/ADDR/tcp/PORT/p2p/PEER-ID)`) }
    }
    const { address, dir, state, listen, port, apiPort, drivers } = hostFlags(args)
    const first = join_.length === 0
    const out: string[] = []
    const say = (line: string): void => { out.push(line) }

    await mkdir(dir, { recursive: true, mode: 0o755 })
    await mkdir(state, { recursive: true, mode: 0o700 })
    const key = await loadOrCreatePeerKey(state)
    say(key.created ? `wrote the peer key ${key.path} (mode 0600)` : `kept the existing peer key ${key.path}`)

    const pskFile = join(dir, PSK_FILE)
    let pskReady = true
    let adminKey: string | undefined
    if (first) {
      const psk = await loadOrCreatePsk(pskFile)
      say(psk.created ? `wrote the cluster key ${pskFile} (mode 0600): copy it to every other host, as root, mode 0600` : `kept the existing cluster key ${pskFile}`)
      const admin = await loadOrCreateAdminKey(join(dir, ADMIN_KEY_FILE))
      adminKey = admin.publicKey
      say(admin.created ? `wrote the cluster admin key ${admin.path} (mode 0600): it signs join tokens (heliotrope invite) and revocations; keep it here or offline, not on every host` : `kept the existing cluster admin key ${admin.path}`)
    } else if (await exists(pskFile)) {
      await readPsk(pskFile)
      say(`found the cluster key ${pskFile}`)
    } else {
      pskReady = false
      say(`no cluster key yet: copy ${pskFile} from a member (mode 0600); a new one would split the cluster`)
    }

    const topologyFile = join(dir, TOPOLOGY_FILE)
    let topologyReady = true
    if (await exists(topologyFile)) say(`kept the existing topology ${topologyFile}`)
    else if (first) {
      await writeFile(topologyFile, JSON.stringify({ dcs: [{ id: dc }], links: [], prefixes: [] }, null, 2) + '\n')
      say(`wrote a one-DC topology ${topologyFile}: add the other DCs and the WAN links, then copy it to every host (it must be the same file everywhere)`)
    } else {
      topologyReady = false
      say(`no topology yet: copy ${topologyFile} from a member (the same file everywhere)`)
    }

    const configFile = join(dir, CONFIG_FILE)
    const joinAddr = `/ip6/${address}/tcp/${port}/p2p/${key.peerId}`
    // With its DC and address, the entry serves a cluster that bounds its DHT (dhtServersPerDc) as well.
    const member = { host, peerId: key.peerId, dc, addresses: [joinAddr] }
    if (await exists(configFile) && v.force !== true) {
      const kept = JSON.parse(await readFile(configFile, 'utf8')) as { members?: unknown }
      say(`kept the existing config ${configFile} (--force rewrites it; keys are never rewritten)`)
      if (Array.isArray(kept.members) && !kept.members.some(m => (m as { peerId?: unknown }).peerId === key.peerId)) say(`warning: ${configFile} lists no member with this host's peer id`)
    } else {
      const config = {
        cluster,
        host,
        dc,
        stateDir: state,
        listen,
        bootstrap: join_,
        pskFile,
        members: [member],
        ...(adminKey !== undefined ? { adminKey } : {}),
        topologyFile,
        address,
        capacity: { memoryMiB: Math.max(1, Math.floor(totalmem() / 2 ** 20) - HOST_RESERVE_MIB), vcpus: cpus().length },
        mode: INIT_MODE,
        ...(apiPort === DEFAULT_API_PORT ? {} : { api: { port: apiPort } }),
        ...drivers
      }
      try {
        parseConfig(config) // what init writes must load
      } catch (err) {
        // Only the flags can make it fail (a bad --listen, say): a usage error, with the config's own words.
        throw new UsageError((err as Error).message)
      }
      await writeFile(configFile, JSON.stringify(config, null, 2) + '\n', { mode: 0o644 })
      say(`wrote ${configFile} (mode ${INIT_MODE}; capacity guessed from this machine, less ${HOST_RESERVE_MIB} MiB for the host)`)
    }

    const steps = [
      ...(pskReady ? [] : [`copy ${pskFile} from a member: scp member:${pskFile} ${pskFile} && chmod 600 ${pskFile}`]),
      ...(topologyReady ? [] : [`copy ${topologyFile} from a member`]),
      drivers.collector.kind === 'nftables'
        ? (first
            ? 'set collector.platformPrefixes (your VMs\' IPv6 prefixes) and check capacity in the config'
            : 'copy the "members" list from a member\'s config into this one (keep this host\'s entry), and set collector.platformPrefixes as there')
        : `${first ? '' : 'copy the "members" list from a member\'s config into this one (keep this host\'s entry); '}have your exporter write the measured flows to ${String(drivers.collector.path)} (docs/operations.md, the file collector) and check capacity in the config`,
      ...(first ? [] : ['add this host\'s member entry (above) to "members" on every other host, then restart them one at a time: systemctl restart heliotrope']),
      `check it: heliotrope config check ${configFile}`,
      'start it: systemctl enable --now heliotrope',
      first
        ? 'add a host: heliotrope invite --host H --dc DC here (prints a join token, a secret: it carries the cluster key), then heliotrope init --join TOKEN on the new host, and start it'
        : `other hosts join with: heliotrope init --cluster ${cluster} --dc DC --join ${joinAddr}`,
      `watch the plans (mode ${INIT_MODE}: heliotrope status, heliotrope console), then let them run on every host at once: heliotrope cluster set mode approve (or auto)`
    ]
    process.stdout.write([
      ...out,
      '',
      `peer id: ${key.peerId}`,
      `member entry for every host's "members" list: ${JSON.stringify(member)}`,
      `join address: ${joinAddr}`,
      '',
      'next:',
      ...steps.map((s, i) => `  ${i + 1}. ${s}`)
    ].join('\n') + '\n')
    return 0
  }
}

/** `init --join TOKEN`: the new host's setup from the token (join-token.ts), with this command's flags for what is local to the host. */
async function runFromToken (token: JoinToken, args: ParsedArgs): Promise<number> {
  const { address, dir, state, listen, apiPort, drivers } = hostFlags(args)
  const local = { listen, ...(apiPort === DEFAULT_API_PORT ? {} : { api: { port: apiPort } }), ...drivers }
  const files = { config: join(dir, CONFIG_FILE), psk: join(dir, PSK_FILE), topology: join(dir, TOPOLOGY_FILE) }
  const lines = await initFromToken(token, { dir, state, address, force: args.values.force === true, files, reserveMiB: HOST_RESERVE_MIB, local })
  process.stdout.write(lines.join('\n') + '\n')
  return 0
}

/** What is this host's own, from the flags (both ways of running init take them): checked before anything is written. */
function hostFlags (args: ParsedArgs): { address: string, dir: string, state: string, listen: string[], port: number, apiPort: number, drivers: ReturnType<typeof driverSections> } {
  const v = args.values
  const address = typeof v.address === 'string' ? v.address : firstGlobalIpv6()
  if (address === undefined) throw new UsageError('no global IPv6 address found on this host; pass --address IPV6')
  if (parseIpv6(address) === undefined) throw new UsageError(`--address expects an IPv6 address, not ${JSON.stringify(address)}`)
  const dir = typeof v.dir === 'string' ? v.dir : DEFAULT_CONFIG_DIR
  const state = typeof v.state === 'string' ? v.state : DEFAULT_STATE_DIR
  // parseArgs gives `multiple` options as arrays; ParsedArgs types values as scalars.
  const listen = (v.listen as unknown as string[] | undefined) ?? [`/ip6/${address}/tcp/${AGENT_PORT}`]
  for (const issue of addressIssues({ listen })) throw new UsageError(`--listen ${issue.found}: expected ${issue.expected}`)
  const port = listenPort(listen)
  const apiPort = numberOption(args, 'api-port', DEFAULT_API_PORT, { integer: true, min: 1 })
  if (apiPort > 65535) throw new UsageError(`--api-port expects a port (1-65535), got ${apiPort}`)
  return { address, dir, state, listen, port, apiPort, drivers: driverSections(v.hypervisor, v.collector, state) }
}

async function exists (path: string): Promise<boolean> {
  try { await stat(path); return true } catch { return false }
}

/** The TCP port the first listen address gives, for the join address the others dial. */
function listenPort (listen: readonly string[]): number {
  const port = /\/tcp\/(\d+)/.exec(listen[0] ?? '')?.[1]
  if (port === undefined || Number(port) === 0) throw new UsageError(`--listen ${listen[0] ?? ''}: the first listen address needs a fixed TCP port (/ip6/ADDR/tcp/PORT): the others dial it`)
  return Number(port)
}

/** The driver sections of the config for the kinds named, each with what it needs to start. */
function driverSections (hypervisor: unknown, collector: unknown, state: string): { hypervisor: Record<string, unknown>, collector: Record<string, unknown> } {
  const h = hypervisor ?? 'qemu'
  const c = collector ?? 'nftables'
  if (typeof h !== 'string' || !(HYPERVISOR_KINDS as readonly string[]).includes(h)) throw new UsageError(`--hypervisor: one of ${HYPERVISOR_KINDS.join(', ')}, not ${JSON.stringify(h)}`)
  if (typeof c !== 'string' || !(COLLECTOR_KINDS as readonly string[]).includes(c)) throw new UsageError(`--collector: one of ${COLLECTOR_KINDS.join(', ')}, not ${JSON.stringify(c)}`)
  return {
    collector: c === 'nftables' ? { kind: c, hooks: ['bridge'], platformPrefixes: [] } : { kind: c, path: join(state, 'traffic.json') },
    hypervisor: h === 'qemu' ? { kind: h, dir: join(state, 'qemu') } : { kind: h }
  }
}

/** The first IPv6 address on any interface that is neither loopback nor link-local. */
function firstGlobalIpv6 (): string | undefined {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv6' && !a.internal && !a.address.toLowerCase().startsWith('fe80')) return a.address
    }
  }
  return undefined
}
