/**
 * The signed-membership tests' cluster: four real agents on [::1] with an
 * admin key, and a fifth host kept aside to join.
 */
import { join } from 'node:path'
import type { Agent } from '../../../agent/agent.ts'
import type { AgentConfig } from '../../../agent/config.ts'
import { createLogger } from '../../../agent/log.ts'
import { loadOrCreateAdminKey } from '../../../agent/membership/admin-key.ts'
import { MembershipStore } from '../../../agent/membership/store.ts'
import { decodeToken } from '../../../agent/membership/token.ts'
import { startCluster } from '../../../lab/sim/cluster.ts'
import { TEST_CLUSTER_NAME, waitFor, type ClusterSpec, type TestCluster } from '../mesh/harness.ts'
import { appsSpec } from '../policy/mesh.ts'

/**
 * Deadlines are generous (tens of seconds): the machine is two shared
 * cores and five agents start slowly on it. What the test claims about
 * speed is measured and asserted in rounds, not assumed from a deadline.
 */
export const GENEROUS_MS = 45_000

export interface LogLine { msg: string, level: string, [k: string]: unknown }

/**
 * Four agents (a1 b1 c1 a2) with an admin key and a static member list of
 * the four, and a fifth host's config (e1, DC B) kept aside: it is in the
 * world and has its peer key, but no agent knows it.
 */
export async function fourWithAdminKey (t: { teardown (fn: () => Promise<void> | void): void }, lines: LogLine[], overrides: Partial<ClusterSpec> = {}, more: { e2?: boolean } = {}): Promise<{ cluster: TestCluster, newcomer: AgentConfig, adminKeyFile: string, newcomers: Map<string, AgentConfig> }> {
  const base = appsSpec(1)
  const aside = [{ host: 'e1', dc: 'B', memoryMiB: 8192, vcpus: 16 }, ...(more.e2 === true ? [{ host: 'e2', dc: 'C', memoryMiB: 8192, vcpus: 16 }] : [])]
  // Plans move nothing unless a test says otherwise: what is measured is membership.
  const spec = { ...base, hosts: [...base.hosts, { host: 'a2', dc: 'A', memoryMiB: 8192, vcpus: 16 }, ...aside], planner: { maxMoves: 0 }, ...overrides }
  // Warnings and the membership's info lines, for what the hosts say about joining.
  const log = createLogger({ level: 'info', pretty: false, sink: { write: l => { const j = JSON.parse(l) as LogLine; if (j.level !== 'info' || /member|admitted|probation/.test(j.msg)) lines.push(j) } } })
  const cluster = await startCluster({ ...spec, log, cluster: TEST_CLUSTER_NAME, transport: 'tcp' })
  t.teardown(async () => cluster.close())
  await cluster.stopAll()
  const adminKeyFile = join(cluster.dir, 'admin.key')
  const admin = await loadOrCreateAdminKey(adminKeyFile)
  const newcomers = new Map(aside.map(h => [h.host, cluster.configs.get(h.host)!]))
  for (const h of newcomers.keys()) cluster.configs.delete(h)
  for (const [host, c] of cluster.configs) cluster.configs.set(host, { ...c, adminKey: admin.publicKey, members: c.members.filter(m => !newcomers.has(m.host)) })
  const hosts = [...cluster.configs.keys()]
  const first = await cluster.start(hosts[0]!)
  cluster.bootstrap = first.addresses()
  await Promise.all(hosts.slice(1).map(async h => cluster.start(h)))
  await waitFor(() => [...cluster.agents.values()].every(a => a.view.live(Date.now()).length === 4), GENEROUS_MS, 'the 4-agent mesh')
  const ready = (c: AgentConfig): AgentConfig => ({ ...c, adminKey: admin.publicKey, members: cluster.configs.get('a1')!.members })
  return { cluster, newcomer: ready(newcomers.get('e1')!), adminKeyFile, newcomers: new Map([...newcomers].map(([h, c]) => [h, ready(c)])) }
}

/** What `heliotrope init --join TOKEN` leaves on the new host (e1 or e2), for the harness: its invitation in the state directory, the config as the token says. */
export async function acceptToken (cluster: TestCluster, newcomer: AgentConfig, token: string): Promise<void> {
  const content = decodeToken(token)
  await new MembershipStore(newcomer.stateDir).saveInvitation(content.invitation)
  cluster.configs.set(newcomer.host, { ...newcomer, members: content.members, adminKey: content.adminKey, bootstrap: content.bootstrap })
}

export function connected (a: Agent, peerId: string): boolean {
  return a.node.libp2p.getConnections().some(c => c.remotePeer.toString() === peerId)
}

