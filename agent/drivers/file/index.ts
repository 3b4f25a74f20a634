/** The file collector's entry: its factory and its config kind (`collector: { kind: 'file', path }`: JSON flow lines from a file, a FIFO or standard input "-"). */
import { z } from 'zod'
import { closed, nonEmpty } from '../../config-issues.ts'
import type { DriverFactory, DriverKind } from '../kinds.ts'
import { FileCollector, type FileCollectorInit } from './collector.ts'

export function file (init: FileCollectorInit): DriverFactory<FileCollector> {
  return (components) => new FileCollector(components, init)
}

const FILE_SECTION = closed({
  kind: z.literal('file'),
  path: nonEmpty().meta({ description: 'Flow records as JSON lines: a file, a FIFO or - for stdin.' })
})

export type FileSection = z.output<typeof FILE_SECTION>

export const FILE_KIND: DriverKind<FileSection, FileCollector> = {
  section: FILE_SECTION,
  factory (section) {
    return file({ path: section.path })
  }
}
