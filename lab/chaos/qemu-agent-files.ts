/**
 * What the QEMU chaos run's agents read at start: the lab's cluster files
 * (psk, peer keys known up front, topology), but each config with the
 * `qemu` hypervisor (its own VM directory) and the `file` collector (the
 * run plays the flow exporter), mode auto, no API.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseConfig } from '../../agent/config.ts'
import { generatePsk, loadOrCreatePeerKey } from '../../agent/net/keys.ts'
import type { Json } from '../../lib/check.ts'
import { LAB_DRIVERS } from '../drivers/index.ts'
import type { LabState } from '../drivers/lab-host/state.ts'
import { AGENT_PORT, type AgentSpec } from '../run/cluster-files.ts'
import { labPlanner } from '../lab-planner.ts'

export interface QemuAgentHost { host: string, dc: string, vmDir: string, flowFile: string }

export interface QemuAgentInit {
  dir: string
  state: LabState
  hosts: QemuAgentHost[]
  roundPeriodMs: number
  /** Between the two DCs, both ways, in bit/s. */
  linkBps: number
  capacity: { memoryMiB: number, vcpus: number }
  /** DC -> the prefix of its clients (what the guests talk to). */
  clientPrefixes: Record<string, string>
}

export async function writeQemuAgentFiles (init: QemuAgentInit): Promise<AgentSpec[]> {
  const root = join(init.dir, 'agents')
  await mkdir(root, { recursive: true })
  const pskFile = join(root, 'psk')
  await writeFile(pskFile, generatePsk(), { mode: 0o600 })
  const dcs = [...new Set(init.hosts.map(h => h.dc))]
  const topologyFile = join(root, 'topology.json')
  const links = dcs.flatMap(from => dcs.filter(to => to !== from).map(to => ({ from, to, capacityBps: init.linkBps })))
  const prefixes = Object.entries(init.clientPrefixes).map(([dc, prefix]) => ({ id: `clients-${dc}`, prefix, dc }))
  await writeFile(topologyFile, JSON.stringify({ dcs: dcs.map(id => ({ id })), links, prefixes }, null, 2) + '\n')
  const specs: AgentSpec[] = []
  for (const h of init.hosts) {
    const stateDir = join(root, h.host)
    await mkdir(stateDir, { recursive: true, mode: 0o700 })
    const s = init.state.hosts[h.host]!
    specs.push({ host: h.host, dc: h.dc, ns: s.ns, address: s.address, peerId: (await loadOrCreatePeerKey(stateDir)).peerId, configPath: join(stateDir, 'config.json') })
  }
  const members = specs.map(s => ({ host: s.host, peerId: s.peerId }))
  for (const [i, s] of specs.entries()) {
    const h = init.hosts[i]!
    const config: Record<string, Json> = {
      cluster: 'htqemuchaos',
      host: s.host,
      dc: s.dc,
      stateDir: join(root, s.host),
      mode: 'auto',
      listen: [`/ip6/${s.address}/tcp/${AGENT_PORT}`],
      bootstrap: specs.filter(o => o !== s).map(o => `/ip6/${o.address}/tcp/${AGENT_PORT}/p2p/${o.peerId}`),
      pskFile,
      members,
      observers: [],
      topologyFile,
      address: s.address,
      capacity: init.capacity,
      roundPeriodMs: init.roundPeriodMs,
      collector: { kind: 'file', path: h.flowFile },
      // 8 MiB/s: a guest's few dozen MiB take seconds to cross, so a kill -9 lands mid-migration.
      hypervisor: { kind: 'qemu', dir: h.vmDir, migration: { maxBandwidthBytesPerSec: 8 * 2 ** 20 } },
      // One move per plan, one migration in flight: TCG guests on two shared cores.
      planner: labPlanner({ maxMoves: 1, maxMovesPerHost: 1, minGain: 0.01 }),
      safety: { maxInFlight: 1 },
      migrationDeadlineMs: 60_000,
      reservationTtlMs: 60_000,
      api: { enabled: false },
      crowded: true
    }
    parseConfig(config, LAB_DRIVERS) // what the agent checks at start, checked here with a readable error
    await writeFile(s.configPath, JSON.stringify(config, null, 2) + '\n')
  }
  return specs
}
