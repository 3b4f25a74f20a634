/**
 * Test harness: a small cluster of real agents in this process, on [::1]
 * (TCP, real noise/yamux/gossipsub/kad-dht), with the `sim` hypervisor and
 * traffic source sharing one temporary world directory.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Agent } from '../../../agent/agent.ts'
import { parseConfig, type AgentConfig } from '../../../agent/config.ts'
import { startAgent } from '../../../agent/daemon.ts'
import { createLogger, silentLogger, type Logger } from '../../../agent/log.ts'
import { generatePsk, loadOrCreatePeerKey } from '../../../agent/net/keys.ts'
import { SimWorld, type SimTraffic, type SimVm } from '../../../agent/drivers/sim/world.ts'
import type { Topology } from '../../../lib/topology.ts'

export interface HostSpec { host: string, dc: string, memoryMiB: number, vcpus: number }

export interface ClusterSpec {
  topology: Topology
  hosts: HostSpec[]
  vms: SimVm[]
  traffic: SimTraffic
  roundPeriodMs?: number
  planner?: Record<string, unknown>
  /** Extra members (in everyone's member list) that run no agent: tests drive them by hand. */
  extraMembers?: string[]
  /** Simulated migration speed: 1 = real time at 1 Gbit/s. */
  timeScale?: number
  log?: boolean
}

export interface TestCluster {
  dir: string
  world: SimWorld
  agents: Map<string, Agent>
  configs: Map<string, AgentConfig>
  bootstrap: string[]
  log: Logger
  /** Starts (or restarts) the agent of `host`. */
  start (host: string): Promise<Agent>
  stopAll (): Promise<void>
}

export async function startTestCluster (t: { teardown (fn: () => Promise<void> | void): void }, spec: ClusterSpec): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'htmesh-'))
  const world = new SimWorld(join(dir, 'world'))
  await world.init(spec.vms, spec.traffic)
  await writeFile(join(dir, 'topology.json'), JSON.stringify(spec.topology))
  await writeFile(join(dir, 'psk'), generatePsk(), { mode: 0o600 })
  const members: Array<{ host: string, peerId: string }> = []
  for (const h of spec.hosts) {
    const key = await loadOrCreatePeerKey(join(dir, h.host))
    members.push({ host: h.host, peerId: key.peerId })
  }
  for (const host of spec.extraMembers ?? []) {
    const key = await loadOrCreatePeerKey(join(dir, host))
    members.push({ host, peerId: key.peerId })
  }
  const log = spec.log === true ? createLogger({ pretty: true, level: 'info' }) : silentLogger()
  const configs = new Map<string, AgentConfig>()
  spec.hosts.forEach((h, i) => {
    configs.set(h.host, parseConfig({
      cluster: 'test',
      host: h.host,
      dc: h.dc,
      stateDir: join(dir, h.host),
      listen: ['/ip6/::1/tcp/0'],
      pskFile: join(dir, 'psk'),
      members,
      topologyFile: join(dir, 'topology.json'),
      address: `fd00::${i + 1}`,
      capacity: { memoryMiB: h.memoryMiB, vcpus: h.vcpus },
      roundPeriodMs: spec.roundPeriodMs ?? 1500,
      planner: spec.planner ?? {},
      collector: { kind: 'sim', world: world.dir },
      hypervisor: { kind: 'sim', world: world.dir, bandwidthBps: 1e9, timeScale: spec.timeScale ?? 0.01 },
      crowded: true,
      reservationTtlMs: 5000,
      migrationDeadlineMs: 10_000
    }))
  })
  const agents = new Map<string, Agent>()
  const cluster: TestCluster = {
    dir,
    world,
    agents,
    configs,
    bootstrap: [],
    log,
    async start (host) {
      const config = { ...configs.get(host)!, bootstrap: cluster.bootstrap.filter(a => !a.includes(members.find(m => m.host === host)!.peerId)) }
      const agent = await startAgent(config, { log })
      agents.set(host, agent)
      return agent
    },
    async stopAll () {
      await Promise.all([...agents.values()].map(async a => a.halt().catch(() => undefined)))
      agents.clear()
    }
  }
  t.teardown(async () => {
    await cluster.stopAll()
    await rm(dir, { recursive: true, force: true })
  })
  // The first agent is everyone's bootstrap peer.
  const first = await cluster.start(spec.hosts[0]!.host)
  cluster.bootstrap = first.addresses()
  await Promise.all(spec.hosts.slice(1).map(async h => cluster.start(h.host)))
  return cluster
}

/** Polls `check` every 100 ms until it is true or `ms` passes. */
export async function waitFor (check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  for (;;) {
    if (await check()) return
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}
