/**
 * Test helper: what two real agents read at start: a pre-shared key, each
 * host's peer key (made up front so every peer id goes into both member and
 * bootstrap lists), a 2-DC topology and one config per host with the `qemu`
 * hypervisor driver and the `file` collector.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseConfig } from '../../../../agent/config.ts'
import { vmPaths } from '../../../../agent/drivers/qemu/config.ts'
import type { QemuDriver } from '../../../../agent/drivers/qemu/driver.ts'
import { killQemu } from '../../../../agent/drivers/qemu/process.ts'
import { generatePsk, loadOrCreatePeerKey } from '../../../../agent/net/keys.ts'
import type { Json } from '../../../../lib/check.ts'
import { labPlanner } from '../../../../lab/lab-planner.ts'

export const AGENT_PORT = 4001

export interface AgentHostSpec {
  host: string
  dc: string
  /** The host's IPv6 address in its namespace (gossip and migrations). */
  address: string
  /** The QEMU driver's directory. */
  vmDir: string
  /** The file collector's input. */
  flowFile: string
  capacity: { memoryMiB: number, vcpus: number }
}

export interface AgentFiles {
  host: string
  configPath: string
  stateDir: string
}

export interface ClusterFilesInit {
  dir: string
  cluster: string
  hosts: AgentHostSpec[]
  /** Bidirectional WAN link capacity between every two DCs, in bit/s. */
  linkBps: number
  roundPeriodMs: number
  /** Merged into each config: planner, safety, deadlines. */
  extra: Record<string, Json>
  /** The qemu driver's migration section (e.g. a bandwidth cap), for every host. */
  qemuMigration?: Record<string, Json>
}

export async function writeAgentFiles (init: ClusterFilesInit): Promise<AgentFiles[]> {
  const pskFile = join(init.dir, 'psk')
  await writeFile(pskFile, generatePsk(), { mode: 0o600 })
  const dcs = [...new Set(init.hosts.map(h => h.dc))]
  const topologyFile = join(init.dir, 'topology.json')
  const links = dcs.flatMap(from => dcs.filter(to => to !== from).map(to => ({ from, to, capacityBps: init.linkBps })))
  await writeFile(topologyFile, JSON.stringify({ dcs: dcs.map(id => ({ id })), links, prefixes: [] }, null, 2) + '\n')
  const peers = []
  for (const h of init.hosts) {
    const stateDir = join(init.dir, `agent-${h.host}`)
    await mkdir(stateDir, { recursive: true, mode: 0o700 })
    peers.push({ spec: h, stateDir, peerId: (await loadOrCreatePeerKey(stateDir)).peerId })
  }
  const members = peers.map(p => ({ host: p.spec.host, peerId: p.peerId }))
  const out: AgentFiles[] = []
  for (const p of peers) {
    const config: Record<string, Json> = {
      cluster: init.cluster,
      host: p.spec.host,
      dc: p.spec.dc,
      stateDir: p.stateDir,
      // These agents migrate guests: say so (a config without mode only observes).
      mode: 'auto',
      listen: [`/ip6/${p.spec.address}/tcp/${AGENT_PORT}`],
      bootstrap: peers.filter(o => o !== p).map(o => `/ip6/${o.spec.address}/tcp/${AGENT_PORT}/p2p/${o.peerId}`),
      pskFile,
      members,
      observers: [],
      topologyFile,
      address: p.spec.address,
      capacity: p.spec.capacity,
      roundPeriodMs: init.roundPeriodMs,
      collector: { kind: 'file', path: p.spec.flowFile },
      hypervisor: { kind: 'qemu', dir: p.spec.vmDir, ...(init.qemuMigration !== undefined ? { migration: init.qemuMigration } : {}) },
      // The API is not what this test is about; off, so no port is taken.
      api: { enabled: false },
      crowded: true,
      ...init.extra,
      // Lab flows are far too small to pay back a VM's copy within the agents' default hour.
      planner: labPlanner((init.extra.planner ?? {}) as Record<string, Json>)
    }
    parseConfig(config) // what the agent checks at start, checked here with a readable error
    const configPath = join(p.stateDir, 'config.json')
    await writeFile(configPath, JSON.stringify(config, null, 2) + '\n')
    out.push({ host: p.spec.host, configPath, stateDir: p.stateDir })
  }
  return out
}

/** Test teardown: stops each driver and kills every guest it left a pid file for (a guest outlives its driver by design). */
export async function stopDriversAndGuests (drivers: readonly QemuDriver[]): Promise<void> {
  for (const d of drivers) {
    await d.stop().catch(() => undefined)
    const names = await readdir(d.dir).catch(() => [] as string[])
    await Promise.all(names.filter(n => n.endsWith('.pid')).map(async n => { await killQemu(vmPaths(d.dir, n.slice(0, -'.pid'.length))).catch(() => undefined) }))
  }
}
