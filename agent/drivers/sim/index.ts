/**
 * The sim drivers' entry: their factories and config kinds, a hypervisor
 * (`{ kind: 'sim', world, bandwidthBps?, timeScale? }`) and a collector
 * (`{ kind: 'sim', world }`) over one SimWorld directory.
 */
import type { DriverFactory, DriverKind } from '../kinds.ts'
import { SimCollector } from './collector.ts'
import { SimHypervisor, type SimHypervisorInit } from './hypervisor.ts'

/** Simulated migration speed when the section names none. */
export const DEFAULT_SIM_BANDWIDTH_BPS = 1e9
/** Real time at that speed. */
export const DEFAULT_SIM_TIME_SCALE = 1

export function simHypervisor (init: Omit<SimHypervisorInit, 'host' | 'address'>): DriverFactory<SimHypervisor> {
  return (components) => new SimHypervisor({ ...init, host: components.host, address: components.address })
}

export function simCollector (init: { world: string }): DriverFactory<SimCollector> {
  return (components) => new SimCollector({ world: init.world, host: components.host })
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

export const SIM_HYPERVISOR_KIND: DriverKind<SimHypervisorSection, SimHypervisor> = {
  read (c, path, o) {
    c.onlyKeys(path, o, ['kind', 'world', 'bandwidthBps', 'timeScale'])
    return {
      kind: 'sim',
      world: c.string(`${path}.world`, o.world) ?? '',
      bandwidthBps: o.bandwidthBps === undefined ? DEFAULT_SIM_BANDWIDTH_BPS : c.number(`${path}.bandwidthBps`, o.bandwidthBps, { positive: true }) ?? DEFAULT_SIM_BANDWIDTH_BPS,
      timeScale: o.timeScale === undefined ? DEFAULT_SIM_TIME_SCALE : c.number(`${path}.timeScale`, o.timeScale, { min: 0 }) ?? DEFAULT_SIM_TIME_SCALE
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
