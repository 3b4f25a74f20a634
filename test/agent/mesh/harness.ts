/**
 * Test harness: a small cluster of real agents in this process, on [::1]
 * (TCP, real noise/yamux/gossipsub/kad-dht), with the `sim` hypervisor and
 * traffic source sharing one temporary world directory. A thin wrapper over
 * lab/sim/cluster.ts that ties the cluster's life to the test's.
 */
import { startCluster, type SimCluster, type SimClusterSpec } from '../../../lab/sim/cluster.ts'
import type { SimHostSpec } from '../../../lab/sim/scenario-world.ts'

export type HostSpec = SimHostSpec

export type ClusterSpec = Pick<SimClusterSpec, 'topology' | 'hosts' | 'vms' | 'traffic' | 'roundPeriodMs' | 'planner' | 'extraMembers' | 'observers' | 'timeScale'> & { log?: boolean }

export type TestCluster = SimCluster

/** The cluster name the mesh tests' hand-made nodes (attacks.test.ts) join. */
export const TEST_CLUSTER_NAME = 'test'

export async function startTestCluster (t: { teardown (fn: () => Promise<void> | void): void }, spec: ClusterSpec): Promise<TestCluster> {
  const cluster = await startCluster({ ...spec, cluster: TEST_CLUSTER_NAME, transport: 'tcp' })
  t.teardown(async () => cluster.close())
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
