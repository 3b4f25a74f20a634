/**
 * Builds a running agent from its config file: keys and PSK from disk, the
 * topology file, the collector and hypervisor the config names (built from
 * the factories a DriverRegistry holds for their kinds), the libp2p node.
 * The CLI's `heliotrope agent` and the lab both start agents here.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { parseTopology, type Topology } from '../lib/topology.ts'
import { Agent, type ReloadReport } from './agent.ts'
import { ApiServer } from './api/server.ts'
import type { AgentConfig } from './config.ts'
import { PRODUCTION_DRIVERS } from './drivers/index.ts'
import { driverKind, type CollectorFactory, type DriverComponents, type DriverRegistry, type HypervisorFactory } from './drivers/kinds.ts'
import type { HypervisorDriver, TrafficCollector } from './drivers/types.ts'
import type { LevelCell, Logger } from './log.ts'
import { readConfigFile } from './config-file.ts'
import { SignedMembership } from './membership/membership.ts'
import { refusalLog } from './net/refusal-log.ts'
import { CLAIM_NAMESPACE, selectClaim, validateClaim } from './claims.ts'
import { dhtPlan, ownAddressProblem } from './cluster/dht-servers.ts'
import { CROWDED_HOST_TUNING, DEFAULT_DHT, createNode, loadOrCreatePeerKey, readPsk, type ClusterNode, type NodeInit } from './net/index.ts'
import { definedOnly } from '../lib/defined.ts'

export interface LoadedTopology {
  topology: Topology
  hash: string
}

export async function loadTopology (path: string): Promise<LoadedTopology> {
  let text: string
  try { text = await readFile(path, 'utf8') } catch (err) { throw new Error(`cannot read the topology file ${path}: ${(err as Error).message}`) }
  let json: unknown
  try { json = JSON.parse(text) } catch (err) { throw new Error(`the topology file ${path} is not JSON: ${(err as Error).message}`) }
  let topology: Topology
  // The validator speaks of a snapshot (it checks the shared parts): say which file.
  try { topology = parseTopology(json) } catch (err) { throw new Error(`the topology file ${path} is not a valid topology: ${(err as Error).message}`) }
  return { topology, hash: createHash('sha256').update(text).digest('hex') }
}

/** What the config's host gives its drivers. */
export function driverComponents (config: AgentConfig): DriverComponents {
  return { host: config.host, address: config.address }
}

/** The factory the config's hypervisor section names, from `drivers`. */
export function hypervisorFactory (config: AgentConfig, drivers: DriverRegistry = PRODUCTION_DRIVERS): HypervisorFactory {
  return driverKind('hypervisor', drivers.hypervisors, config.hypervisor, drivers.elsewhere).factory(config.hypervisor)
}

/** The factory the config's collector section names, from `drivers`. */
export function collectorFactory (config: AgentConfig, drivers: DriverRegistry = PRODUCTION_DRIVERS): CollectorFactory {
  return driverKind('collector', drivers.collectors, config.collector, drivers.elsewhere).factory(config.collector)
}

export function makeHypervisor (config: AgentConfig, drivers: DriverRegistry = PRODUCTION_DRIVERS): HypervisorDriver {
  return hypervisorFactory(config, drivers)(driverComponents(config))
}

export function makeCollector (config: AgentConfig, drivers: DriverRegistry = PRODUCTION_DRIVERS): TrafficCollector {
  return collectorFactory(config, drivers)(driverComponents(config))
}

export interface StartOptions {
  log: Logger
  /** Overrides for the node (tests: transport, listen). */
  node?: Partial<NodeInit>
  /** The driver kinds the config may name: production's by default; the lab passes its registry. */
  drivers?: DriverRegistry
  /** A factory to use instead of the one the config names (the lab's sim agents sharing one world). */
  hypervisor?: HypervisorFactory
  collector?: CollectorFactory
  clock?: () => number
  /** What the agent sees of its node: a chaos run wraps it to lose or cut messages (lab/chaos/faulty-node.ts). */
  wrapNode?: (node: ClusterNode) => ClusterNode
  /** The level `log` reads, so a reload can set it (Agent.reload). */
  logLevel?: LevelCell
}

