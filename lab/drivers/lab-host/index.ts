/** The lab hypervisor's entry: its factory and its config kind (`hypervisor: { kind: 'lab', dir }`, `dir` the lab's state directory). */
import { z } from 'zod'
import { closed, nonEmpty } from '../../../agent/config-issues.ts'
import type { DriverFactory, DriverKind } from '../../../agent/drivers/kinds.ts'
import { LabHypervisor } from './driver.ts'

export function labHypervisor (init: { dir: string }): DriverFactory<LabHypervisor> {
  return (components) => new LabHypervisor(components, init)
}

const LAB_SECTION = closed({
  kind: z.literal('lab'),
  dir: nonEmpty().meta({ description: "The lab's state directory." })
})

export type LabSection = z.output<typeof LAB_SECTION>

export const LAB_KIND: DriverKind<LabSection, LabHypervisor> = {
  section: LAB_SECTION,
  factory (section) {
    return labHypervisor({ dir: section.dir })
  }
}
