/**
 * Everything the lab's agents read at start: the cluster's pre-shared key,
 * each host's peer key (so every peer id is known before any agent runs and
 * goes into everyone's member list and bootstrap list), the topology file
 * and one config per host: the real nftables collector on the bridge hook,
 * counting the VM prefix as the platform, and the `lab` hypervisor.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseConfig } from '../../agent/config.ts'
import { LAB_DRIVERS } from '../drivers/index.ts'
import type { LabState } from '../drivers/lab-host/state.ts'
import { generatePsk, loadOrCreatePeerKey } from '../../agent/net/keys.ts'
import type { Json } from '../../lib/check.ts'
import { agentTopology, labHosts, type LabTopology } from '../net/topology.ts'
import { labPlanner } from '../lab-planner.ts'

export const LAB_CLUSTER = 'lab'
export const AGENT_PORT = 4001
/** Reservations outlive a few rounds; migrations in the lab take milliseconds. */
export const RESERVATION_TTL_ROUNDS = 3
export const MIGRATION_DEADLINE_MS = 10_000

export interface AgentSpec {
  host: string
  dc: string
  ns: string
  address: string
  peerId: string
  configPath: string
}

export interface ClusterInit {
  dir: string
  state: LabState
  topology: LabTopology
  roundPeriodMs: number
  planner: Record<string, Json>
}

export async function writeClusterFiles (init: ClusterInit): Promise<AgentSpec[]> {
  const root = join(init.dir, 'agents')
  await mkdir(root, { recursive: true })
  const pskFile = join(root, 'psk')
  await writeFile(pskFile, generatePsk(), { mode: 0o600 })
  const topologyFile = join(root, 'topology.json')
  await writeFile(topologyFile, JSON.stringify(agentTopology(init.topology), null, 2) + '\n')
  const hosts = labHosts(init.topology)
  const specs: AgentSpec[] = []
  for (const h of hosts) {
    const stateDir = join(root, h.id)
    await mkdir(stateDir, { recursive: true, mode: 0o700 })
    const key = await loadOrCreatePeerKey(stateDir)
    const s = init.state.hosts[h.id]!
    specs.push({ host: h.id, dc: h.dc, ns: s.ns, address: s.address, peerId: key.peerId, configPath: join(stateDir, 'config.json') })
  }
  const members = specs.map(s => ({ host: s.host, peerId: s.peerId }))
  const dial = (s: AgentSpec): string => `/ip6/${s.address}/tcp/${AGENT_PORT}/p2p/${s.peerId}`
  for (const s of specs) {
    const h = hosts.find(x => x.id === s.host)!
    const config: Record<string, Json> = {
      cluster: LAB_CLUSTER,
      host: s.host,
      dc: s.dc,
      stateDir: join(root, s.host),
      // The lab is there to move VMs: say so (a config without mode only observes).
      mode: 'auto',
      listen: [`/ip6/${s.address}/tcp/${AGENT_PORT}`],
      bootstrap: specs.filter(o => o !== s).map(dial),
      pskFile,
      members,
      observers: [],
      topologyFile,
      address: s.address,
      capacity: { memoryMiB: h.memoryMiB, vcpus: h.vcpus },
      roundPeriodMs: init.roundPeriodMs,
      planner: labPlanner(init.planner),
      reservationTtlMs: init.roundPeriodMs * RESERVATION_TTL_ROUNDS,
      migrationDeadlineMs: MIGRATION_DEADLINE_MS,
      collector: { kind: 'nftables', hooks: ['bridge'], platformPrefixes: [init.state.vmPrefix] },
      hypervisor: { kind: 'lab', dir: init.dir },
      // Eight agents share two cores: the crowded-host timeouts.
      crowded: true
    }
    parseConfig(config, LAB_DRIVERS) // what the agent will check at start, checked now
    await writeFile(s.configPath, JSON.stringify(config, null, 2) + '\n')
  }
  return specs
}
