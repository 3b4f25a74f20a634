/**
 * Builds a running agent from its config file: keys and PSK from disk, the
 * topology file, the chosen collector and hypervisor driver, the libp2p
 * node. The CLI's `heliotrope agent` and the lab both start agents here.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { parseTopology, type Topology } from '../lib/topology.ts'
import { Agent } from './agent.ts'
import { ApiServer } from './api/server.ts'
import type { AgentConfig } from './config.ts'
import { FileCollector } from './drivers/file/collector.ts'
import { LabHypervisor } from './drivers/lab/driver.ts'
import { LibvirtDriver } from './drivers/libvirt/driver.ts'
import { NftablesCollector } from './drivers/nftables/collector.ts'
import { QemuDriver } from './drivers/qemu/driver.ts'
import { SimCollector } from './drivers/sim/collector.ts'
import { SimHypervisor } from './drivers/sim/hypervisor.ts'
import { XenDriver } from './drivers/xen/driver.ts'
import type { HypervisorDriver, TrafficCollector } from './drivers/types.ts'
import type { Logger } from './log.ts'
import { CLAIM_NAMESPACE, selectClaim, validateClaim } from './claims.ts'
import { CROWDED_HOST_TUNING, DEFAULT_DHT, createNode, loadOrCreatePeerKey, readPsk, type ClusterNode, type NodeInit } from './net/index.ts'

export interface LoadedTopology {
  topology: Topology
  hash: string
}

export async function loadTopology (path: string): Promise<LoadedTopology> {
  let text: string
  try { text = await readFile(path, 'utf8') } catch (err) { throw new Error(`cannot read the topology file ${path}: ${(err as Error).message}`) }
  let json: unknown
  try { json = JSON.parse(text) } catch (err) { throw new Error(`the topology file ${path} is not JSON: ${(err as Error).message}`) }
  return { topology: parseTopology(json), hash: createHash('sha256').update(text).digest('hex') }
}

export function makeHypervisor (config: AgentConfig): HypervisorDriver {
  const h = config.hypervisor
  if (h.kind === 'sim') return new SimHypervisor({ world: h.world, host: config.host, address: config.address, bandwidthBps: h.bandwidthBps, timeScale: h.timeScale })
  if (h.kind === 'lab') return new LabHypervisor({ dir: h.dir, host: config.host, address: config.address })
  if (h.kind === 'qemu') {
    const m = h.migration ?? {}
    const migration = {
      ...(m.autoConverge !== undefined ? { autoConverge: m.autoConverge } : {}),
      ...(m.xbzrle !== undefined ? { xbzrle: m.xbzrle } : {}),
      ...(m.maxBandwidthBytesPerSec !== undefined ? { maxBandwidth: m.maxBandwidthBytesPerSec } : {})
    }
    return new QemuDriver({ dir: h.dir, address: config.address, migration })
  }
  if (h.kind === 'libvirt') {
    return new LibvirtDriver({ address: config.address, ...(h.uri !== undefined ? { uri: h.uri } : {}), ...(h.transport !== undefined ? { transport: h.transport } : {}), ...(h.addressSource !== undefined ? { addressSource: h.addressSource } : {}) })
  }
  if (h.kind === 'xen') return new XenDriver({ address: config.address, ...(h.sshCommand !== undefined ? { sshCommand: h.sshCommand } : {}), ...(h.sshUser !== undefined ? { sshUser: h.sshUser } : {}) })
  throw new Error(`hypervisor driver ${(h as { kind: string }).kind} is not available in this build yet`)
}

export function makeCollector (config: AgentConfig): TrafficCollector {
  const c = config.collector
  if (c.kind === 'sim') return new SimCollector({ world: c.world, host: config.host })
  if (c.kind === 'file') return new FileCollector({ path: c.path })
  return new NftablesCollector({
    hooks: c.hooks,
    platformPrefixes: c.platformPrefixes,
    ...(c.table !== undefined ? { table: c.table } : {}),
    ...(c.netns !== undefined ? { netns: c.netns } : {})
  })
}

export interface StartOptions {
  log: Logger
  /** Overrides for the node (tests: transport, listen). */
  node?: Partial<NodeInit>
  hypervisor?: HypervisorDriver
  collector?: TrafficCollector
  clock?: () => number
  /** What the agent sees of its node: a chaos run wraps it to lose or cut messages (lab/chaos/chaos-node.ts). */
  wrapNode?: (node: ClusterNode) => ClusterNode
}

export async function startAgent (config: AgentConfig, opts: StartOptions): Promise<Agent> {
  const { topology, hash } = await loadTopology(config.topologyFile)
  const key = await loadOrCreatePeerKey(config.stateDir)
  const psk = await readPsk(config.pskFile)
  const allow = new Set([...config.members.map(m => m.peerId), ...config.observers])
  const tuning = config.crowded ? CROWDED_HOST_TUNING : {}
  const node = await createNode({
    ...tuning,
    cluster: config.cluster,
    privateKey: key.key,
    psk,
    allow,
    listen: config.listen,
    ...(config.announce !== undefined ? { announce: config.announce } : {}),
    bootstrap: config.bootstrap,
    dht: { ...DEFAULT_DHT, validators: { [CLAIM_NAMESPACE]: async (key, value) => { await validateClaim(key, value) } }, selectors: { [CLAIM_NAMESPACE]: selectClaim } },
    ...(config.ipColocationFactorWeight !== undefined ? { gossip: { ...tuning.gossip, ipColocationFactorWeight: config.ipColocationFactorWeight } } : {}),
    ...opts.node
  })
  const agent = new Agent({
    node: opts.wrapNode?.(node) ?? node,
    hypervisor: opts.hypervisor ?? makeHypervisor(config),
    collector: opts.collector ?? makeCollector(config),
    log: opts.log.child(config.host),
    privateKey: key.key,
    ...(opts.clock !== undefined ? { clock: opts.clock } : {})
  }, { config, topology, topologyHash: hash })
  try {
    await agent.start()
  } catch (err) {
    await node.stop().catch(() => undefined)
    throw err
  }
  return agent
}

/** The agent as `heliotrope agent` runs it: with its local API, unless the config turns that off. */
export interface Daemon {
  agent: Agent
  api?: ApiServer
  /** Stops the agent (gracefully), then the API, so a watcher sees the leave. */
  stop (): Promise<void>
}

export async function startDaemon (config: AgentConfig, opts: StartOptions): Promise<Daemon> {
  const agent = await startAgent(config, opts)
  if (!config.api.enabled) return { agent, stop: async () => agent.stop() }
  // The same file startAgent read: the API reports link loads on the topology the agent plans with.
  const { topology } = await loadTopology(config.topologyFile)
  const api = new ApiServer({ agent, topology, log: opts.log.child('api'), ...(opts.clock !== undefined ? { clock: opts.clock } : {}) }, { listen: config.api.listen, port: config.api.port })
  try {
    await api.start()
  } catch (err) {
    await agent.stop().catch(() => undefined)
    throw err
  }
  return {
    agent,
    api,
    async stop () {
      await agent.stop()
      await api.stop()
    }
  }
}
