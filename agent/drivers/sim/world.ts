/**
 * The simulated world the `sim` drivers share: a directory with one JSON file
 * per VM (where it runs) and a traffic model. Writes are atomic (write, then
 * rename), so a VM file always names exactly one host, even when agents in
 * several processes move VMs at once: invariant 1 holds by construction and
 * tests can check it by reading the directory.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises'
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
    let names: string[]
    try { names = await readdir(join(this.dir, 'vms')) } catch { return [] }
    const out: SimVm[] = []
    for (const n of names.filter(n => n.endsWith('.json')).sort()) {
      try { out.push(JSON.parse(await readFile(join(this.dir, 'vms', n), 'utf8')) as SimVm) } catch { /* being replaced: the rename makes the next read whole */ }
    }
    return out
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
}
