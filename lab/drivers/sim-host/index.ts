/**
 * The sim drivers' entry: their factories and config kinds, a hypervisor
 * (`{ kind: 'sim', world, bandwidthBps?, timeScale? }`) and a collector
 * (`{ kind: 'sim', world }`) over one SimWorld directory.
 */
import { z } from 'zod'
import { closed, nonEmpty } from '../../../agent/config-issues.ts'
import type { DriverFactory, DriverKind, DriverSection } from '../../../agent/drivers/kinds.ts'
import { SimCollector } from './collector.ts'
import { SimHypervisor, type SimHypervisorInit } from './hypervisor.ts'
import type { SimWorld } from './world.ts'

/** A section's defaults: 1 Gbit/s in real time (lab/sim/cluster.ts sets its own, faster). */
const SECTION_BANDWIDTH_BPS = 1e9
const SECTION_TIME_SCALE = 1

export function simHypervisor (init: SimHypervisorInit): DriverFactory<SimHypervisor> {
  return (components) => new SimHypervisor(components, init)
}

export function simCollector (init: { world: string | SimWorld }): DriverFactory<SimCollector> {
  return (components) => new SimCollector(components, init)
}

const SIM_HYPERVISOR_SECTION = closed({
  kind: z.literal('sim'),
  world: nonEmpty().meta({ description: 'The SimWorld directory.' }),
  bandwidthBps: z.number().positive().default(SECTION_BANDWIDTH_BPS),
  timeScale: z.number().min(0).default(SECTION_TIME_SCALE)
})

const SIM_COLLECTOR_SECTION = closed({
  kind: z.literal('sim'),
  world: nonEmpty().meta({ description: 'The SimWorld directory.' })
})

export type SimHypervisorSection = z.output<typeof SIM_HYPERVISOR_SECTION>
export type SimCollectorSection = z.output<typeof SIM_COLLECTOR_SECTION>

export function isSimHypervisorSection (section: DriverSection): section is SimHypervisorSection {
  return section.kind === 'sim'
}

export function isSimCollectorSection (section: DriverSection): section is SimCollectorSection {
  return section.kind === 'sim'
}

export const SIM_HYPERVISOR_KIND: DriverKind<SimHypervisorSection, SimHypervisor> = {
  section: SIM_HYPERVISOR_SECTION,
  factory (section) {
    return simHypervisor({ world: section.world, bandwidthBps: section.bandwidthBps, timeScale: section.timeScale })
  }
}

export const SIM_COLLECTOR_KIND: DriverKind<SimCollectorSection, SimCollector> = {
  section: SIM_COLLECTOR_SECTION,
  factory (section) {
    return simCollector({ world: section.world })
  }
}
