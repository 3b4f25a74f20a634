/**
 * The sandbox's directory: a simulated world (lab/sim/scenario-world.ts), a
 * PSK, the topology, and per agent a peer key and a config file as an
 * operator would write one, naming the lab's sim drivers. Every agent
 * listens on a fixed port of [::1], so each config can list the others'
 * addresses to dial, and serves its API on a fixed port of its own.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseConfig } from '../../agent/config.ts'
import type { Mode } from '../../agent/policy/mode.ts'
import { generatePsk, loadOrCreatePeerKey, STATE_DIR_MODE } from '../../agent/net/keys.ts'
import type { ScenarioKind } from '../../lib/scenario.ts'
import { LAB_DRIVERS } from '../drivers/index.ts'
import { SimWorld } from '../drivers/sim-host/world.ts'
import { freeLoopbackPorts } from '../sim/free-ports.ts'
import { worldFromScenario } from '../sim/scenario-world.ts'

export interface SandboxOptions {
  agents: number
  vms: number
  dcs: number
  kind: ScenarioKind
  seed: number
  mode: Mode
  roundPeriodMs: number
  /** Simulated migration speed: 1 = real time at 1 Gbit/s. */
  timeScale: number
}

export interface SandboxAgent {
  host: string
  dc: string
  configPath: string
  /** The agent's API, as `--api` takes it. */
  api: string
  logPath: string
}

export interface SandboxFiles {
  dir: string
  agents: SandboxAgent[]
  vms: number
  /** A VM of the world, to name in the printed examples. */
  someVm: string
  dcs: string[]
}

const SIM_BANDWIDTH_BPS = 1e9

/** Writes the sandbox into `dir` (which exists and is empty). */
export async function writeSandbox (dir: string, o: SandboxOptions): Promise<SandboxFiles> {
  const spec = worldFromScenario({ agents: o.agents, vms: o.vms, dcs: o.dcs, kind: o.kind, seed: o.seed })
  const world = new SimWorld(join(dir, 'world'))
  await world.init(spec.vms, spec.traffic)
  const topologyFile = join(dir, 'topology.json')
  await writeFile(topologyFile, JSON.stringify(spec.topology, null, 2) + '\n')
  const pskFile = join(dir, 'psk')
  await writeFile(pskFile, generatePsk(), { mode: 0o600 })

  // Node ports then API ports, all known before any agent starts.
  const ports = await freeLoopbackPorts(2 * spec.hosts.length)
  const members = []
  for (const [i, h] of spec.hosts.entries()) {
    const stateDir = join(dir, h.host)
    await mkdir(stateDir, { recursive: true, mode: STATE_DIR_MODE })
    const key = await loadOrCreatePeerKey(stateDir)
    members.push({ host: h.host, peerId: key.peerId, dc: h.dc, addresses: [`/ip6/::1/tcp/${ports[i]!}/p2p/${key.peerId}`] })
  }

  const agents: SandboxAgent[] = []
  for (const [i, h] of spec.hosts.entries()) {
    const stateDir = join(dir, h.host)
    const config = {
      cluster: 'sandbox',
      host: h.host,
      dc: h.dc,
      stateDir,
      listen: [`/ip6/::1/tcp/${ports[i]!}`],
      bootstrap: members.filter(m => m.host !== h.host).flatMap(m => m.addresses),
      pskFile,
      members,
      topologyFile,
      // ULA addresses (fd00::/8): the sim hypervisor moves no packets, the config needs one.
      address: `fd00:5a::${(i + 1).toString(16)}`,
      capacity: { memoryMiB: h.memoryMiB, vcpus: h.vcpus },
      mode: o.mode,
      roundPeriodMs: o.roundPeriodMs,
      api: { listen: '::1', port: ports[spec.hosts.length + i]! },
      collector: { kind: 'sim', world: world.dir },
      hypervisor: { kind: 'sim', world: world.dir, bandwidthBps: SIM_BANDWIDTH_BPS, timeScale: o.timeScale },
      // Several agents share this machine's cores (docs/design.md: crowded hosts).
      crowded: true
    }
    parseConfig(config, LAB_DRIVERS) // what the sandbox writes must load
    const configPath = join(stateDir, 'config.json')
    await writeFile(configPath, JSON.stringify(config, null, 2) + '\n')
    agents.push({ host: h.host, dc: h.dc, configPath, api: `[::1]:${ports[spec.hosts.length + i]!}`, logPath: join(stateDir, 'agent.log') })
  }
  return { dir, agents, vms: spec.vms.length, someVm: spec.vms[0]!.id, dcs: spec.topology.dcs.map(d => d.id) }
}
