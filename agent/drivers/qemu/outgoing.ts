/**
 * The source's record of a migration until its hand-over is settled
 * (`<vm>.outgoing` in the driver's directory): the target host and round,
 * for an agent restarted after kill -9 (QemuDriver.settleOutgoing).
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import type { OutgoingMove } from '../types.ts'
import type { VmPaths } from './config.ts'

const OUTGOING_SUFFIX = '.outgoing'

export async function writeOutgoing (paths: VmPaths, move: OutgoingMove): Promise<void> {
  await writeFile(paths.outgoing, JSON.stringify(move))
}

export async function removeOutgoing (paths: VmPaths): Promise<void> {
  await rm(paths.outgoing, { force: true })
}

/** The VMs in `dir` with a record. */
export async function outgoingIds (dir: string): Promise<string[]> {
  return (await readdir(dir)).filter(n => n.endsWith(OUTGOING_SUFFIX)).map(n => n.slice(0, -OUTGOING_SUFFIX.length))
}

/** The record; undefined when missing or not one (a torn write: the move is then unknown). */
export async function readOutgoing (paths: VmPaths): Promise<OutgoingMove | undefined> {
  try {
    const v = JSON.parse(await readFile(paths.outgoing, 'utf8')) as Partial<OutgoingMove>
    return typeof v.to === 'string' && Number.isInteger(v.round) ? { to: v.to, round: v.round! } : undefined
  } catch {
    return undefined
  }
}
