/**
 * The sim hypervisor and traffic source for one host, reading a
 * SharedSimWorld instead of each opening the world directory on its own:
 * the same factories the config's sim kinds make, given the shared world.
 */
import type { AgentConfig } from '../../agent/config.ts'
import type { CollectorFactory, HypervisorFactory } from '../../agent/drivers/kinds.ts'
import { isSimCollectorSection, isSimHypervisorSection, simCollector, simHypervisor } from '../drivers/sim-host/index.ts'
import type { SharedSimWorld } from './shared-world.ts'

export function sharedSimDrivers (config: AgentConfig, world: SharedSimWorld): { hypervisor: HypervisorFactory, collector: CollectorFactory } {
  const h = config.hypervisor
  const c = config.collector
  if (!isSimHypervisorSection(h) || !isSimCollectorSection(c)) throw new Error(`host ${config.host} has ${h.kind} and ${c.kind} drivers; a shared sim world needs sim ones`)
  // The config names the world's directory; the shared world must be that one.
  for (const dir of [h.world, c.world]) if (dir !== world.dir) throw new Error(`host ${config.host}'s config names the world ${dir}, not the shared ${world.dir}`)
  return {
    hypervisor: simHypervisor({ world, bandwidthBps: h.bandwidthBps, timeScale: h.timeScale }),
    collector: simCollector({ world })
  }
}
