/**
 * Test harness: a small cluster of real agents in this process, on [::1]
 * (TCP, real noise/yamux/gossipsub/kad-dht), with the `sim` hypervisor and
 * traffic source sharing one temporary world directory. A thin wrapper over
 * lab/sim/cluster.ts that ties the cluster's life to the test's.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createNode, loadOrCreatePeerKey, publish, waitForTopicPeers, type ClusterNode } from '../../../agent/net/index.ts'
import { startCluster, type SimCluster, type SimClusterSpec } from '../../../lab/sim/cluster.ts'
import { encodeEnvelope } from '../../../lib/wire/codec.ts'
import type { Envelope, Topic } from '../../../lib/wire/messages.ts'
import type { SimHostSpec } from '../../../lab/sim/scenario-world.ts'
import type { Logger } from '../../../agent/log.ts'

export type HostSpec = SimHostSpec

export type ClusterSpec = Pick<SimClusterSpec, 'topology' | 'hosts' | 'vms' | 'traffic' | 'roundPeriodMs' | 'planner' | 'extraMembers' | 'keys' | 'observers' | 'timeScale' | 'dissemination' | 'dhtServersPerDc' | 'agentOptions'> & { log?: boolean | Logger }

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

/** A member (in `extraMembers`) that runs no agent: the test sends its gossip by hand. */
export interface HandMember {
  node: ClusterNode
  /** A sequence number above every earlier one. */
  nextSeq (): number
  send (env: Envelope | Uint8Array, topic?: Topic): Promise<void>
}

/**
 * Joins `name` (one of the cluster's extraMembers) to the mesh with its key
 * and the PSK, connected to every running agent and subscribed to the gossip
 * topics. A message the agents drop goes no further than the first hop, so
 * a test that counts drops at every agent needs the member to reach each
 * directly (gossipsub's flood publish sends to every connected subscriber).
 */
export async function joinHandMember (t: { teardown (fn: () => Promise<void> | void): void }, cluster: TestCluster, name: string): Promise<HandMember> {
  const key = await loadOrCreatePeerKey(join(cluster.dir, name))
  const node = await createNode({
    cluster: TEST_CLUSTER_NAME,
    privateKey: key.key,
    psk: await readFile(join(cluster.dir, 'psk')),
    allow: () => true,
    listen: ['/ip6/::1/tcp/0'],
    bootstrap: cluster.bootstrap,
    gossip: { ipColocationFactorWeight: 0 }
  })
  t.teardown(async () => node.stop())
  await node.bootstrap()
  for (const agent of cluster.agents.values()) await node.libp2p.dial(multiaddr(agent.addresses()[0]!))
  const topics = ['host', 'traffic', 'plan']
  for (const topic of topics) node.libp2p.services.pubsub.subscribe(node.topic(topic))
  for (const topic of topics) await waitForTopicPeers(node, node.topic(topic), cluster.agents.size)
  let seq = Date.now() * 1000
  return {
    node,
    nextSeq: () => ++seq,
    send: async (env, topic) => {
      const to = topic ?? (env as Envelope).topic
      await publish(node, node.topic(to), env instanceof Uint8Array ? env : encodeEnvelope(env))
    }
  }
}
