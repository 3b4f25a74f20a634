/** The file collector's entry: its factory and its config kind (`collector: { kind: 'file', path }`: JSON flow lines from a file, a FIFO or standard input "-"). */
import type { DriverFactory, DriverKind } from '../kinds.ts'
import { FileCollector, type FileCollectorInit } from './collector.ts'

export function file (init: FileCollectorInit): DriverFactory<FileCollector> {
  return (components) => new FileCollector(components, init)
}

export interface FileSection {
  kind: 'file'
  path: string
}

export const FILE_KIND: DriverKind<FileSection, FileCollector> = {
  read (c, path, o) {
    c.onlyKeys(path, o, ['kind', 'path'])
    return { kind: 'file', path: c.string(`${path}.path`, o.path) ?? '' }
  },
  factory (section) {
    return file({ path: section.path })
  }
}
