/**
 * The real sim hypervisor and traffic source for one host, made to read a
 * SharedSimWorld instead of each opening the world directory on its own.
 *
 * The drivers build their SimWorld privately from a directory path and take
 * no instance, so the shared one is put in its place after construction. The
 * swap checks that the slot exists and holds a SimWorld, and fails loudly if
 * the drivers ever change shape. (A driver option accepting a SimWorld would
 * make this unnecessary; agent/ is not ours to change here.)
 */
import type { AgentConfig } from '../../agent/config.ts'
import { makeCollector, makeHypervisor } from '../../agent/daemon.ts'
import { SimWorld } from '../../agent/drivers/sim/world.ts'
import type { CollectorFactory, HypervisorFactory } from '../../agent/drivers/kinds.ts'
import type { SharedSimWorld } from './shared-world.ts'

/** The name of the drivers' private SimWorld field. */
const WORLD_FIELD = 'world'

export function sharedSimDrivers (config: AgentConfig, world: SharedSimWorld): { hypervisor: HypervisorFactory, collector: CollectorFactory } {
  const hypervisor = makeHypervisor(config)
  const collector = makeCollector(config)
  useWorld(hypervisor, world)
  useWorld(collector, world)
  return { hypervisor: () => hypervisor, collector: () => collector }
}

function useWorld (driver: object, world: SharedSimWorld): void {
  const current: unknown = Reflect.get(driver, WORLD_FIELD)
  if (!(current instanceof SimWorld) || current.dir !== world.dir) {
    throw new Error(`driver ${driver.constructor.name} has no SimWorld field "${WORLD_FIELD}" for ${world.dir}; the sim drivers changed`)
  }
  Reflect.set(driver, WORLD_FIELD, world)
}
