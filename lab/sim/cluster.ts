/**
 * An in-process cluster of real agents: real libp2p nodes (TCP on [::1] or
 * the in-memory transport; PSK, noise, yamux, gossipsub, kad-dht), the `sim`
 * hypervisor and traffic source over one world directory, one process. The
 * mesh tests use it through test/agent/mesh/harness.ts, `heliotrope lab sim`
 * and the gossip benchmark at tens to hundreds of agents.
 *
 * Starting many at once: a few seed agents start first, one by one; the rest
 * start in batches, each dialling one seed (spread round-robin), and find the
 * others through the DHT. Every agent gets CROWDED_HOST_TUNING (the agents
 * share one address and two cores).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Agent } from '../../agent/agent.ts'
import { parseConfig, type AgentConfig, type Dissemination, type Member } from '../../agent/config.ts'
import { dhtPlan } from '../../agent/cluster/dht-servers.ts'
import { startAgent, type StartOptions } from '../../agent/daemon.ts'
import { definedOnly } from '../../lib/defined.ts'
import { SimWorld } from '../drivers/sim-host/world.ts'
import { createLogger, silentLogger, type Logger } from '../../agent/log.ts'
import { LAB_DRIVERS } from '../drivers/index.ts'
import { privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { generatePsk, loadOrCreatePeerKey, PEER_KEY_FILE, SECRET_FILE_MODE, STATE_DIR_MODE } from '../../agent/net/keys.ts'
import type { NodeInit } from '../../agent/net/node.ts'
import { freeLoopbackPorts } from './free-ports.ts'
import { presizePnetCipherMemory } from './pnet-memory.ts'
import type { SimWorldSpec } from './scenario-world.ts'
import { sharedSimDrivers } from './shared-drivers.ts'
import { SharedSimWorld } from './shared-world.ts'
import { labPlanner } from '../lab-planner.ts'

export type SimTransport = 'tcp' | 'memory'

export const DEFAULT_CLUSTER_NAME = 'sim'
export const DEFAULT_SIM_ROUND_PERIOD_MS = 1500
/** Simulated migration speed: 1 = real time at DEFAULT_SIM_BANDWIDTH_BPS. */
export const DEFAULT_TIME_SCALE = 0.01
export const DEFAULT_SIM_BANDWIDTH_BPS = 1e9
export const DEFAULT_SIM_RESERVATION_TTL_MS = 5000
export const DEFAULT_SIM_MIGRATION_DEADLINE_MS = 10_000
export const TCP_LOOPBACK_LISTEN = '/ip6/::1/tcp/0'

export interface SimClusterSpec extends SimWorldSpec {
  /** Cluster name (topics and protocols live under it); default DEFAULT_CLUSTER_NAME. */
  cluster?: string
  /** Default 'tcp' on [::1]. */
  transport?: SimTransport
  roundPeriodMs?: number
  /** The agents' `planner` config section. */
  planner?: Record<string, unknown>
  /** How the agents' messages travel (config `dissemination`); default flood. */
  dissemination?: Dissemination
  /** Extra members (in everyone's member list) that run no agent: tests drive them by hand (in the first host's DC). */
  extraMembers?: string[]
  /** Peer keys of some members (default: a new one each): a test that needs a member at a given aggregator rank picks its key. */
  keys?: Record<string, PrivateKey>
  /** Observers (allowlisted, not members) that run no agent: each gets a key in `<dir>/<name>`; tests drive them by hand. */
  observers?: string[]
  timeScale?: number
  /** true: readable logs on stdout; a Logger: that one; default silent. */
  log?: boolean | Logger
  /** libp2p's connection monitor (pings every connection); default on. Off spares CPU at scale. */
  connectionMonitor?: boolean
  /** All agents read one in-memory copy of the world (see SharedSimWorld); default off. */
  sharedWorld?: boolean
  /** Agents that start first and that the others dial; default 1. */
  seeds?: number
  /** How many of the other agents start at once; default all. */
  batchSize?: number
  /** Called as each agent of the initial start is up. */
  onStarted?: (agent: Agent, started: number, total: number) => void
  /**
   * Members per DC that serve the DHT (config `dhtServersPerDc`); the rest
   * are clients. Every member's address then goes in the member list (fixed
   * ports on [::1], or the memory transport's), and the servers start first.
   * Default: every agent serves, at a random port.
   */
  dhtServersPerDc?: number
  /** Where the cluster's temporary directory goes; default the OS's. */
  parentDir?: string
  /** Extra start options per agent, asked at every (re)start: chaos runs wrap the node (faults) and skew clocks. */
  agentOptions?: (host: string) => Partial<StartOptions>
  /** Aborting stops starting agents (between batches): startCluster closes what it started and throws the signal's reason. */
  signal?: AbortSignal
}

