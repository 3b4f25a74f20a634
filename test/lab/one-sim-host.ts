/**
 * A one-host cluster on the lab's sim drivers, on disk: peer key, PSK,
 * topology, a world with one VM, and the config naming them. For tests that
 * run `heliotrope lab agent` as a process of its own.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generatePsk, loadOrCreatePeerKey } from '../../agent/net/keys.ts'
import { SimWorld } from '../../lab/drivers/sim-host/world.ts'

export interface OneSimHost {
  /** The config file written in `dir`. */
  path: string
  peerId: string
  config: Record<string, unknown>
}

/** Writes the host's files into `dir` and its config (`parts` on top) to `dir`/config.json. */
export async function oneSimHost (dir: string, cluster: string, parts: Record<string, unknown> = {}): Promise<OneSimHost> {
  const key = await loadOrCreatePeerKey(join(dir, 'state'))
  await writeFile(join(dir, 'psk'), generatePsk(), { mode: 0o600 })
  await writeFile(join(dir, 'topology.json'), JSON.stringify({ dcs: [{ id: 'A' }], links: [] }))
  await new SimWorld(join(dir, 'world')).init([{ id: 'vm1', host: 'h1', memoryMiB: 512, vcpus: 1, addresses: ['fd00::5'] }], { flows: [], prefixes: [] })
  const config = {
    cluster, host: 'h1', dc: 'A', stateDir: join(dir, 'state'), listen: ['/ip6/::1/tcp/0'], pskFile: join(dir, 'psk'),
    members: [{ host: 'h1', peerId: key.peerId }], topologyFile: join(dir, 'topology.json'), address: 'fd00::1',
    capacity: { memoryMiB: 4096, vcpus: 4 }, roundPeriodMs: 1000,
    collector: { kind: 'sim', world: join(dir, 'world') }, hypervisor: { kind: 'sim', world: join(dir, 'world') },
    ...parts
  }
  const path = join(dir, 'config.json')
  await writeFile(path, JSON.stringify(config))
  return { path, peerId: key.peerId, config }
}