export async function startAgent (config: AgentConfig, opts: StartOptions): Promise<Agent> {
  // Resolved first: a kind this registry lacks fails before any node exists.
  const hypervisor = opts.hypervisor ?? hypervisorFactory(config, opts.drivers)
  const collector = opts.collector ?? collectorFactory(config, opts.drivers)
  const { topology, hash } = await loadTopology(config.topologyFile)
  const key = await loadOrCreatePeerKey(config.stateDir)
  const psk = await readPsk(config.pskFile)
  const staticAllow = new Set([...config.members.map(m => m.peerId), ...config.observers])
  // With an admin key, the gater asks the signed membership: certified members too, and newcomers on probation.
  const membership = config.adminKey !== undefined ? await SignedMembership.open(config) : undefined
  const allow = membership === undefined ? staticAllow : (peer: string) => membership.allows(peer)
  const tuning = config.crowded ? CROWDED_HOST_TUNING : {}
  const dht = dhtPlan(config)
  const node = await createNode({
    ...tuning,
    cluster: config.cluster,
    privateKey: key.key,
    psk,
    allow,
    ...(membership !== undefined ? { probation: (peer: string) => membership.onProbation(peer) } : {}),
    refused: refusalLog(opts.log.child(config.host), peer => membership?.refusal(peer) ?? 'not in the config\'s members or observers'),
    listen: config.listen,
    ...definedOnly({ announce: config.announce }),
    bootstrap: dht.bootstrap,
    known: dht.known,
    dhtClient: dht.dhtClient,
    dht: { ...DEFAULT_DHT, ...tuning.dht, ...definedOnly({ querySelfInterval: dht.querySelfInterval }), validators: { [CLAIM_NAMESPACE]: async (key, value) => { await validateClaim(key, value) } }, selectors: { [CLAIM_NAMESPACE]: selectClaim } },
    ...(config.ipColocationFactorWeight !== undefined ? { gossip: { ...tuning.gossip, ipColocationFactorWeight: config.ipColocationFactorWeight } } : {}),
    ...opts.node
  })
  const agent = new Agent({
    node: opts.wrapNode?.(node) ?? node,
    hypervisor: hypervisor(driverComponents(config)),
    collector: collector(driverComponents(config)),
    log: opts.log.child(config.host),
    privateKey: key.key,
    ...definedOnly({ clock: opts.clock, logLevel: opts.logLevel, membership })
  }, { config, topology, topologyHash: hash })
  try {
    await agent.start()
  } catch (err) {
    await node.stop().catch(() => undefined)
    throw err
  }
  const problem = ownAddressProblem(config.members.find(m => m.host === config.host), node.addresses())
  if (problem !== undefined) opts.log.child(config.host).warn('the member list gives this host an address it does not listen on', { problem })
  return agent
}

/** The agent as `heliotrope agent` runs it: with its local API, unless the config turns that off. */
export interface Daemon {
  agent: Agent
  api?: ApiServer
  /** Re-reads the config file at `path` and hands it to the agent (SIGHUP); never throws: a bad file is a refused reload. */
  reload (path: string): Promise<ReloadReport>
  /** Stops the agent (gracefully), then the API, so a watcher sees the leave. */
  stop (): Promise<void>
}

/**
 * A reload as the daemon does it: the file read and checked as at start,
 * the topology file it names read and parsed, and the key file for its
 * cluster keys; any failure there
 * refuses the reload and the agent keeps the config it runs with.
 */
export async function reloadAgent (agent: Agent, path: string, drivers: DriverRegistry = PRODUCTION_DRIVERS): Promise<ReloadReport> {
  let next: AgentConfig
  let topology: LoadedTopology
  let psk: Uint8Array
  try {
    next = await readConfigFile(path, drivers)
    // Parsed, not only hashed: a topology that does not parse is refused here, the running one kept.
    topology = await loadTopology(next.topologyFile)
    // Staged, it would take this host out of every snapshot at the switch (start only warns: doctor, config check).
    if (!topology.topology.dcs.some(d => d.id === next.dc)) throw new Error(`the topology file ${next.topologyFile} has no DC ${JSON.stringify(next.dc)} (this host's dc); it has ${topology.topology.dcs.map(d => d.id).join(', ')}`)
    psk = await readPsk(next.pskFile)
  } catch (err) {
    // A ValidationError lists every bad field on lines of its own; one line for the log.
    const [head, ...rest] = (err as Error).message.split('\n').map(l => l.trim()).filter(l => l !== '')
    return agent.refuseReload([head, rest.join('; ')].filter(x => x !== undefined && x !== '').join(' '))
  }
  return agent.reload(next, { topology: topology.topology, topologyHash: topology.hash, psk })
}

export async function startDaemon (config: AgentConfig, opts: StartOptions): Promise<Daemon> {
  const agent = await startAgent(config, opts)
  const reload = async (path: string): Promise<ReloadReport> => await reloadAgent(agent, path, opts.drivers)
  if (!config.api.enabled) return { agent, reload, stop: async () => agent.stop() }
  const api = new ApiServer({ agent, log: opts.log.child('api'), ...definedOnly({ clock: opts.clock }) }, { listen: config.api.listen, port: config.api.port })
  try {
    await api.start()
  } catch (err) {
    await agent.stop().catch(() => undefined)
    throw err
  }
  return {
    agent,
    api,
    reload,
    async stop () {
      await agent.stop()
      await api.stop()
    }
  }
}