export interface SimCluster {
  dir: string
  world: SimWorld
  agents: Map<string, Agent>
  configs: Map<string, AgentConfig>
  /** The seeds' addresses: what an agent (re)joining dials. */
  bootstrap: string[]
  log: Logger
  /** Starts (or restarts) the agent of `host`. */
  start (host: string): Promise<Agent>
  /** Halts every agent (as a crash would: no leave announcements). */
  stopAll (): Promise<void>
  /** stopAll, then removes the directory. */
  close (): Promise<void>
}

/** A cluster's files, written before any agent starts: what every agent process reads. */
export interface PreparedCluster {
  dir: string
  world: SimWorld
  /** host -> its parsed config (also the input of agents in other processes: see agent-group.ts). */
  configs: Map<string, AgentConfig>
  /** The hosts that run agents, in start order. */
  hosts: string[]
  log: Logger
}

/**
 * Writes the cluster directory: the world, the topology, a PSK, a peer key
 * per member and a config per host. Agents started in this process
 * (startCluster) or in others (process-cluster.ts) all run from it.
 */
export async function prepareCluster (spec: SimClusterSpec): Promise<PreparedCluster> {
  if (spec.hosts.length === 0) throw new RangeError('a cluster needs at least one host')
  const dir = await mkdtemp(join(spec.parentDir ?? tmpdir(), 'htsim-'))
  const world = spec.sharedWorld === true ? new SharedSimWorld(join(dir, 'world')) : new SimWorld(join(dir, 'world'))
  const log = spec.log === true ? createLogger({ pretty: true, level: 'info' }) : spec.log === undefined || spec.log === false ? silentLogger() : spec.log
  const configs = new Map<string, AgentConfig>()
  const transport = spec.transport ?? 'tcp'
  try {
    await world.init(spec.vms, spec.traffic)
    await writeFile(join(dir, 'topology.json'), JSON.stringify(spec.topology))
    await writeFile(join(dir, 'psk'), generatePsk(), { mode: 0o600 })
    const members: Member[] = []
    const dcOf = new Map(spec.hosts.map(h => [h.host, h.dc]))
    for (const host of [...spec.hosts.map(h => h.host), ...spec.extraMembers ?? []]) {
      const given = spec.keys?.[host]
      if (given !== undefined) {
        await mkdir(join(dir, host), { recursive: true, mode: STATE_DIR_MODE })
        await writeFile(join(dir, host, PEER_KEY_FILE), privateKeyToProtobuf(given), { mode: SECRET_FILE_MODE })
      }
      const key = await loadOrCreatePeerKey(join(dir, host))
      members.push({ host, peerId: key.peerId, dc: dcOf.get(host) ?? spec.hosts[0]!.dc })
    }
    // The memory transport's address is the peer id: unique in the process.
    // TCP takes any free port, unless the addresses go in the member list
    // (an inventory, with dhtServersPerDc): then each is fixed beforehand.
    const inventory = spec.dhtServersPerDc !== undefined
    const ports = inventory && transport === 'tcp' ? await freeLoopbackPorts(members.length) : []
    const listenOf = new Map(members.map((m, i) => [m.host, transport === 'memory' ? `/memory/${m.peerId}` : ports[i] === undefined ? TCP_LOOPBACK_LISTEN : `/ip6/::1/tcp/${ports[i]}`]))
    if (inventory) for (const m of members) m.addresses = [`${listenOf.get(m.host)!}/p2p/${m.peerId}`]
    const observers: string[] = []
    for (const name of spec.observers ?? []) observers.push((await loadOrCreatePeerKey(join(dir, name))).peerId)
    spec.hosts.forEach((h, i) => {
      configs.set(h.host, parseConfig({
        cluster: spec.cluster ?? DEFAULT_CLUSTER_NAME,
        host: h.host,
        dc: h.dc,
        stateDir: join(dir, h.host),
        // The simulator is there to move VMs: say so (a config without mode only observes).
        mode: 'auto',
        listen: [listenOf.get(h.host)!],
        pskFile: join(dir, 'psk'),
        members,
        observers,
        topologyFile: join(dir, 'topology.json'),
        address: hostAddress(i),
        capacity: { memoryMiB: h.memoryMiB, vcpus: h.vcpus },
        roundPeriodMs: spec.roundPeriodMs ?? DEFAULT_SIM_ROUND_PERIOD_MS,
        planner: labPlanner(spec.planner ?? {}),
        collector: { kind: 'sim', world: world.dir },
        hypervisor: { kind: 'sim', world: world.dir, bandwidthBps: DEFAULT_SIM_BANDWIDTH_BPS, timeScale: spec.timeScale ?? DEFAULT_TIME_SCALE },
        crowded: true,
        reservationTtlMs: DEFAULT_SIM_RESERVATION_TTL_MS,
        migrationDeadlineMs: DEFAULT_SIM_MIGRATION_DEADLINE_MS,
        dissemination: spec.dissemination ?? 'flood',
        ...definedOnly({ dhtServersPerDc: spec.dhtServersPerDc })
      }, LAB_DRIVERS))
    })
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw err
  }
  return { dir, world, configs, hosts: serversFirst(spec.hosts.map(h => h.host), configs), log }
}

