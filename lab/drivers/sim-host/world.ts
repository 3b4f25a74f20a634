/**
 * The simulated world the `sim` drivers share: a directory with one JSON file
 * per VM (where it runs) and a traffic model. Writes are atomic (write, then
 * rename), so a VM file always names exactly one host, even when agents in
 * several processes move VMs at once: invariant 1 holds by construction and
 * tests can check it by reading the directory.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Flow } from '../../../lib/model.ts'

export interface SimVm {
  id: string
  host: string
  memoryMiB: number
  vcpus: number
  addresses: string[]
  pinned?: boolean
}

export interface SimTraffic {
  flows: Flow[]
  /** External prefixes by id, for addresses of flows to the outside. */
  prefixes: Array<{ id: string, prefix: string }>
}

/**
 * A listing is kept only if the directory had not changed for this long
 * before we looked: file times are coarse (a clock tick), so a write in the
 * same tick as our look could leave the directory's mtime as it was.
 */
const RACY_MS = 100

interface Listing { mtimeNs: bigint, vms: SimVm[] }

/**
 * The last listing of each world directory, by the directory's mtime, for
 * every SimWorld in this process. Every write renames a file into the
 * directory, which changes its mtime, so an unchanged mtime means unchanged
 * VMs, also when agents in other processes write. Without it, each agent
 * read every VM file twice a round: at 64 agents on two cores that held a
 * host's state back by seconds. Shared by the agents of one process because
 * after a migration every agent rereads: with a listing per agent, a lab
 * process of four agents read the world's 256 files four times, 15% of its
 * CPU (a stand-in for the hypervisor that a real host does not pay).
 */
const listings = new Map<string, Listing>()

export class SimWorld {
  readonly dir: string
  constructor (dir: string) {
    this.dir = dir
  }

  private vmPath (id: string): string {
    return join(this.dir, 'vms', `${encodeURIComponent(id)}.json`)
  }

  async init (vms: SimVm[], traffic: SimTraffic): Promise<void> {
    await mkdir(join(this.dir, 'vms'), { recursive: true })
    for (const vm of vms) await this.write(vm)
    await this.setTraffic(traffic)
  }

  async vms (): Promise<SimVm[]> {
    return (await listVms(join(this.dir, 'vms'))).map(v => ({ ...v }))
  }

  async vm (id: string): Promise<SimVm | undefined> {
    try { return JSON.parse(await readFile(this.vmPath(id), 'utf8')) as SimVm } catch { return undefined }
  }

  async write (vm: SimVm): Promise<void> {
    const tmp = `${this.vmPath(vm.id)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
    await writeFile(tmp, JSON.stringify(vm))
    await rename(tmp, this.vmPath(vm.id))
  }

  async traffic (): Promise<SimTraffic> {
    try { return JSON.parse(await readFile(join(this.dir, 'traffic.json'), 'utf8')) as SimTraffic } catch { return { flows: [], prefixes: [] } }
  }

  async setTraffic (traffic: SimTraffic): Promise<void> {
    const tmp = join(this.dir, `traffic.json.${process.pid}.tmp`)
    await writeFile(tmp, JSON.stringify(traffic))
    await rename(tmp, join(this.dir, 'traffic.json'))
  }

  /** VMs whose next migration fails (the "can be told to fail" knob). */
  async failing (): Promise<Set<string>> {
    try { return new Set(JSON.parse(await readFile(join(this.dir, 'fail.json'), 'utf8')) as string[]) } catch { return new Set() }
  }

  async setFailing (ids: string[]): Promise<void> {
    await writeFile(join(this.dir, 'fail.json'), JSON.stringify(ids))
  }

  /** VMs whose migrations take this many times longer (the "slow" knob). */
  async slowdown (): Promise<Record<string, number>> {
    try { return JSON.parse(await readFile(join(this.dir, 'slow.json'), 'utf8')) as Record<string, number> } catch { return {} }
  }

  async setSlowdown (factors: Record<string, number>): Promise<void> {
    await writeFile(join(this.dir, 'slow.json'), JSON.stringify(factors))
  }

  private incomingPath (vm: string, host: string): string {
    return join(this.dir, 'incoming', `${encodeURIComponent(vm)}@${encodeURIComponent(host)}`)
  }

  /**
   * Marks `vm` as awaited (or no longer) at `host`: a real target prepares
   * the incoming VM (QEMU -incoming, a paused domain) before the source
   * sends it, and the migration fails if the target drops it. One file per
   * (VM, host), apart from the VM's own file, so the two sides never
   * overwrite each other's writes.
   */
  async setIncoming (vm: string, host: string, awaited: boolean): Promise<void> {
    if (awaited) {
      await mkdir(join(this.dir, 'incoming'), { recursive: true })
      await writeFile(this.incomingPath(vm, host), '')
    } else {
      await rm(this.incomingPath(vm, host), { force: true })
    }
  }

  async isIncoming (vm: string, host: string): Promise<boolean> {
    try { await stat(this.incomingPath(vm, host)); return true } catch { return false }
  }

  /** The VMs `host` awaits. */
  async incomingAt (host: string): Promise<string[]> {
    let names: string[]
    try { names = await readdir(join(this.dir, 'incoming')) } catch { return [] }
    const suffix = `@${encodeURIComponent(host)}`
    return names.filter(n => n.endsWith(suffix)).map(n => decodeURIComponent(n.slice(0, -suffix.length)))
  }
}

/** The VMs of a world's directory: the kept listing while the directory is unchanged. */
async function listVms (dir: string): Promise<SimVm[]> {
  let mtimeNs: bigint
  let names: string[]
  const before = Date.now()
  try {
    mtimeNs = (await stat(dir, { bigint: true })).mtimeNs
    const kept = listings.get(dir)
    if (kept?.mtimeNs === mtimeNs) return kept.vms
    names = await readdir(dir)
  } catch { return [] }
  const files = names.filter(n => n.endsWith('.json')).sort()
  const read = await Promise.all(files.map(async n => {
    try { return JSON.parse(await readFile(join(dir, n), 'utf8')) as SimVm } catch { return undefined /* being replaced: the rename makes the next read whole */ }
  }))
  const out = read.filter((v): v is SimVm => v !== undefined)
  const whole = out.length === files.length
  if (whole && before - Number(mtimeNs / 1_000_000n) > RACY_MS) listings.set(dir, { mtimeNs, vms: out })
  return out
}
