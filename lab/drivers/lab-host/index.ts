/** The lab hypervisor's entry: its factory and its config kind (`hypervisor: { kind: 'lab', dir }`, `dir` the lab's state directory). */
import type { DriverFactory, DriverKind } from '../../../agent/drivers/kinds.ts'
import { LabHypervisor } from './driver.ts'

export function labHypervisor (init: { dir: string }): DriverFactory<LabHypervisor> {
  return (components) => new LabHypervisor(components, init)
}

export interface LabSection {
  kind: 'lab'
  dir: string
}

export const LAB_KIND: DriverKind<LabSection, LabHypervisor> = {
  read (c, path, o) {
    c.onlyKeys(path, o, ['kind', 'dir'])
    return { kind: 'lab', dir: c.string(`${path}.dir`, o.dir) ?? '' }
  },
  factory (section) {
    return labHypervisor({ dir: section.dir })
  }
}