/** libp2p node options every sim agent gets. */
export function simNodeOptions (spec: Pick<SimClusterSpec, 'transport' | 'connectionMonitor'>): Partial<NodeInit> {
  return { transport: spec.transport ?? 'tcp', ...(spec.connectionMonitor === false ? { connectionMonitor: { enabled: false } } : {}) }
}

export async function startCluster (spec: SimClusterSpec): Promise<SimCluster> {
  presizePnetCipherMemory()
  const { dir, world, configs, hosts, log } = await prepareCluster(spec)
  const agents = new Map<string, Agent>()
  const node = simNodeOptions(spec)

  const cluster: SimCluster = {
    dir,
    world,
    agents,
    configs,
    bootstrap: [],
    log,
    async start (host) {
      return await launch(host, cluster.bootstrap)
    },
    async stopAll () {
      await Promise.all([...agents.values()].map(async a => a.halt().catch(() => undefined)))
      agents.clear()
    },
    async close () {
      await cluster.stopAll()
      // A halted agent's last write (a state file renamed into place) can
      // land while the tree is removed: rm then fails with ENOTEMPTY (seen
      // once in CI, sim chaos). Try again; nothing writes for long.
      await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 })
    }
  }

  async function launch (host: string, bootstrap: string[]): Promise<Agent> {
    const config = configs.get(host)
    if (config === undefined) throw new Error(`no host ${host} in this cluster`)
    const opts: StartOptions = { log, node, drivers: LAB_DRIVERS, ...spec.agentOptions?.(host), ...(world instanceof SharedSimWorld ? sharedSimDrivers(config, world) : {}) }
    const agent = await startAgent({ ...config, bootstrap: withoutOwn(bootstrap, config) }, opts)
    agents.set(host, agent)
    return agent
  }

  try {
    const nSeeds = Math.max(1, Math.min(spec.seeds ?? 1, hosts.length))
    const seedAddrs: string[][] = []
    let started = 0
    const up = (agent: Agent): void => { started++; spec.onStarted?.(agent, started, hosts.length) }
    for (const host of hosts.slice(0, nSeeds)) {
      const agent = await launch(host, seedAddrs.flat())
      seedAddrs.push(agent.addresses())
      up(agent)
    }
    cluster.bootstrap = seedAddrs.flat()
    const rest = hosts.slice(nSeeds)
    const batch = Math.max(1, spec.batchSize ?? rest.length)
    const abort = spec.signal === undefined ? undefined : aborted(spec.signal)
    for (let i = 0; i < rest.length; i += batch) {
      spec.signal?.throwIfAborted()
      const starting = Promise.all(rest.slice(i, i + batch).map(async (host, k) => {
        up(await launch(host, seedAddrs[(i + k) % nSeeds]!))
      }))
      // On a swamped machine one batch can take minutes: an abort does not wait
      // for it (agents it still brings up are left to the exiting process).
      await (abort === undefined ? starting : Promise.race([starting, abort]))
    }
  } catch (err) {
    await cluster.close().catch(() => undefined)
    throw err
  }
  return cluster
}

/** Start order: the DHT servers first (the seeds are among them), so the clients find a server up. */
function serversFirst (hosts: string[], configs: Map<string, AgentConfig>): string[] {
  const first = configs.get(hosts[0] ?? '')
  if (first?.dhtServersPerDc === undefined) return hosts
  const { servers } = dhtPlan(first)
  return [...hosts.filter(h => servers.has(h)), ...hosts.filter(h => !servers.has(h))]
}

/** A bootstrap list without the host's own addresses (its peer id is in them). */
export function withoutOwn (bootstrap: readonly string[], config: AgentConfig): string[] {
  const own = config.members.find(m => m.host === config.host)?.peerId
  return own === undefined ? [...bootstrap] : bootstrap.filter(a => !a.includes(own))
}

/** Rejects with the signal's reason once it aborts. */
function aborted (signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason)
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true })
  })
}

/** fd00::<i+1>: each host's own migration address, distinct for up to 65,535 hosts. */
function hostAddress (i: number): string {
  return `fd00::${(i + 1).toString(16)}`
}
