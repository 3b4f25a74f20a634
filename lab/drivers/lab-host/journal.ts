/**
 * The lab driver's record of moves in progress (moves/<vm>.json in the lab's
 * directory), written by the source before it touches the VM and removed
 * when the move is over. In the lab the driver is the hypervisor: when its
 * agent is killed between moving a vif and wiring it, the VM sits unplugged
 * in the target's namespace and nothing else knows. The source's driver
 * finds the record when its agent starts again and finishes or undoes the
 * move (driver.ts, recover()), as a hypervisor finishes its jobs after a
 * restart.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { writeJsonAtomic } from './state.ts'

export const MOVE_JOURNAL_DIR = 'moves'

export interface MoveRecord {
  vm: string
  from: string
  to: string
  atMs: number
}

const path = (dir: string, vm: string): string => join(dir, MOVE_JOURNAL_DIR, `${encodeURIComponent(vm)}.json`)

export async function recordMove (dir: string, move: MoveRecord): Promise<void> {
  await mkdir(join(dir, MOVE_JOURNAL_DIR), { recursive: true })
  await writeJsonAtomic(path(dir, move.vm), move)
}

export async function clearMove (dir: string, vm: string): Promise<void> {
  await rm(path(dir, vm), { force: true })
}

/** The moves recorded by `host` as source that never finished. */
export async function unfinishedMoves (dir: string, host: string): Promise<MoveRecord[]> {
  let names: string[]
  try { names = await readdir(join(dir, MOVE_JOURNAL_DIR)) } catch { return [] }
  const out: MoveRecord[] = []
  for (const n of names.filter(n => n.endsWith('.json'))) {
    try {
      const r = JSON.parse(await readFile(join(dir, MOVE_JOURNAL_DIR, n), 'utf8')) as Partial<MoveRecord>
      if (typeof r.vm === 'string' && r.from === host && typeof r.to === 'string') out.push({ vm: r.vm, from: r.from, to: r.to, atMs: Number(r.atMs) })
    } catch { /* a temporary file being renamed; the rename makes the next read whole */ }
  }
  return out
}
