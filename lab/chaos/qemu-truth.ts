/**
 * Where QEMU guests run, asked of QEMU itself, never of the agents: every
 * QMP socket in every host's driver directory answers `query-status`, and
 * a guest runs on a host only when its QEMU there says 'running'
 * (inmigrate, paused, postmigrate and the rest are not running). The result
 * is lib/invariants.ts's Placed list.
 *
 * A monitor serves one client at a time and an agent holds it for a whole
 * migration, so a read waits for it (generously), and reads of different
 * hosts are not one instant: a guest caught mid-switchover can look like it
 * runs on no host or on two. Such a guest is read again, all its hosts,
 * until two reads in a row agree (bounded); only what persists is reported.
 *
 * A guest mid hand-over (docs/design.md §6.1) runs nowhere for a moment:
 * its source's copy spent (postmigrate), its target's arrived and paused,
 * waiting for the source's agent to say "start". It waits as long as that
 * agent is dead (kill -9). Such a guest is reported apart (handingOver) and
 * placed on its target, where its room is held: never on two hosts, and
 * its wait is measured, not hidden.
 */
import { access, readdir } from 'node:fs/promises'
import type { Placed } from '../../lib/invariants.ts'
import { QMP_SUFFIX, readVmConfig, vmPaths } from '../../agent/drivers/qemu/config.ts'
import { QmpClient } from '../../agent/drivers/qemu/qmp.ts'

/** A monitor held by an agent's migration frees up when the migration ends; wait this long for it. */
export const MONITOR_WAIT_MS = 30_000
/** Reads of a guest seen on no host or on two, until two agree. */
const REREADS = 6
const REREAD_GAP_MS = 300

export interface QemuHostDir { host: string, dir: string }

/** One guest's QEMU on one host: its run state, or why it did not answer. */
export interface GuestState {
  vm: string
  host: string
  status: string
  memoryMiB: number
  vcpus: number
  /** An arrived copy the driver holds for its source's hand-over (its marker file is there). */
  awaitingHandOver: boolean
}

export interface QemuTruth {
  placed: Placed[]
  /** Guests mid hand-over: running nowhere, spent on the source, arrived and paused on the target (placed there). */
  handingOver: string[]
  /** Every QEMU found, running or not. */
  states: GuestState[]
  /** Guests re-read because a first read saw them on no host or on two. */
  reread: number
}

async function readGuest (h: QemuHostDir, vm: string): Promise<GuestState | undefined> {
  const config = await readVmConfig(h.dir, vm).catch(() => undefined)
  const size = { memoryMiB: config?.memoryMiB ?? 0, vcpus: config?.vcpus ?? 0, awaitingHandOver: await access(vmPaths(h.dir, vm).handover).then(() => true, () => false) }
  let qmp: QmpClient
  try {
    qmp = await QmpClient.connect(vmPaths(h.dir, vm).qmp, { timeoutMs: MONITOR_WAIT_MS })
  } catch (err) {
    // No QEMU behind the socket (it quit after a migration, or was never started): not there.
    const msg = (err as Error).message
    return /no greeting/.test(msg) ? { vm, host: h.host, status: `unanswered: ${msg}`, ...size } : undefined
  }
  try {
    const s = await qmp.execute<{ status: string }>('query-status')
    return { vm, host: h.host, status: s.status, ...size }
  } catch (err) {
    return { vm, host: h.host, status: `unanswered: ${(err as Error).message}`, ...size }
  } finally {
    qmp.close()
  }
}

async function guestsIn (h: QemuHostDir): Promise<string[]> {
  const names = await readdir(h.dir).catch(() => [] as string[])
  return names.filter(n => n.endsWith(QMP_SUFFIX)).map(n => n.slice(0, -QMP_SUFFIX.length))
}

async function readAll (hosts: readonly QemuHostDir[], only?: ReadonlySet<string>): Promise<GuestState[]> {
  const jobs = await Promise.all(hosts.map(async h => (await guestsIn(h)).filter(vm => only === undefined || only.has(vm)).map(vm => ({ h, vm }))))
  const states = await Promise.all(jobs.flat().map(async ({ h, vm }) => await readGuest(h, vm)))
  return states.filter((s): s is GuestState => s !== undefined)
}

const runningHosts = (states: readonly GuestState[], vm: string): string => states.filter(s => s.vm === vm && s.status === 'running').map(s => s.host).sort().join(',')

/** Where each of `vms` runs by its QEMUs' own word. */
export async function readQemuTruth (hosts: readonly QemuHostDir[], vms: ReadonlySet<string>, signal?: AbortSignal): Promise<QemuTruth> {
  let states = await readAll(hosts)
  const odd = new Set([...vms].filter(vm => states.filter(s => s.vm === vm && s.status === 'running').length !== 1))
  let reread = 0
  if (odd.size > 0) {
    reread = odd.size
    let previous = states
    for (let i = 0; i < REREADS && signal?.aborted !== true; i++) {
      await new Promise(resolve => setTimeout(resolve, REREAD_GAP_MS))
      const again = await readAll(hosts, odd)
      const stable = [...odd].every(vm => runningHosts(again, vm) === runningHosts(previous, vm))
      previous = again
      if (stable) break
    }
    states = [...states.filter(s => !odd.has(s.vm)), ...previous]
  }
  const handingOver = [...vms].filter(vm => {
    const copies = states.filter(s => s.vm === vm)
    return !copies.some(s => s.status === 'running') && copies.length === 2 &&
      copies.some(s => s.status === 'postmigrate') && copies.some(s => s.status === 'paused' && s.awaitingHandOver)
  })
  const placed = states
    .filter(s => s.status === 'running' || (handingOver.includes(s.vm) && s.status === 'paused'))
    .map(s => ({ vm: s.vm, host: s.host, memoryMiB: s.memoryMiB, vcpus: s.vcpus }))
  return { placed, handingOver, states, reread }
}
