/**
 * A small mesh for the controls tests: three hosts (one per DC), apps of
 * three VMs spread over the DCs, and a way to give the agents config that the
 * harness does not take (mode, safety): start with a planner that moves
 * nothing, halt, patch the configs, start again.
 */
import type { Agent, AgentEvent } from '../../../agent/agent.ts'
import type { AgentConfig } from '../../../agent/config.ts'
import type { SimTraffic, SimVm } from '../../../lab/drivers/sim-host/world.ts'
import type { Logger } from '../../../agent/log.ts'
import { startCluster } from '../../../lab/sim/cluster.ts'
import { startTestCluster, TEST_CLUSTER_NAME, type ClusterSpec, type TestCluster } from '../mesh/harness.ts'

export const PERIOD_MS = 2000
const DCS = ['A', 'B', 'C']

export function appsSpec (apps: number, overrides: Partial<ClusterSpec> = {}, hostMemoryMiB = 8192): ClusterSpec {
  const vms: SimVm[] = []
  const flows: SimTraffic['flows'] = []
  for (let app = 0; app < apps; app++) {
    const members = DCS.map((dc, k) => {
      const id = `app${app}-${k}`
      vms.push({ id, host: `${dc.toLowerCase()}1`, memoryMiB: 1024, vcpus: 1, addresses: [`fd00:1::${app}:${k + 1}`] })
      return id
    })
    for (const a of members) for (const b of members) if (a !== b) flows.push({ src: a, dst: b, bps: 40e6 * (app + 1) })
  }
  const links = []
  for (const a of DCS) for (const b of DCS) if (a !== b) links.push({ from: a, to: b, capacityBps: 1e9 })
  return {
    topology: { dcs: DCS.map(id => ({ id })), links, prefixes: [] },
    hosts: DCS.map(dc => ({ host: `${dc.toLowerCase()}1`, dc, memoryMiB: hostMemoryMiB, vcpus: 16 })),
    vms,
    traffic: { flows, prefixes: [] },
    roundPeriodMs: PERIOD_MS,
    ...overrides
  }
}

export type ConfigPatch = Partial<Omit<AgentConfig, 'planner'>> & { planner?: Partial<AgentConfig['planner']> }

/** Restarts every agent of the cluster with `patch` (per host, or for all) applied to its config. */
export async function restartWith (cluster: TestCluster, patch: ConfigPatch | ((host: string) => ConfigPatch)): Promise<void> {
  await cluster.stopAll()
  for (const [host, c] of cluster.configs) {
    const p = typeof patch === 'function' ? patch(host) : patch
    cluster.configs.set(host, { ...c, ...p, planner: { ...c.planner, ...p.planner } } as AgentConfig)
  }
  const hosts = [...cluster.configs.keys()]
  const first = await cluster.start(hosts[0]!)
  cluster.bootstrap = first.addresses()
  await Promise.all(hosts.slice(1).map(async h => cluster.start(h)))
}

/** `log`: where the agents log (a test reads their round lines); default silent. */
export async function startControlled (t: { teardown (fn: () => Promise<void> | void): void }, spec: ClusterSpec, patch: ConfigPatch | ((host: string) => ConfigPatch), log?: Logger): Promise<TestCluster> {
  const first = { ...spec, planner: { maxMoves: 0 } }
  // The harness's spec takes only true/false for logs; a logger of our own goes to the lab's cluster as the harness would.
  const cluster = log === undefined ? await startTestCluster(t, first) : await startCluster({ ...first, log, cluster: TEST_CLUSTER_NAME, transport: 'tcp' })
  if (log !== undefined) t.teardown(async () => cluster.close())
  await restartWith(cluster, patch)
  return cluster
}

/** Every migration event from every agent, as it happens. */
export function recordMigrations (agents: Iterable<Agent>): Array<Extract<AgentEvent, { type: 'migration' }>> {
  const seen: Array<Extract<AgentEvent, { type: 'migration' }>> = []
  for (const a of agents) a.observe(e => { if (e.type === 'migration') seen.push(e) })
  return seen
}

export async function placement (cluster: TestCluster): Promise<Record<string, string>> {
  return Object.fromEntries((await cluster.world.vms()).map(v => [v.id, v.host]).sort())
}

export const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
