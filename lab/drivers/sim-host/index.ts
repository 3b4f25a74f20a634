/**
 * The sim drivers' entry: their factories and config kinds, a hypervisor
 * (`{ kind: 'sim', world, bandwidthBps?, timeScale? }`) and a collector
 * (`{ kind: 'sim', world }`) over one SimWorld directory.
 */
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

export interface SimHypervisorSection {
  kind: 'sim'
  world: string
  bandwidthBps: number
  timeScale: number
}

export interface SimCollectorSection {
  kind: 'sim'
  world: string
}

export function isSimHypervisorSection (section: DriverSection): section is SimHypervisorSection {
  return section.kind === 'sim'
}

export function isSimCollectorSection (section: DriverSection): section is SimCollectorSection {
  return section.kind === 'sim'
}

export const SIM_HYPERVISOR_KIND: DriverKind<SimHypervisorSection, SimHypervisor> = {
  read (c, path, o) {
    c.onlyKeys(path, o, ['kind', 'world', 'bandwidthBps', 'timeScale'])
    return {
      kind: 'sim',
      world: c.string(`${path}.world`, o.world) ?? '',
      bandwidthBps: o.bandwidthBps === undefined ? SECTION_BANDWIDTH_BPS : c.number(`${path}.bandwidthBps`, o.bandwidthBps, { positive: true }) ?? SECTION_BANDWIDTH_BPS,
      timeScale: o.timeScale === undefined ? SECTION_TIME_SCALE : c.number(`${path}.timeScale`, o.timeScale, { min: 0 }) ?? SECTION_TIME_SCALE
    }
  },
  factory (section) {
    return simHypervisor({ world: section.world, bandwidthBps: section.bandwidthBps, timeScale: section.timeScale })
  }
}

export const SIM_COLLECTOR_KIND: DriverKind<SimCollectorSection, SimCollector> = {
  read (c, path, o) {
    c.onlyKeys(path, o, ['kind', 'world'])
    return { kind: 'sim', world: c.string(`${path}.world`, o.world) ?? '' }
  },
  factory (section) {
    return simCollector({ world: section.world })
  }
}
